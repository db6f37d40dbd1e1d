"""Backfill: members who met a rule before the feature (or the rule) was switched on get their
badges in bounded pages, once, rewards paid once; a limited rule badge never exceeds its supply
when 100 members qualify at once."""

from __future__ import annotations

import asyncio

import pytest

from economy.repos.slot_repo import SlotRepo
from economy.services import build_services
from tests.badges.test_badges import BUYER, SELLER, STAFF, complete_trade, held, ok_audit
from tests.conftest import relax_offer_limits
from tests.cross.test_cap_races import Rendezvous

pytestmark = pytest.mark.timeout(180)
G = 251


async def drain(services, page: int) -> list[int]:
    """Run backfill pages until one has nothing to do; the sizes of the pages."""
    sizes = []
    while (looked := await services.badges.backfill_page(G, page=page)):
        sizes.append(looked)
        assert len(sizes) < 50
    return sizes


async def test_history_from_before_the_switch_is_awarded_in_pages_once(services):
    await relax_offer_limits(services, G)
    await services.modules.switch(G, STAFF, "badges", on=False)
    assert await services.badges.backfill_page(G) == 0  # off: parked
    assert (await services.db["badge_backfill"].find_one({"_id": G}))["state"] == "off"
    await complete_trade(services)  # SELLER's first sale, while badges were off
    await services.ledger.earn(G, BUYER, 1000, key="work")
    for n in range(3):  # members with nothing to earn
        await services.ledger.earn(G, 500 + n, 5, key=f"small:{n}")
    assert await held(services, SELLER) == set()
    await services.badges.set_rule(G, STAFF, "earned_1k", enabled=True, reward=10)
    await services.modules.switch(G, STAFF, "badges", on=True)
    sizes = await drain(services, page=2)
    assert all(size <= 2 for size in sizes) and sum(sizes) >= 5
    assert await held(services, SELLER) == {"first_sale"}
    assert "earned_1k" in await held(services, BUYER)
    assert (await services.db["badge_backfill"].find_one({"_id": G}))["state"] == "done"
    assert await drain(services, page=2) == []  # done: nothing more
    # Another rule switched on restarts it; what was awarded stays awarded, paid once.
    await services.badges.set_rule(G, STAFF, "streak_30", enabled=False, reward=None)
    assert sum(await drain(services, page=2)) >= 5
    paid = await services.db["ledger"].count_documents({"guild_id": G,
                                                        "ref": "badge:earned_1k"})
    assert paid == 1
    await ok_audit(services)


async def test_two_processes_backfilling_at_once_award_once(services):
    await relax_offer_limits(services, G)
    await services.modules.switch(G, STAFF, "badges", on=False)
    await complete_trade(services)
    await services.badges.set_rule(G, STAFF, "first_sale", enabled=True, reward=15)
    await services.modules.switch(G, STAFF, "badges", on=True)
    await asyncio.gather(drain(services, page=1), drain(services, page=1))
    assert await held(services, SELLER) == {"first_sale"}
    assert await services.db["ledger"].count_documents({"ref": "badge:first_sale"}) == 1
    await ok_audit(services)


@pytest.mark.slow  # 100 members at once
async def test_a_limited_rule_badge_never_exceeds_its_supply_when_100_qualify_at_once(
        services, store, clock, monkeypatch):
    """100 members qualify at once on four bot processes. Within a process they take turns for
    the editions; across processes the four first planners all read the free places before any
    of them writes (as under snapshot isolation), so the unique edition place decides."""
    badge = await services.badges.create(G, STAFF, name="Early earner",
                                         description="First ten to earn 1,000", emoji="⏳",
                                         rarity="epic", supply=10, rule="earned", at_least=1000)
    await services.badges.set_rule(G, STAFF, badge.key, enabled=True, reward=20)
    users = list(range(1000, 1100))
    await asyncio.gather(*(services.ledger.earn(G, user, 1000, key=f"work:{user}")
                           for user in users))  # batched by the ledger writer
    processes = [services] + [build_services(store.db, clock) for _ in range(3)]
    Rendezvous(monkeypatch, SlotRepo, "taken", len(processes))
    results = await asyncio.gather(*[processes[u % 4].badges.on_signal("daily_claimed", G, (u,))
                                     for u in users], return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)]
    docs = await services.db["badge_awards"].find({"guild_id": G, "badge": badge.key}).to_list()
    assert sorted(doc["serial"] for doc in docs) == list(range(1, 11))
    assert await services.db["ledger"].count_documents({"ref": f"badge:{badge.key}"}) == 10
    # The backfill finds the edition sold out and moves on (no error, nothing more).
    assert sum(await drain(services, page=50)) >= 100
    assert await services.db["badge_awards"].count_documents({"badge": badge.key}) == 10
    await ok_audit(services)


@pytest.mark.parametrize(("fields", "match"), [
    ({"rule": "earned"}, "both"), ({"at_least": 5}, "both"),
    ({"rule": "karma", "at_least": 5}, "A rule counts one of"),
    ({"rule": "earned", "at_least": 0}, "1 or more"),
])
async def test_bad_automatic_badges_are_refused_and_store_nothing(services, fields, match):
    from economy.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match=match):
        await services.badges.create(G, STAFF, name="Odd", description="An odd one",
                                     emoji="🌀", rarity="rare", **fields)
    assert await services.db["badge_defs"].count_documents({}) == 0
