"""Role income against the embedded store: once per member per rule per period (collected or
paid by the job, retried, at once), periods in the guild's time zone, boosts, bad input."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import Cooldown, InvalidAmount, InvalidInput, NotFound, NotPermitted
from economy.income.service import period_of
from tests.depth import deep

pytestmark = pytest.mark.timeout(120)
G = 41
ADMIN = Actor(1, is_admin=True, guild_id=G)
VIP, CREW = 900, 901


async def _audit_ok(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_collect_pays_each_rule_once_per_period(services, clock):
    await services.income.add(G, ADMIN, VIP, 50, "daily")
    await services.income.add(G, ADMIN, CREW, 200, "weekly")
    results = await asyncio.gather(*(services.income.collect(G, 5, frozenset({VIP, CREW}))
                                     for _ in range(5)), return_exceptions=True)
    paid = [r for r in results if not isinstance(r, BaseException)]
    assert sum(r.total for r in paid) == 250
    assert all(isinstance(r, Cooldown) for r in results if isinstance(r, BaseException))
    assert await services.ledger.balance(G, 5) == 250
    clock.advance(timedelta(days=1))  # a new day; the week may or may not have turned
    again = await services.income.collect(G, 5, frozenset({VIP, CREW}))
    assert {rule.role_id for rule, _ in again.paid} >= {VIP}
    with pytest.raises(InvalidInput, match="None of your roles"):
        await services.income.collect(G, 6, frozenset({77}))
    await _audit_ok(services)


async def test_automatic_payment_retried_or_run_twice_pays_once(services):
    await services.income.add(G, ADMIN, VIP, 30, "weekly")
    holders = list(range(100, 100 + deep(120, 300)))
    first, second = await asyncio.gather(
        services.income.pay_holders(G, VIP, "weekly", holders),
        services.income.pay_holders(G, VIP, "weekly", holders))
    assert first + second == len(holders)
    assert await services.income.pay_holders(G, VIP, "weekly", holders) == 0
    with pytest.raises(Cooldown):  # collected by the job already
        await services.income.collect(G, 100, frozenset({VIP}))
    assert {await services.ledger.balance(G, u) for u in holders} == {30}
    await _audit_ok(services)


async def test_boosts_apply_to_income(services):
    await services.income.add(G, ADMIN, VIP, 40, "daily")
    await services.boosts.schedule(G, Actor.system(), factor="3", start="now", end="2h")
    done = await services.income.collect(G, 5, frozenset({VIP}))
    entry = (await services.ledger.history(G, 5)).rows[0]
    assert entry.multiplier_bps >= 30_000 and done.total == entry.delta == 40 * entry.multiplier_bps // 10_000
    # A server that leaves income out of `boost_applies_to` pays the plain amount.
    await services.settings.set(G, Actor.system(), "boost_applies_to", "daily")
    await services.income.add(G, ADMIN, CREW, 40, "daily")
    plain = await services.income.collect(G, 5, frozenset({CREW}))
    assert plain.total == 40


@pytest.mark.parametrize("amount", [0, -10, 1_000_001])
async def test_bad_rules_are_refused_and_nothing_is_stored(services, amount):
    with pytest.raises(InvalidAmount):
        await services.income.add(G, ADMIN, VIP, amount, "daily")
    with pytest.raises(InvalidInput):
        await services.income.add(G, ADMIN, VIP, 10, "monthly")
    with pytest.raises(NotPermitted):
        await services.income.add(G, Actor(2, guild_id=G), VIP, 10, "daily")
    assert await services.db["income_rules"].count_documents({}) == 0


async def test_one_rule_per_role_and_period_removed_and_added_again(services):
    await services.income.add(G, ADMIN, VIP, 10, "daily")
    with pytest.raises(InvalidInput, match="already earns"):
        await services.income.add(G, ADMIN, VIP, 20, "daily")
    await services.income.remove(G, ADMIN, VIP, "daily")
    with pytest.raises(NotFound):
        await services.income.remove(G, ADMIN, VIP, "daily")
    rule = await services.income.add(G, ADMIN, VIP, 20, "daily")
    assert rule.amount == 20 and [r.amount for r in await services.income.rules(G)] == [20]


def test_periods_follow_the_guild_time_zone():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 1, 4, 23, 30, tzinfo=UTC)  # Sunday 23:30 UTC = Monday 00:30 in Berlin
    assert period_of("daily", now, ZoneInfo("UTC"))[0] == "2026-01-04"
    assert period_of("daily", now, ZoneInfo("Europe/Berlin"))[0] == "2026-01-05"
    name, next_at = period_of("weekly", now, ZoneInfo("Europe/Berlin"))
    assert name == "2026-W02" and next_at == datetime(2026, 1, 11, 23, 0, tzinfo=UTC)
    assert period_of("weekly", now, ZoneInfo("UTC"))[0] == "2026-W01"
