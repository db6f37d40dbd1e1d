"""Badges against the embedded store: rules award on signals, once; rewards through the ledger
once per member and badge; limited editions never exceed their supply under races; staff give
and revoke with reasons; showcases; bad input changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from economy.badges.rules import shipped
from economy.badges.service import AlreadyHeld, SoldOut
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.repos.slot_repo import SlotRepo
from economy.services import build_services
from tests.conftest import relax_offer_limits
from tests.cross.test_cap_races import Rendezvous

pytestmark = pytest.mark.timeout(120)
G = 251
ADMIN, SELLER, BUYER = 1, 2, 3
STAFF = Actor(ADMIN, is_admin=True, guild_id=G)


async def ok_audit(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def held(services, user: int) -> set[str]:
    return {a.badge.key for a in await services.badges.awards(G, user)}


async def complete_trade(services, price: int = 100) -> None:
    await services.ledger.grant(G, Actor(ADMIN, is_admin=True), BUYER, price, reason="seed", key=f"seed:{price}")
    offer = await services.trades.offer(G, SELLER, BUYER, price, "A hand-made ring, size 7")
    await services.trades.accept(G, offer.trade_id, BUYER)
    await services.trades.mark_delivered(G, offer.trade_id, SELLER, "tracking ABC123")
    await services.trades.confirm(G, offer.trade_id, BUYER)


def test_the_shipped_catalogue_has_rules_on_at_least_six_facts():
    badges = shipped()
    assert len(badges) >= 8
    assert len({b.rule.fact for b in badges.values()}) >= 7
    assert {b.rarity for b in badges.values()} == {"common", "rare", "epic", "legendary"}


async def test_a_completed_trade_awards_first_sale_with_its_reward_once(services):
    await relax_offer_limits(services, G)
    await services.badges.set_rule(G, STAFF, "first_sale", enabled=True,
                                   reward=50)
    await complete_trade(services)
    assert await held(services, SELLER) == {"first_sale"}
    assert await held(services, BUYER) == set()  # bought, did not sell
    seller = await services.ledger.account(G, SELLER)
    award = (await services.badges.awards(G, SELLER))[0]
    assert award.reward == 50 and award.by is None
    # A second sale awards nothing more and pays nothing more.
    await complete_trade(services, price=200)
    assert await held(services, SELLER) == {"first_sale"}
    assert (await services.ledger.account(G, SELLER)).balance == seller.balance + 200 - 5
    entries = await services.db["ledger"].count_documents({"guild_id": G, "ref": "badge:first_sale"})
    assert entries == 1
    await ok_audit(services)


async def test_a_switched_off_rule_or_feature_awards_nothing(services):
    await relax_offer_limits(services, G)
    await services.badges.set_rule(G, STAFF, "first_sale", enabled=False,
                                   reward=None)
    await complete_trade(services)
    assert await held(services, SELLER) == set()
    await services.badges.set_rule(G, STAFF, "first_sale", enabled=True,
                                   reward=None)
    await services.modules.switch(G, Actor(ADMIN, is_admin=True), "badges", on=False)
    await complete_trade(services, price=300)
    assert await held(services, SELLER) == set()
    await services.modules.switch(G, Actor(ADMIN, is_admin=True), "badges", on=True)
    await complete_trade(services, price=400)  # the next sale catches up: 3 sales >= 1
    assert await held(services, SELLER) == {"first_sale"}


async def test_thirty_day_streak_and_lifetime_earnings_award_on_the_daily_claim(services, clock):
    settings = await services.settings.get(G)
    await services.ledger.earn(G, BUYER, 990, key="work")
    for day in range(1, 31):
        await services.ledger.claim_daily(G, BUYER, settings)
        badges = await held(services, BUYER)
        assert ("streak_30" in badges) == (day == 30), day
        assert "earned_1k" in badges  # 990 + the first daily reward >= 1,000
        clock.advance(days=1)


async def test_events_challenges_and_guides_count_what_is_recorded(services):
    for n in range(5):
        await services.db["event_attendance"].insert_one(
            {"_id": f"{G}:{n}:{BUYER}", "guild_id": G, "event_id": n, "user_id": BUYER,
             "at_ms": n})
        if n == 3:
            await services.badges.on_signal("event_attended", G, (BUYER,))
            assert "events_5" not in await held(services, BUYER)
    await services.badges.on_signal("event_attended", G, (BUYER,))
    await services.badges.on_signal("guide_published", G, (BUYER,))
    assert await held(services, BUYER) == {"events_5"}


async def test_staff_give_and_revoke_with_reasons(services):
    badge = await services.badges.create(G, STAFF, name="Helper",
                                         description="Helped a newcomer", emoji="🛟",
                                         rarity="rare")
    award = await services.badges.give(G, STAFF, badge.key, BUYER,
                                       reason="welcomed five newcomers")
    assert award.by == ADMIN and award.reason == "welcomed five newcomers"
    with pytest.raises(AlreadyHeld):
        await services.badges.give(G, STAFF, badge.key, BUYER, reason="again!")
    await services.badges.revoke(G, STAFF, badge.key, BUYER, reason="mistake")
    assert await held(services, BUYER) == set()
    log = await services.db["badge_log"].find({"guild_id": G}).sort("at_ms", 1).to_list()
    assert [(d["action"], d["reason"]) for d in log] == [("give", "welcomed five newcomers"),
                                                          ("revoke", "mistake")]
    with pytest.raises(InvalidInput, match="does not hold"):
        await services.badges.revoke(G, STAFF, badge.key, BUYER, reason="twice")


async def test_a_revoked_rewarded_badge_earned_again_pays_nothing_twice(services):
    await services.badges.set_rule(G, STAFF, "earned_1k", enabled=True,
                                   reward=25)
    await services.ledger.earn(G, BUYER, 1000, key="work")
    await services.badges.on_signal("daily_claimed", G, (BUYER,))
    await services.badges.revoke(G, STAFF, "earned_1k", BUYER, reason="oops")
    await services.badges.on_signal("daily_claimed", G, (BUYER,))
    assert await held(services, BUYER) == {"earned_1k"}
    assert (await services.ledger.account(G, BUYER)).balance == 1025
    await ok_audit(services)


async def test_twenty_signals_at_once_award_and_pay_once(services):
    await services.badges.set_rule(G, STAFF, "earned_1k", enabled=True,
                                   reward=40)
    await services.ledger.earn(G, BUYER, 1000, key="work")
    await asyncio.gather(*[services.badges.on_signal("daily_claimed", G, (BUYER,))
                           for _ in range(20)])
    assert await held(services, BUYER) == {"earned_1k"}
    assert (await services.ledger.account(G, BUYER)).balance == 1040
    await ok_audit(services)


@pytest.mark.slow  # 100 members at once
async def test_a_limited_edition_never_exceeds_its_supply_when_100_qualify_at_once(
        services, store, clock, monkeypatch):
    badge = await services.badges.create(G, STAFF, name="Founder",
                                         description="One of the first ten", emoji="🌟",
                                         rarity="legendary", supply=10)
    # 100 gifts on four bot processes: within a process they take turns for the editions;
    # the four first planners read the free places before any of them writes (as under
    # snapshot isolation): all pick place 1, and the unique place decides.
    processes = [services] + [build_services(store.db, clock) for _ in range(3)]
    Rendezvous(monkeypatch, SlotRepo, "taken", len(processes))
    results = await asyncio.gather(*[
        processes[n % 4].badges.give(G, STAFF, badge.key, 1000 + n, reason="founder")
        for n in range(100)], return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 10
    assert all(isinstance(r, SoldOut) for r in results if isinstance(r, BaseException))
    assert sorted(a.serial for a in won) == list(range(1, 11))
    assert await services.db["badge_awards"].count_documents({"badge": badge.key}) == 10
    assert await services.badges.supply_left(G, badge) == 0
    # Revoking frees an edition for someone else.
    await services.badges.revoke(G, STAFF, badge.key, won[0].user_id,
                                 reason="left the server")
    again = await services.badges.give(G, STAFF, badge.key, 2000, reason="next")
    assert again.serial == won[0].serial
    await ok_audit(services)


async def test_showcase_pins_up_to_three_own_badges(services):
    keys = []
    for n in range(4):
        badge = await services.badges.create(G, STAFF, name=f"Star {n}",
                                             description="A star", emoji="⭐", rarity="common")
        await services.badges.give(G, STAFF, badge.key, BUYER, reason="shine")
        keys.append(badge.key)
    pinned = await services.badges.set_showcase(G, BUYER, keys[:3])
    assert [a.badge.key for a in pinned] == keys[:3]
    with pytest.raises(InvalidInput, match="at most 3"):
        await services.badges.set_showcase(G, BUYER, keys)
    with pytest.raises(InvalidInput, match="don't hold"):
        await services.badges.set_showcase(G, SELLER, keys[:1])
    assert [a.badge.key for a in await services.badges.showcase(G, BUYER)] == keys[:3]
    profile = await services.profiles.view(G, SELLER, BUYER)
    assert profile.badges_held == 4 and len(profile.showcase) == 3


@pytest.mark.parametrize(("fields", "error", "match"), [
    ({"actor": Actor(BUYER, guild_id=G)}, NotPermitted, "admins"),
    ({"name": " "}, InvalidInput, "name"),
    ({"emoji": "abc"}, InvalidInput, "emoji"),
    ({"rarity": "mythic"}, InvalidInput, "Rarity"),
    ({"supply": 0}, InvalidInput, "supply"),
    ({"name": "First sale"}, InvalidInput, "exists"),
])
async def test_bad_creates_are_refused_and_store_nothing(services, fields, error, match):
    args = {"actor": STAFF, "name": "Helper", "description": "Helped out", "emoji": "🛟",
            "rarity": "rare", **fields}
    with pytest.raises(error, match=match):
        await services.badges.create(G, **args)
    assert await services.db["badge_defs"].count_documents({}) == 0


async def test_bad_gives_are_refused_and_store_nothing(services):
    with pytest.raises(NotFound, match="no badge"):
        await services.badges.give(G, STAFF, "nope", BUYER, reason="because")
    with pytest.raises(NotPermitted):
        await services.badges.give(G, Actor(BUYER, guild_id=G), "first_sale", BUYER, reason="me!")
    with pytest.raises(InvalidInput, match="reason"):
        await services.badges.give(G, STAFF, "first_sale", BUYER, reason=" ")
    with pytest.raises(InvalidInput, match="no rule"):
        badge = await services.badges.create(G, STAFF, name="Helper",
                                             description="Helped", emoji="🛟", rarity="rare")
        await services.badges.set_rule(G, STAFF, badge.key, enabled=False,
                                       reward=None)
    assert await services.db["badge_awards"].count_documents({}) == 0
    assert await services.db["badge_rules"].count_documents({}) == 0


async def test_privacy_delete_removes_awards_and_keeps_the_ledger_exact(services):
    badge = await services.badges.create(G, STAFF, name="Founder",
                                         description="First ten", emoji="🌟",
                                         rarity="legendary", supply=2)
    await services.badges.give(G, STAFF, badge.key, BUYER, reason="founder")
    await services.badges.set_rule(G, STAFF, "earned_1k", enabled=True, reward=5)
    await services.ledger.earn(G, BUYER, 1000, key="work")
    await services.badges.on_signal("daily_claimed", G, (BUYER,))
    await services.badges.set_showcase(G, BUYER, [badge.key])
    await services.privacy.delete(G, BUYER)
    for name in ("badge_awards", "badge_showcases", "badge_log"):
        assert await services.db[name].count_documents({"user_id": BUYER}) == 0, name
    assert await services.db["cap_slots"].count_documents({"kind": "badge_edition"}) == 0
    await ok_audit(services)
