"""Escrow state machine against the embedded store: paths, refusals, races, timers, audit."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InsufficientFunds, InvalidAmount, InvalidInput, NotPermitted
from economy.core.ledger import TREASURY_IDS
from economy.trades.models import TradeUnavailable, fee_for
from economy.trades.repo import TradeRepo
from tests.conftest import relax_offer_limits

G = 77


@pytest.fixture(autouse=True)
async def _many_offers(services):
    await relax_offer_limits(services, G)
SELLER, BUYER, MOD, STRANGER = 1, 2, 3, 4


async def fund(services, user, amount):
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}:{amount}")


async def ok_audit(services):
    report = await audit(services.db)
    assert report.ok, report.render()


async def reserved_trade(services, price=1000):
    await fund(services, BUYER, 5000)
    offer = await services.trades.offer(G, SELLER, BUYER, price, "A sapphire ring, size 7")
    return (await services.trades.accept(G, offer.trade_id, BUYER)).trade


async def balances(services):
    acc = services.ledger.account
    b, s = await acc(G, BUYER), await acc(G, SELLER)
    return (b.balance, b.held, s.balance, await services.ledger.treasury_balance(G))


def test_fee_rounds_down():
    assert fee_for(1000, 250) == 25
    assert fee_for(39, 250) == 0
    assert fee_for(41, 250) == 1


async def test_happy_path_releases_minus_fee_to_treasury(services, clock):
    trade = await reserved_trade(services)
    assert trade.status == "reserved"
    assert await balances(services) == (4000, 1000, 0, 0)
    delivered = await services.trades.mark_delivered(G, trade.trade_id, SELLER, "tracking ABC123")
    assert delivered.trade.status == "delivered" and delivered.trade.tracking == "tracking ABC123"
    done = await services.trades.confirm(G, trade.trade_id, BUYER)
    assert done.trade.status == "completed" and done.changed
    assert await balances(services) == (4000, 0, 975, 25)
    events = [e.event for e in done.trade.timeline]
    assert events == ["offered", "accepted", "delivered", "confirmed"]
    # The treasury never shows on the leaderboard.
    board = await services.ledger.leaderboard(G)
    assert not set(TREASURY_IDS) & {row[1] for row in board.rows}
    await ok_audit(services)


async def test_offer_bad_input_and_permissions(services):
    before = await services.db["trades"].count_documents({})
    for amount in (0, -1, 1.5, 2**63):
        with pytest.raises(InvalidAmount):
            await services.trades.offer(G, SELLER, BUYER, amount, "ring")
    with pytest.raises(InvalidInput):
        await services.trades.offer(G, SELLER, SELLER, 10, "my own ring")
    with pytest.raises(InvalidInput):
        await services.trades.offer(G, SELLER, BUYER, 10, "x")
    assert await services.db["trades"].count_documents({}) == before
    offer = await services.trades.offer(G, SELLER, BUYER, 10, "a ring")
    with pytest.raises(NotPermitted):
        await services.trades.accept(G, offer.trade_id, STRANGER)
    with pytest.raises(NotPermitted):
        await services.trades.accept(G, offer.trade_id, SELLER)
    with pytest.raises(InsufficientFunds):
        await services.trades.accept(G, offer.trade_id, BUYER)  # buyer has no GEMS
    assert (await services.trades.get(G, offer.trade_id, Actor(BUYER))).status == "offered"
    declined = await services.trades.decline(G, offer.trade_id, BUYER)
    assert declined.trade.status == "declined"
    with pytest.raises(TradeUnavailable):
        await services.trades.accept(G, offer.trade_id, BUYER)
    await ok_audit(services)


async def test_only_the_right_party_may_act(services):
    trade = await reserved_trade(services)
    tid = trade.trade_id
    with pytest.raises(NotPermitted):
        await services.trades.mark_delivered(G, tid, BUYER)
    with pytest.raises(NotPermitted):
        await services.trades.confirm(G, tid, SELLER)
    with pytest.raises(NotPermitted):
        await services.trades.confirm(G, tid, STRANGER)
    with pytest.raises(NotPermitted):
        await services.trades.cancel(G, tid, BUYER)
    with pytest.raises(NotPermitted):
        await services.disputes.open(G, tid, STRANGER, "I want to meddle")
    with pytest.raises(NotPermitted):
        await services.trades.get(G, tid, Actor(STRANGER))
    assert (await services.trades.get(G, tid, Actor(STRANGER, is_moderator=True))).trade_id == tid
    assert await balances(services) == (4000, 1000, 0, 0)


async def test_seller_cancel_refunds_and_mutual_cancel_needs_both(services):
    trade = await reserved_trade(services)
    cancelled = await services.trades.cancel(G, trade.trade_id, SELLER)
    assert cancelled.trade.status == "cancelled"
    assert await balances(services) == (5000, 0, 0, 0)

    second = (await services.trades.accept(
        G, (await services.trades.offer(G, SELLER, BUYER, 300, "earrings")).trade_id, BUYER)).trade
    await services.trades.mark_delivered(G, second.trade_id, SELLER)
    with pytest.raises(TradeUnavailable):
        await services.trades.cancel(G, second.trade_id, SELLER)  # after delivery: both must agree
    half = await services.trades.vote_mutual_cancel(G, second.trade_id, BUYER)
    assert half.trade.status == "delivered" and half.trade.cancel_buyer and not half.trade.cancel_seller
    both = await services.trades.vote_mutual_cancel(G, second.trade_id, SELLER)
    assert both.trade.status == "cancelled"
    assert await balances(services) == (5000, 0, 0, 0)
    await ok_audit(services)


@pytest.mark.parametrize(("outcome", "percent", "expected"), [
    ("refund", None, (5000, 0, 0, 0)),
    ("release", None, (4000, 0, 975, 25)),
    ("split", 40, (4600, 0, 390, 10)),
    ("split", 0, (5000, 0, 0, 0)),
    ("split", 100, (4000, 0, 975, 25)),
])
async def test_dispute_resolution_outcomes(services, outcome, percent, expected):
    trade = await reserved_trade(services)
    disputed = await services.disputes.open(
        G, trade.trade_id, BUYER, "Item never arrived", [{"filename": "chat.png", "url": "http://x"}])
    assert disputed.trade.status == "disputed" and disputed.trade.dispute["evidence"]
    with pytest.raises(TradeUnavailable):
        await services.trades.confirm(G, trade.trade_id, BUYER)  # held until a moderator decides
    result = await services.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), outcome, percent=percent,
                                             note="checked the chat logs")
    assert result.trade.status == "resolved" and result.trade.resolution["outcome"] == outcome
    assert await balances(services) == expected
    log = await TradeRepo(services.db).audit_entries(G)
    assert log[0]["action"] == "dispute.resolve" and log[0]["actor_id"] == MOD
    await ok_audit(services)


async def test_resolve_refusals(services):
    trade = await reserved_trade(services)
    with pytest.raises(TradeUnavailable):
        await services.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "refund")  # no dispute yet
    await services.disputes.open(G, trade.trade_id, SELLER, "Buyer stopped answering")
    for bad in (-1, 101, None, 50.5, True):
        with pytest.raises(InvalidInput):
            await services.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "split", percent=bad)
    with pytest.raises(NotPermitted):
        await services.disputes.resolve(G, trade.trade_id, Actor(SELLER, is_moderator=True), "release")
    assert await balances(services) == (4000, 1000, 0, 0)
    await services.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "refund")
    with pytest.raises(TradeUnavailable):
        await services.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "release")  # resolving twice


async def test_two_moderators_resolving_at_once_apply_once(services):
    trade = await reserved_trade(services)
    await services.disputes.open(G, trade.trade_id, BUYER, "Wrong stone in the ring")
    outcomes = await asyncio.gather(
        services.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "refund"),
        services.disputes.resolve(G, trade.trade_id, Actor(MOD + 10, is_moderator=True), "release"),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, TradeUnavailable) for o in outcomes if isinstance(o, BaseException))
    assert await services.db["ledger"].count_documents({"idempotency_key": f"trade:{trade.trade_id}:settle"}) in (1, 3)
    await ok_audit(services)


async def test_double_confirm_and_confirm_racing_cancel(services):
    trade = await reserved_trade(services)
    outcomes = await asyncio.gather(
        *[services.trades.confirm(G, trade.trade_id, BUYER) for _ in range(5)],
        services.trades.cancel(G, trade.trade_id, SELLER),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    b, held, s, t = await balances(services)
    assert held == 0 and (b, s, t) in ((4000, 975, 25), (5000, 0, 0))
    await ok_audit(services)


async def test_timers_auto_release_remind_and_auto_cancel(services, clock):
    trade = await reserved_trade(services)
    await services.trades.mark_delivered(G, trade.trade_id, SELLER)
    clock.advance(days=1)
    assert await services.trades.sweep() == []
    clock.advance(days=1, hours=1)  # 24 h before the 3-day release
    events = await services.trades.sweep()
    assert [e.kind for e in events] == ["release_reminder"]
    assert await services.trades.sweep() == []  # reminded once
    clock.advance(days=1)
    events = await services.trades.sweep()
    assert [e.kind for e in events] == ["auto_release"]
    assert events[0].trade.status == "completed"
    assert await balances(services) == (4000, 0, 975, 25)
    assert await services.trades.sweep() == []

    late = (await services.trades.accept(
        G, (await services.trades.offer(G, SELLER, BUYER, 500, "a watch")).trade_id, BUYER)).trade
    clock.advance(days=7, seconds=1)
    events = await services.trades.sweep()
    assert [(e.kind, e.trade.trade_id) for e in events] == [("auto_cancel", late.trade_id)]
    assert (await balances(services))[:2] == (4000, 0)

    offer = await services.trades.offer(G, SELLER, BUYER, 5, "a pin")
    clock.advance(hours=25)
    events = await services.trades.sweep()
    assert [(e.kind, e.trade.trade_id) for e in events] == [("offer_expired", offer.trade_id)]
    await ok_audit(services)


async def test_sweeps_in_two_processes_release_once(store, clock):
    from economy.services import build_services

    first, second = build_services(store.db, clock), build_services(store.db, clock)
    trade = await reserved_trade(first)
    await first.trades.mark_delivered(G, trade.trade_id, SELLER)
    clock.advance(days=4)
    a, b = await asyncio.gather(first.trades.sweep(), second.trades.sweep())
    kinds = sorted(e.kind for e in a + b)
    assert kinds == ["auto_release", "release_reminder"]
    assert await balances(first) == (4000, 0, 975, 25)
    await ok_audit(first)


async def test_restart_between_delivery_and_release(store, clock):
    from economy.services import build_services

    before = build_services(store.db, clock)
    trade = await reserved_trade(before)
    await before.trades.mark_delivered(G, trade.trade_id, SELLER)
    clock.advance(days=3, seconds=1)
    after = build_services(store.db, clock)  # a new process: timers come from the database
    events = await after.trades.sweep()
    assert "auto_release" in [e.kind for e in events]
    assert await after.trades.sweep() == []
    assert await balances(after) == (4000, 0, 975, 25)


async def test_ratings_once_per_side_after_completion(services):
    trade = await reserved_trade(services)
    with pytest.raises(TradeUnavailable):
        await services.ratings.rate(G, trade.trade_id, BUYER, 5)
    await services.trades.confirm(G, trade.trade_id, BUYER)
    with pytest.raises(InvalidInput):
        await services.ratings.rate(G, trade.trade_id, BUYER, 6)
    with pytest.raises(NotPermitted):
        await services.ratings.rate(G, trade.trade_id, STRANGER, 5)
    await services.ratings.rate(G, trade.trade_id, BUYER, 5, "fast shipping")
    with pytest.raises(InvalidInput):
        await services.ratings.rate(G, trade.trade_id, BUYER, 1)
    await services.ratings.rate(G, trade.trade_id, SELLER, 4)
    summary = await services.ratings.summary(G, SELLER)
    assert (summary.count, summary.average, summary.completed_trades) == (1, 5.0, 1)
    assert summary.render() == "★ 5.0 (1 rating, 1 trade)"


async def test_new_member_cap_and_wash_trading_flag(services):
    await services.settings.set(G, Actor.system(), "escrow_new_member_max", "500")
    await services.settings.set(G, Actor.system(), "escrow_new_member_trades", "2")
    await services.settings.set(G, Actor.system(), "escrow_wash_trade_count", "2")
    await fund(services, BUYER, 10_000)
    big = await services.trades.offer(G, SELLER, BUYER, 600, "a big diamond")
    with pytest.raises(NotPermitted):
        await services.trades.accept(G, big.trade_id, BUYER)
    flags = []
    for i in range(2):
        offer = await services.trades.offer(G, SELLER, BUYER, 100, f"small stone {i}")
        await services.trades.accept(G, offer.trade_id, BUYER)
        flags.append((await services.trades.confirm(G, offer.trade_id, BUYER)).flags)
    assert flags[0] == () and "possible wash trading" in flags[1][0]
    await services.trades.accept(G, big.trade_id, BUYER)  # now experienced enough
    await ok_audit(services)


async def test_csv_export_is_logged_and_injection_safe(services):
    await fund(services, BUYER, 100)
    offer = await services.trades.offer(G, SELLER, BUYER, 10, "=HYPERLINK(evil)")
    await services.trades.accept(G, offer.trade_id, BUYER)
    text = await services.trade_export.to_csv(G, Actor(MOD, is_admin=True))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "trade_id" and rows[1][3] == "'=HYPERLINK(evil)"
    assert (await TradeRepo(services.db).audit_entries(G))[0]["action"] == "trades.export"


async def test_no_dispute_or_cancel_after_completion(services):
    trade = await reserved_trade(services)
    await services.trades.confirm(G, trade.trade_id, BUYER)
    before = await balances(services)
    with pytest.raises(TradeUnavailable):
        await services.disputes.open(G, trade.trade_id, BUYER, "Changed my mind later")
    with pytest.raises(TradeUnavailable):
        await services.trades.vote_mutual_cancel(G, trade.trade_id, BUYER)
    assert await balances(services) == before


@pytest.mark.parametrize("partner", [900, 901, 0, -(10**12) - 1])
async def test_offers_go_only_to_current_human_members(services, partner):
    """Issue 22: a trade counterparty is a current human member (not a bot, not someone who
    left, not the treasury or a deleted member's account)."""
    from tests.directory import install
    install(services, bots={900}, gone={901})
    with pytest.raises(InvalidInput, match="current members"):
        await services.trades.offer(G, SELLER, partner, 10, "A sapphire ring")
    assert await services.db["trades"].count_documents({}) == 0


async def test_gifts_to_a_deleted_members_account_are_refused(services):
    await services.ledger.grant(G, Actor(9, is_admin=True), SELLER, 100, reason="seed", key="seed")
    with pytest.raises(InvalidInput, match="only be given to a member"):
        await services.gifts.give(G, SELLER, -(10**12) - 1, 10, key="gift")
    assert await services.ledger.balance(G, SELLER) == 100
