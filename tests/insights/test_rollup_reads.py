"""The rollups' read of a day's legs as columns (one grouped read per day) gives exactly what
reading every leg document gives: the same columns leg for leg, and the same rollup documents,
active sets, snapshots and anomaly inputs on a randomized ledger (every kind, system accounts,
missing and null optional fields, legs on the day boundaries, ranges read in slices)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from economy.core.actor import Actor
from economy.core.clock import to_ms
from economy.insights.rollup import RollupEngine, legs_as_columns, legs_as_documents
from economy.repos import ledger_repo
from tests.depth import deep

pytestmark = pytest.mark.timeout(180)
G = 2702
DAY1 = date(2026, 3, 1)
DAYS = 5
KINDS = ("earn", "activity", "daily", "reward", "grant", "transfer", "escrow_hold",
         "escrow_release", "escrow_split", "refund", "spend", "sink", "fee", "take", "reset",
         "purchase", "mystery")
INSIGHTS = ("insights_daily", "insights_active", "insights_snapshots", "insights_state",
            "insights_flags")
OPTIONAL = ("delta", "held_delta", "mint", "multiplier_bps", "counterparty_id")


def random_legs(rng: random.Random, count: int) -> list[dict]:
    """`count` legs over DAYS UTC days (a few exactly on a day's first or last millisecond),
    with optional fields sometimes null and sometimes missing."""
    start = to_ms(datetime.combine(DAY1, datetime.min.time(), UTC))
    day_ms = 86_400_000
    users = [0, -1, -7, -(2**40), *range(1, 40)]  # the treasury, shards, tombstones, members
    legs = []
    for n in range(count):
        day = rng.randrange(DAYS)
        at_ms = start + day * day_ms + rng.choice(
            (0, day_ms - 1, rng.randrange(day_ms), rng.randrange(day_ms)))
        leg = {"guild_id": G, "user_id": rng.choice(users), "at_ms": at_ms,
               "at": datetime.fromtimestamp(at_ms / 1000, UTC), "kind": rng.choice(KINDS),
               "delta": rng.randint(-60, 90), "held_delta": rng.choice((0, 0, 25, -25, -40)),
               "mint": rng.random() < 0.5,
               "multiplier_bps": rng.choice((10_000, 15_000, 20_000, 12_345, 0, None)),
               "counterparty_id": rng.choice((None, 0, -3, *range(1, 40))),
               "idempotency_key": f"r:{n}", "leg": 0, "note": None, "ref": None}
        for name in OPTIONAL:
            roll = rng.random()
            if roll < 0.08:
                del leg[name]
            elif roll < 0.14 and name != "mint":  # `mint` is a boolean, never null
                leg[name] = None
        legs.append(leg)
    return legs


async def seed(services, rng: random.Random) -> None:
    await services.settings.set(G, Actor.system(), "activity_amount", "3")
    legs = random_legs(rng, deep(900, 9_000))
    db = services.db
    await db.write(lambda: db["ledger"].insert_many(legs))


async def stored(services) -> dict[str, list[dict]]:
    """Every insights document of the guild, without store ids."""
    found = {}
    for name in INSIGHTS:
        docs = await services.db[name].find({"guild_id": G}).sort("_id", 1).to_list()
        found[name] = docs
    return found


async def run(services, reader) -> tuple[list, dict[str, list[dict]]]:
    """Roll up the DAYS days from scratch with `reader`; the results and stored documents."""
    for name in INSIGHTS:
        await services.db.write(lambda name=name: services.db[name].delete_many({"guild_id": G}))
    insights = services.insights
    engine = RollupEngine(insights._repo, insights._src, read_legs=reader)
    settings = await services.settings.get(G)
    accounts_seen = []

    async def seen(result, accounts) -> None:  # every account at each day's end
        accounts_seen.append({u: tuple(v) for u, v in accounts.items()})

    results = await engine.run(G, settings, DAY1, DAY1 + timedelta(days=DAYS - 1), on_day=seen)
    return [results, accounts_seen], await stored(services)


def as_tuples(legs: list[dict]) -> Counter:
    """Each leg as the values the rollups count (missing and null read alike)."""
    return Counter((leg["user_id"], int(leg.get("delta") or 0), int(leg.get("held_delta") or 0),
                    leg["at_ms"], leg.get("kind"), bool(leg.get("mint")),
                    leg.get("multiplier_bps"), leg.get("counterparty_id")) for leg in legs)


async def test_columns_hold_every_leg_once(services, clock, monkeypatch):
    await seed(services, random.Random(2702))
    ledger = services.insights._src.ledger
    start = to_ms(datetime.combine(DAY1, datetime.min.time(), UTC))
    end = start + DAYS * 86_400_000
    every = await legs_as_documents(ledger, G, start, end)
    assert len(every) == deep(900, 9_000)
    assert as_tuples(await legs_as_columns(ledger, G, start, end)) == as_tuples(every)
    # A range larger than a slice is read in halves: still every leg once.
    monkeypatch.setattr(ledger_repo, "LEG_COLUMNS_CHUNK", 37)
    assert as_tuples(await legs_as_columns(ledger, G, start, end)) == as_tuples(every)
    one_day = await legs_as_columns(ledger, G, start, start + 86_400_000)
    assert as_tuples(one_day) == as_tuples(
        [leg for leg in every if leg["at_ms"] < start + 86_400_000])


async def test_columns_and_documents_give_the_same_rollups(services, clock, monkeypatch):
    await seed(services, random.Random(27))
    clock.set(datetime.combine(DAY1 + timedelta(days=DAYS), datetime.min.time(), UTC)
              + timedelta(hours=1))
    by_documents = await run(services, legs_as_documents)
    by_columns = await run(services, legs_as_columns)
    assert by_columns == by_documents
    results = by_documents[0][0]
    assert len(results) == DAYS and any(r.rollup.messages_earned for r in results)
    assert any(r.partners for r in results) and any(r.rollup.escrow_released for r in results)
    monkeypatch.setattr(ledger_repo, "LEG_COLUMNS_CHUNK", 50)
    assert await run(services, legs_as_columns) == by_documents
