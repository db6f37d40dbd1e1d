"""/settings modules in the domain: a switched-off feature stops changing balances at once (also on paths
the interaction gate never sees: jobs, message listeners, other features' earnings), money
already owed still settles, and switching back on resumes. One test per row of the modules
table in docs/features.md (the boosts row also end to end in tests/cross/test_modules_commands.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from economy.challenges.repo import ChallengeRepo
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.modules import FeatureOff
from economy.currency.activity import ChatMessage
from economy.services import build_services
from tests.challenges.helpers import CHAT, QUIZ, fix_day
from tests.conftest import relax_offer_limits
from tests.directory import install

pytestmark = pytest.mark.timeout(60)


async def off(services, guild_id: int, feature: str) -> None:
    assert await services.modules.switch(guild_id, Actor(1, is_admin=True), feature, on=False)


async def on(services, guild_id: int, feature: str) -> None:
    assert await services.modules.switch(guild_id, Actor(1, is_admin=True), feature, on=True)


async def ok_audit(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


def said(guild_id: int, user_id: int, text: str, at: datetime, roles=()) -> ChatMessage:
    return ChatMessage(guild_id=guild_id, user_id=user_id, channel_id=1, role_ids=frozenset(roles),
                       content=text, author_is_bot=False, at=at)


# --- boosts ------------------------------------------------------------------------------------

async def test_boosts_off_stops_one_off_and_weekend_factors_and_on_resumes(services, clock):
    G = 301
    await services.settings.set(G, Actor(1, is_admin=True), "double_weekend", "on")
    await services.boosts.schedule(G, Actor(1, is_admin=True), factor="10", start="now", end="7d")
    assert (await services.ledger.earn(G, 1, 100, key="e1")).entries[0].delta == 1000
    await off(services, G, "boosts")
    # The ledger's multiplier set (earn, daily, activity at send time) drops every boost window.
    plain = await services.ledger.earn(G, 1, 100, key="e2")
    assert (plain.entries[0].delta, plain.entries[0].multiplier_bps,
            plain.entries[0].boost_ids) == (100, 10_000, ())
    daily = await services.ledger.claim_daily(G, 2, await services.settings.get(G))
    assert daily.amount == 100 and daily.movement.entries[0].boost_ids == ()
    await services.activity.record(said(G, 3, "chatting while boosts are off", clock.now()))
    clock.set(datetime(2026, 1, 10, 12, tzinfo=UTC))  # Saturday: inside the double weekend
    assert (await services.ledger.earn(G, 1, 100, key="e3")).entries[0].delta == 100
    await services.activity.flush()
    assert await services.ledger.balance(G, 3) == 5
    await on(services, G, "boosts")
    back = await services.ledger.earn(G, 1, 100, key="e4")
    assert back.entries[0].delta == 1000 and back.entries[0].boost_ids == ("b1",)
    await ok_audit(services)


@pytest.mark.slow
async def test_a_disable_racing_earnings_never_half_multiplies_a_movement(store, clock):
    """Earnings from two processes race `/settings modules disable boosts`: every entry is multiplied
    or not as a whole (its delta, factor and boost ids agree), every earning that started after
    the switch returned is plain, and balances equal the ledger."""
    G = 302
    a, b = build_services(store.db, clock), build_services(store.db, clock)
    b.settings.FRESH_SECONDS = 0.0  # the other process revalidates every read (version stamp)
    await a.boosts.schedule(G, Actor(1, is_admin=True), factor="10", start="now", end="2h")
    switched, midway = asyncio.Event(), asyncio.Event()
    after_switch: list[str] = []
    done = [0]

    async def earner(svc, worker: int) -> None:
        for n in range(25):
            key = f"w{worker}:{n}"
            if switched.is_set():
                after_switch.append(key)
            await svc.ledger.earn(G, 10 + worker, 7, key=key)
            done[0] += 1
            if done[0] == 40:
                midway.set()
            await asyncio.sleep(0)

    async def switcher() -> None:
        await midway.wait()  # flip the switch in the middle of the earnings
        await a.modules.switch(G, Actor(1, is_admin=True), "boosts", on=False)
        switched.set()

    await asyncio.gather(*(earner(svc, w) for w, svc in enumerate((a, b) * 4)), switcher())
    entries = await store.db["ledger"].find({"guild_id": G}).to_list()
    assert len(entries) == 200
    for e in entries:
        assert e["delta"] == 7 * e["multiplier_bps"] // 10_000
        assert (e["multiplier_bps"] == 10_000) == (e["boost_ids"] == [])
    by_key = {e["idempotency_key"]: e for e in entries}
    assert after_switch and all(by_key[k]["delta"] == 7 for k in after_switch)
    assert any(e["delta"] == 70 for e in entries)  # some earned before the switch
    await ok_audit(a)


# --- seasons -----------------------------------------------------------------------------------

async def test_seasons_off_stops_the_season_boost_and_anniversaries_but_pays_decided_prizes(
        store, clock, monkeypatch):
    G = 303
    a = build_services(store.db, clock)
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    await a.seasons.add(G, Actor(1, is_admin=True), "spooky-gems")  # 10-24 .. 10-31, boost x1.25
    clock.set(datetime(2026, 10, 25, 12, tzinfo=UTC))
    await a.seasons.sweep()
    assert (await a.ledger.earn(G, 10, 100, key="e1")).entries[0].delta == 125
    await off(a, G, "seasons")
    assert (await a.ledger.earn(G, 10, 100, key="e2")).entries[0].delta == 100
    joined = datetime(2024, 10, 25, 1, tzinfo=UTC)
    assert await a.anniversaries.pay_due(G, [(20, joined)]) == []
    await on(a, G, "seasons")
    assert (await a.ledger.earn(G, 10, 100, key="e3")).entries[0].delta == 125
    # The occurrence ends; the sweep decides the winners, then dies before paying them.
    clock.set(datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    real = a.ledger.earn

    async def crash(*args, **kwargs):
        raise ConnectionError("the process died")

    monkeypatch.setattr(a.ledger, "earn", crash)
    with pytest.raises(ConnectionError):
        await a.seasons.sweep()
    monkeypatch.setattr(a.ledger, "earn", real)
    await off(a, G, "seasons")
    # Decided prizes are owed: paid while off; the announcement waits until it is back on.
    fresh = build_services(store.db, clock)
    assert await fresh.seasons.sweep() == []
    assert await fresh.ledger.balance(G, 10) == 350 + 500
    await on(fresh, G, "seasons")
    notices = await fresh.seasons.sweep()
    assert len(notices) == 1 and notices[0].winners[0][:2] == (10, 350)
    assert await fresh.ledger.balance(G, 10) == 350 + 500  # paid once
    await ok_audit(fresh)


# --- nft (holder perks) -------------------------------------------------------------------------

async def test_nft_off_stops_holder_perks_and_on_resumes(services, clock):
    G, holder = 304, 777
    await services.settings.set(G, Actor(1, is_admin=True), "holder_perks", f"{holder}:2")
    await services.activity.record(said(G, 1, "a holder says hello", clock.now(), (holder,)))
    await off(services, G, "nft")
    clock.advance(minutes=2)
    await services.activity.record(said(G, 1, "perks are off right now", clock.now(), (holder,)))
    claim = await services.ledger.claim_daily(G, 2, await services.settings.get(G),
                                              role_ids=frozenset({holder}))
    assert claim.amount == 100 and claim.movement.entries[0].boost_ids == ()
    await services.activity.flush()
    # The message sent while perks were on keeps its x2 (factor captured at send time).
    assert await services.ledger.balance(G, 1) == 10 + 5
    await on(services, G, "nft")
    clock.advance(days=1)
    claim = await services.ledger.claim_daily(G, 2, await services.settings.get(G),
                                              role_ids=frozenset({holder}))
    assert claim.movement.entries[0].boost_ids == (f"perk-{holder}",)
    await ok_audit(services)


# --- challenges --------------------------------------------------------------------------------

async def test_challenges_off_stops_progress_completions_and_competitions(services, clock):
    G = 305
    day = await fix_day(services, G, (QUIZ, CHAT))
    prog, ch = services.challenge_progress, services.challenges
    comp = await services.competitions.create(G, _admin(), kind="any", mode="most", hours=1,
                                              prize=300, places=1)
    await ch.complete(G, 7, day, QUIZ)  # a completion while on: counts for the competition
    for i in range(2):
        await prog.record_message(G, 1, 10, f"counted message {i}", author_is_bot=False,
                                  at=clock.now())
    # A completion recorded before the switch whose payment a crash interrupted: owed.
    await ChallengeRepo(services.db).insert_completion({
        "guild_id": G, "user_id": 8, "day": day, "challenge_id": "chat-test", "type": "activity",
        "title": "Talk shop", "reward": 50, "at_ms": 1, "week": "2026-W02", "paid": False})
    await off(services, G, "challenges")
    for i in range(5):
        await prog.record_message(G, 1, 10, f"message while off {i}", author_is_bot=False,
                                  at=clock.now())
        await prog.record_reaction(G, 2, 10, author_is_bot=False, own_message=False,
                                   at=clock.now())
    assert prog.pending_count() == 2  # only what was counted while on
    assert await prog.flush() == []
    with pytest.raises(FeatureOff):
        await ch.answer(G, 3, QUIZ.id, "Colombia")
    clock.advance(hours=2)  # the competition ended while off: it waits
    assert await services.competitions.settle_due(G) == []
    await prog.sweep([G])
    assert [await services.ledger.balance(G, u) for u in (1, 3, 7, 8)] == [0, 0, 40, 50]
    await on(services, G, "challenges")
    settled = await services.competitions.settle_due(G)
    assert [s.competition["competition_id"] for s in settled] == [comp["competition_id"]]
    assert await services.ledger.balance(G, 7) == 40 + 300
    await ok_audit(services)


def _admin():
    from economy.core.actor import Actor
    return Actor(1, is_admin=True)


# --- events ------------------------------------------------------------------------------------

async def test_events_off_stops_checkin_and_completion_but_finishes_a_started_payout(
        store, clock, monkeypatch):
    G = 306
    a = build_services(store.db, clock)
    install(a)  # winners must be current human members: this process can tell
    draft = await a.events.draft(G, type="contest", start="now", duration_minutes=60,
                                 channel_id=None, capacity=None, reward_attend=10,
                                 reward_complete=5, prizes=(100, 0, 0))
    first = await a.events.create(G, Actor(1, is_admin=True), draft, title="Gem quiz", description=None)
    second = await a.events.create(G, Actor(1, is_admin=True), draft, title="Second quiz", description=None)
    for user in (20, 21):
        await a.events.checkin(G, first.event_id, user)
    await a.events.checkin(G, second.event_id, 20)
    real = a.ledger.earn
    calls = {"n": 0}

    async def crash_after_one(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise ConnectionError("the process died")
        return await real(*args, **kwargs)

    monkeypatch.setattr(a.ledger, "earn", crash_after_one)
    with pytest.raises(ConnectionError):
        await a.events.complete(G, first.event_id, Actor(1, is_admin=True), [21])
    monkeypatch.setattr(a.ledger, "earn", real)
    await off(a, G, "events")
    with pytest.raises(FeatureOff):
        await a.events.checkin(G, first.event_id, 22)
    with pytest.raises(FeatureOff):
        await a.events.complete(G, second.event_id, Actor(1, is_admin=True), [20])
    fresh = build_services(store.db, clock)
    await fresh.events.sweep()  # the completed event's payout is owed: it finishes
    assert [await fresh.ledger.balance(G, u) for u in (20, 21, 22)] == [10 + 10 + 5,
                                                                        10 + 5 + 100, 0]
    await on(fresh, G, "events")
    assert await fresh.events.checkin(G, second.event_id, 22) == 10
    await ok_audit(fresh)


# --- goals -------------------------------------------------------------------------------------

async def test_goals_off_closes_nothing_new_but_pays_a_reached_goal(store, clock, monkeypatch):
    G = 307
    a = build_services(store.db, clock)
    goal = await a.goals.create(G, Actor(1, is_admin=True), target=50, metric="gems_earned", deadline="7d", reward=25)
    clock.advance(minutes=1)
    await a.ledger.earn(G, 52, 60, key="e52")
    clock.advance(minutes=1)
    real = a.ledger.earn

    async def crash(*args, **kwargs):
        raise ConnectionError("the process died")

    monkeypatch.setattr(a.ledger, "earn", crash)
    with pytest.raises(ConnectionError):
        await a.goals.sweep()  # reached, then died before paying
    monkeypatch.setattr(a.ledger, "earn", real)
    late = await a.goals.create(G, Actor(1, is_admin=True), target=10, metric="gems_earned", deadline="7d", reward=5)
    clock.advance(minutes=1)
    await a.ledger.earn(G, 53, 20, key="e53")
    clock.advance(minutes=1)
    await off(a, G, "goals")
    fresh = build_services(store.db, clock)
    assert await fresh.goals.sweep() == []  # announcement waits
    assert await fresh.ledger.balance(G, 52) == 60 + 25  # the reached goal is owed: paid
    assert (await fresh.goals.view(G, late.goal_id)).status == "open"  # nothing new closes
    assert await fresh.ledger.balance(G, 53) == 20
    await on(fresh, G, "goals")
    notices = await fresh.goals.sweep()
    assert sorted((n.goal.goal_id, n.kind, n.paid) for n in notices) == [
        (goal.goal_id, "reached", 25), (late.goal_id, "reached", 5)]
    assert [await fresh.ledger.balance(G, u) for u in (52, 53)] == [60 + 25, 20 + 5]  # once
    await ok_audit(fresh)


# --- mentorship --------------------------------------------------------------------------------

async def test_mentorship_off_stops_milestone_and_guide_rewards(services):
    from tests.mentorship.test_mentorship import accept_both, apply, mentor
    G = 7  # the mentorship helpers' guild
    ms = services.mentorship
    await mentor(services, 1)
    pairing = (await accept_both(ms, await apply(services, 10))).pairing
    await ms.pairings.add_goal(pairing, 1, "Model a simple band ring in CAD")
    guide = await services.guides.submit(G, 10, title="Carving a bezel seat",
                                         body="Warm the wax, carve the bezel seat first, then "
                                              "the shoulders.", skills="cad")
    await off(services, G, "mentorship")
    with pytest.raises(FeatureOff):
        await ms.pairings.confirm_goal(pairing, 10, 1)
    with pytest.raises(FeatureOff):
        await services.guides.review(G, Actor(1, is_moderator=True), guide.guide_id, approve=True)
    assert await services.ledger.balance(G, 1) == 0 and await services.ledger.balance(G, 10) == 0
    await on(services, G, "mentorship")
    assert (await ms.pairings.confirm_goal(pairing, 10, 1)).reward == 50
    await ok_audit(services)


# --- trades and the marketplace ----------------------------------------------------------------

async def test_trades_and_marketplace_off_refuse_new_holds_and_settle_open_trades(services, clock):
    G, SELLER, BUYER = 308, 1, 2
    await relax_offer_limits(services, G)
    await services.ledger.grant(G, Actor.system(), BUYER, 5000, reason="seed", key="seed")
    draft = await services.marketplace.listings.create_draft(
        G, SELLER, category="rings", condition="new", title="Emerald ring",
        description="A lovely emerald ring in 18k gold.", price_gems=500)
    await services.marketplace.listings.publish(G, SELLER, draft.listing_id)
    offered = await services.trades.offer(G, SELLER, BUYER, 300, "A sapphire ring, size 7")
    delivered = (await services.trades.accept(
        G, (await services.trades.offer(G, SELLER, BUYER, 1000, "A pearl")).trade_id,
        BUYER)).trade
    await services.trades.mark_delivered(G, delivered.trade_id, SELLER)
    waiting = (await services.trades.accept(
        G, (await services.trades.offer(G, SELLER, BUYER, 200, "A pin")).trade_id, BUYER)).trade
    await off(services, G, "marketplace")
    with pytest.raises(FeatureOff, match="marketplace"):
        await services.trades.buy_listing(G, BUYER, draft.listing_id)
    await off(services, G, "trades")
    with pytest.raises(FeatureOff, match="Trades"):
        await services.trades.offer(G, SELLER, BUYER, 100, "A brooch")
    with pytest.raises(FeatureOff):
        await services.trades.accept(G, offered.trade_id, BUYER)
    # Open trades settle: the buyer confirms, a timer refunds the undelivered one.
    assert (await services.trades.confirm(G, delivered.trade_id, BUYER)).trade.status == "completed"
    clock.advance(days=8)
    events = await services.trades.sweep()
    assert ("auto_cancel", waiting.trade_id) in [(e.kind, e.trade.trade_id) for e in events]
    buyer = await services.ledger.account(G, BUYER)
    assert (buyer.balance, buyer.held) == (4000, 0)
    await ok_audit(services)
