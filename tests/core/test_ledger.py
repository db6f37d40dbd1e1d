"""Ledger service against the embedded store: operations, bad input, idempotency, races."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import (
    Cooldown,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
)
from economy.core.ledger import apply_multipliers
from economy.core.settings import GuildSettings

G = 42
ADMIN = 1


async def seed(services, user, amount, key=None):
    await services.ledger.grant(G, Actor(ADMIN, is_admin=True), user, amount, reason="seed", key=key or f"seed:{user}:{amount}")


async def snapshot(services):
    accounts = await services.store_accounts() if hasattr(services, "store_accounts") else None
    docs = await services.db["accounts"].find({}, {"_id": 0, "updated_at": 0}).to_list()
    entries = await services.db["ledger"].count_documents({})
    return sorted(map(repr, docs)), entries, accounts


async def assert_audit_ok(services):
    report = await audit(services.db)
    assert report.ok, report.render()


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, 2**63, 10**13])
async def test_bad_amounts_change_nothing(services, amount):
    await seed(services, 1, 100)
    before = await snapshot(services)
    with pytest.raises(InvalidAmount):
        await services.ledger.transfer(G, 1, 2, amount, key="bad")
    with pytest.raises(InvalidAmount):
        await services.ledger.grant(G, Actor(ADMIN, is_admin=True), 2, amount, reason="because", key="bad2")
    assert await snapshot(services) == before


async def test_self_transfer_and_insufficient_funds_change_nothing(services):
    await seed(services, 1, 100)
    before = await snapshot(services)
    with pytest.raises(InvalidInput):
        await services.ledger.transfer(G, 1, 1, 10, key="self")
    with pytest.raises(InsufficientFunds) as info:
        await services.ledger.transfer(G, 1, 2, 101, key="big")
    assert info.value.balance == 100
    with pytest.raises(InsufficientFunds):
        await services.ledger.transfer(G, 3, 2, 1, key="nobody")
    with pytest.raises(InsufficientFunds):
        await services.ledger.take(G, Actor(ADMIN, is_admin=True), 1, 101, reason="too much", key="take")
    assert await snapshot(services) == before


async def test_grant_take_need_reason_and_are_recorded(services):
    with pytest.raises(InvalidInput):
        await services.ledger.grant(G, Actor(ADMIN, is_admin=True), 5, 10, reason=" ", key="g")
    await services.ledger.grant(G, Actor(ADMIN, is_admin=True), 5, 10, reason="event prize", key="g")
    await services.ledger.take(G, Actor(ADMIN, is_admin=True), 5, 4, reason="correction", key="t")
    page = await services.ledger.history(G, 5)
    assert [(e.kind, e.delta, e.note, e.actor_id) for e in page.rows] == [
        ("take", -4, "correction", ADMIN), ("grant", 10, "event prize", ADMIN)]
    await assert_audit_ok(services)


async def test_replayed_key_returns_first_result(services):
    await seed(services, 1, 100)
    first = await services.ledger.transfer(G, 1, 2, 40, key="k")
    second = await services.ledger.transfer(G, 1, 2, 40, key="k")
    assert second.replayed and not first.replayed
    assert second.entries == first.entries
    assert await services.ledger.balance(G, 1) == 60
    with pytest.raises(IdempotencyConflict):
        await services.ledger.transfer(G, 1, 3, 40, key="k")
    # Replay still answers after the money is gone (no InsufficientFunds on retry).
    await services.ledger.transfer(G, 1, 3, 60, key="k2")
    assert (await services.ledger.transfer(G, 1, 2, 40, key="k")).replayed


async def test_same_key_retried_concurrently_moves_once(services):
    await seed(services, 1, 1000)
    results = await asyncio.gather(
        *[services.ledger.transfer(G, 1, 2, 7, key="same") for _ in range(50)]
    )
    assert sum(not r.replayed for r in results) == 1
    assert await services.ledger.balance(G, 2) == 7
    await assert_audit_ok(services)


@pytest.mark.slow
async def test_thousand_concurrent_transfers_conserve_total(services):
    users = list(range(100, 120))
    for user in users:
        await seed(services, user, 500)
    rng = random.Random(7)

    async def one(i):
        a, b = rng.sample(users, 2)
        try:
            await services.ledger.transfer(G, a, b, rng.randint(1, 120), key=f"race:{i}")
            return 1
        except InsufficientFunds:
            return 0

    moved = sum(await asyncio.gather(*[one(i) for i in range(1000)]))
    balances = [await services.ledger.balance(G, u) for u in users]
    assert min(balances) >= 0
    assert sum(balances) == 500 * len(users)
    assert await services.db["ledger"].count_documents({"kind": "transfer"}) == 2 * moved
    await assert_audit_ok(services)


async def test_concurrent_debits_never_overdraw(services):
    await seed(services, 1, 100)
    outcomes = await asyncio.gather(
        *[services.ledger.transfer(G, 1, 2 + i, 1, key=f"d{i}") for i in range(200)],
        return_exceptions=True,
    )
    assert sum(not isinstance(o, Exception) for o in outcomes) == 100
    assert all(isinstance(o, InsufficientFunds) for o in outcomes if isinstance(o, Exception))
    assert await services.ledger.balance(G, 1) == 0
    await assert_audit_ok(services)


def test_multipliers_are_integer_and_round_down():
    assert apply_multipliers(5, []) == (5, 100)
    assert apply_multipliers(5, [200]) == (10, 200)
    assert apply_multipliers(5, [150]) == (7, 150)
    assert apply_multipliers(3, [150, 150]) == (6, 225)


async def test_earn_applies_active_multiplier(services, clock):
    now = clock.now()
    await services.boosts.windows.add(G, 200, starts_at=now - timedelta(hours=1),
                                   ends_at=now + timedelta(hours=1), reason="double weekend")
    movement = await services.ledger.earn(G, 7, 25, key="e1")
    assert movement.entries[0].delta == 50 and movement.entries[0].multiplier_pct == 200
    clock.advance(hours=2)
    assert (await services.ledger.earn(G, 7, 25, key="e2")).entries[0].delta == 25
    await assert_audit_ok(services)


# --- daily ----------------------------------------------------------------------------------

async def test_daily_once_per_day_with_streak_and_grace(services, clock):
    s = GuildSettings(daily_amount=100, daily_streak_bonus=10, daily_streak_cap=3)
    first = await services.ledger.claim_daily(G, 1, s)
    assert (first.amount, first.streak) == (100, 1)
    with pytest.raises(Cooldown) as info:
        await services.ledger.claim_daily(G, 1, s)
    assert info.value.retry_at == datetime(2026, 1, 6, tzinfo=UTC)
    clock.advance(days=1)
    assert (await services.ledger.claim_daily(G, 1, s)).amount == 110
    clock.advance(days=2)  # one missed day: grace keeps the streak
    third = await services.ledger.claim_daily(G, 1, s)
    assert (third.streak, third.streak_kept_by_grace, third.amount) == (3, True, 120)
    clock.advance(days=1)
    assert (await services.ledger.claim_daily(G, 1, s)).amount == 130
    clock.advance(days=1)
    assert (await services.ledger.claim_daily(G, 1, s)).amount == 130  # capped at 3 bonus days
    clock.advance(days=3)  # two missed days: streak resets
    reset = await services.ledger.claim_daily(G, 1, s)
    assert (reset.streak, reset.amount) == (1, 100)
    assert await services.ledger.balance(G, 1) == 100 + 110 + 120 + 130 + 130 + 100
    await assert_audit_ok(services)


async def test_daily_resets_at_local_hour_in_guild_zone(services, clock):
    s = GuildSettings(timezone="America/New_York", daily_reset_hour=6)
    clock.set(datetime(2026, 3, 10, 10, 59, tzinfo=UTC))  # 06:59 EDT -> new day at 06:00
    claim = await services.ledger.claim_daily(G, 1, s)
    assert claim.next_reset == datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 11, 9, 59, tzinfo=UTC))  # 05:59 local: still the same day
    with pytest.raises(Cooldown):
        await services.ledger.claim_daily(G, 1, s)
    clock.set(datetime(2026, 3, 11, 10, 0, tzinfo=UTC))
    assert (await services.ledger.claim_daily(G, 1, s)).streak == 2


async def test_hundred_concurrent_daily_claims_credit_once(services):
    s = GuildSettings()
    outcomes = await asyncio.gather(
        *[services.ledger.claim_daily(G, 1, s) for _ in range(100)], return_exceptions=True
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, Cooldown) for o in outcomes if isinstance(o, BaseException))
    assert await services.ledger.balance(G, 1) == s.daily_amount
    await assert_audit_ok(services)


async def test_leaderboard_and_rank(services):
    for user, amount in [(1, 50), (2, 300), (3, 120), (4, 300)]:
        await seed(services, user, amount)
    page = await services.ledger.leaderboard(G, page=1, page_size=3)
    assert page.rows == ((1, 2, 300), (2, 4, 300), (3, 3, 120))
    assert (page.total, page.pages) == (4, 2)
    assert (await services.ledger.leaderboard(G, page=2, page_size=3)).rows == ((4, 1, 50),)
    assert await services.ledger.rank(G, 3) == 3
    assert await services.ledger.rank(G, 99) is None


async def test_guilds_are_isolated(services):
    await seed(services, 1, 100)
    await services.ledger.grant(G + 1, Actor(ADMIN, is_admin=True), 1, 5, reason="other guild", key="seed:1:100")
    assert await services.ledger.balance(G, 1) == 100
    assert await services.ledger.balance(G + 1, 1) == 5
    await assert_audit_ok(services)
