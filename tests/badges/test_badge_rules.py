"""The award rules added for issue 25, each fired by the real action of its feature (the signal
its service sends): well-rated trades, event winners, a season's top 3, mentor levels and NFT
holders; and the catalogue's size."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from economy.badges.rules import FACTS_OF_SIGNAL, shipped
from economy.core.signals import NAMES
from economy.nft.service import ApplyResult, RoleChange, SyncPlan
from tests.badges.test_badges import BUYER, SELLER, STAFF, complete_trade, held, ok_audit
from tests.conftest import relax_offer_limits
from tests.directory import install

pytestmark = pytest.mark.timeout(180)
G = 251


def test_at_least_twelve_rules_on_the_signals_that_change_them():
    badges = shipped()
    assert len(badges) >= 12
    facts = {b.rule.fact for b in badges.values()}
    assert facts >= {"well_rated_trades", "event_wins", "season_podiums", "mentorships",
                     "nft_holder"}
    assert set(FACTS_OF_SIGNAL) <= NAMES
    heard = set().union(*FACTS_OF_SIGNAL.values())
    assert facts <= heard  # every rule is evaluated on some signal


async def test_ten_trades_rated_four_and_a_half_stars_make_a_trusted_trader(services):
    await relax_offer_limits(services, G)
    await services.badges.set_rule(G, STAFF, "trusted_trader", enabled=True, reward=70)
    for n in range(10):
        await complete_trade(services, price=100 + n)
    trades = [d["trade_id"] async for d in services.db["trades"].find({"guild_id": G})]
    stars = [5, 5, 5, 5, 5, 5, 5, 5, 3]  # 4.78 on average after nine ratings
    for trade_id, given in zip(trades, stars, strict=False):
        await services.ratings.rate(G, trade_id, BUYER, given)
    assert "trusted_trader" in await held(services, SELLER)  # ten trades, rated >= 4.5
    assert "trusted_trader" not in await held(services, BUYER)  # the buyer was never rated
    award = next(a for a in await services.badges.awards(G, SELLER)
                 if a.badge.key == "trusted_trader")
    assert award.reward == 70
    await ok_audit(services)


async def test_a_low_average_keeps_the_trusted_trader_badge_away(services):
    await relax_offer_limits(services, G)
    for n in range(10):
        await complete_trade(services, price=100 + n)
    trades = [d["trade_id"] async for d in services.db["trades"].find({"guild_id": G})]
    for trade_id in trades[:2]:
        await services.ratings.rate(G, trade_id, BUYER, 4)  # 4.0 < 4.5
    assert "trusted_trader" not in await held(services, SELLER)


async def test_event_winners_get_the_event_winner_badge(services):
    install(services)  # the member directory: winners must be current members
    draft = await services.events.draft(
        G, type="contest", start="now", duration_minutes=60, channel_id=None, capacity=None,
        reward_attend=0, reward_complete=0, prizes=(10, 0, 0), role_id=None, role_days=0)
    event = await services.events.create(G, STAFF, draft, title="Gem quiz", description="Fun")
    await services.events.checkin(G, event.event_id, BUYER)
    await services.events.complete(G, event.event_id, STAFF, [BUYER])
    assert "event_winner" in await held(services, BUYER)
    assert "event_winner" not in await held(services, SELLER)


async def finished_season(services, clock, guild_id: int = G) -> None:
    """`spooky-gems` (10-24 .. 10-31) run and ended: members 11, 12, 13 on its podium, 14 fourth."""
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    await services.seasons.add(guild_id, STAFF, "spooky-gems")
    clock.set(datetime(2026, 10, 25, 12, tzinfo=UTC))
    for user, amount in ((11, 300), (12, 200), (13, 50), (14, 10)):
        await services.ledger.earn(guild_id, user, amount, key=f"e{user}")
    clock.set(datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    await services.seasons.sweep()


async def test_a_seasons_top_three_get_the_podium_badge(services, clock):
    await finished_season(services, clock)
    podium = {u for u in (11, 12, 13, 14) if "season_podium" in await held(services, u)}
    assert podium == {11, 12, 13}


async def test_completed_mentorships_give_the_mentor_level_badges(services):
    from tests.mentorship.test_mentorship import G as MG
    from tests.mentorship.test_mentorship import accept_both, apply, mentor

    ms = services.mentorship
    await mentor(services, 1)
    pairing = (await accept_both(ms, await apply(services, 10))).pairing
    await ms.pairings.end(pairing, 10, "completed", "Learned a lot")
    assert {a.badge.key for a in await services.badges.awards(MG, 1)} == {"mentor_1"}
    assert await services.badges.awards(MG, 10) == []  # the mentee is no mentor
    # The senior level at five: counted from the mentor's record, evaluated on the signal.
    await services.db["mentors"].update_one({"guild_id": MG, "user_id": 1},
                                            {"$set": {"completed": 5}})
    await services.badges.on_signal("mentorship_completed", MG, (1,))
    assert {a.badge.key for a in await services.badges.awards(MG, 1)} == {
        "mentor_1", "mentor_senior"}


async def test_an_nft_role_granted_by_the_sync_makes_a_collector(services):
    plan = SyncPlan(changes=[RoleChange(BUYER, 55, add=True), RoleChange(SELLER, 55, add=False)])
    await services.nft.record(G, plan, ApplyResult(added=1, removed=1), scope="guild",
                              started=0.0)
    assert "nft_holder" in await held(services, BUYER)
    assert "nft_holder" not in await held(services, SELLER)


async def test_switched_off_new_rules_award_nothing(services):
    await services.badges.set_rule(G, STAFF, "nft_holder", enabled=False, reward=None)
    await services.badges.on_signal("nft_role_granted", G, (BUYER,))
    assert await held(services, BUYER) == set()
