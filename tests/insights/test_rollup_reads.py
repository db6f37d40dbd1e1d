"""The rollups read each day's legs as columns per kind (one grouped read) and count them kind by
kind. On a randomized ledger (every kind, system accounts, missing and null optional fields, legs
on the day boundaries) that gives exactly what the former path gave -- every leg document read
and counted one by one (kept below as the oracle) -- also when a range is read in slices."""

from __future__ import annotations

import random
from collections import Counter, deque
from datetime import UTC, date, datetime, timedelta

import pytest

from economy.core.actor import Actor
from economy.core.clock import to_ms
from economy.insights import metrics
from economy.repos import ledger_repo
from tests.depth import deep

pytestmark = pytest.mark.timeout(180)
G = 2702
DAY1 = date(2026, 3, 1)
DAYS = 5
DAY_MS = 86_400_000
START = to_ms(datetime.combine(DAY1, datetime.min.time(), UTC))
KINDS = ("earn", "activity", "daily", "reward", "grant", "transfer", "escrow_hold",
         "escrow_release", "escrow_split", "refund", "spend", "sink", "fee", "take", "reset",
         "purchase", "mystery")
OPTIONAL = ("delta", "held_delta", "mint", "multiplier_bps", "counterparty_id")
PER_MESSAGE = 3


def random_legs(rng: random.Random, count: int) -> list[dict]:
    """`count` legs over DAYS UTC days (some on a day's first or last millisecond), with
    optional fields sometimes null and sometimes missing, some without a kind."""
    # The treasury, shards, tombstones, members (two with Discord-sized ids: 8-byte integers).
    users = [0, -1, -7, -(2**40), *range(1, 38), 1_234_567_890_123_456_789, 2**63 - 1]
    legs = []
    for n in range(count):
        at_ms = START + rng.randrange(DAYS) * DAY_MS + rng.choice(
            (0, DAY_MS - 1, rng.randrange(DAY_MS), rng.randrange(DAY_MS)))
        leg = {"guild_id": G, "user_id": rng.choice(users), "at_ms": at_ms,
               "at": datetime.fromtimestamp(at_ms / 1000, UTC), "kind": rng.choice(KINDS),
               "delta": rng.randint(-60, 90), "held_delta": rng.choice((0, 0, 25, -25, -40)),
               "mint": rng.random() < 0.5,
               "multiplier_bps": rng.choice((10_000, 15_000, 20_000, 12_345, 0, None)),
               "counterparty_id": rng.choice((None, 0, -3, *range(1, 38), 2**63 - 1)),
               "idempotency_key": f"r:{n}", "leg": 0, "note": None, "ref": None}
        for name in (*OPTIONAL, "kind"):
            roll = rng.random()
            if roll < (0.08 if name != "kind" else 0.02):
                del leg[name]
            elif roll < 0.14 and name not in ("mint", "kind"):  # `mint` is never null
                leg[name] = None
        legs.append(leg)
    return legs


async def seed(services, rng: random.Random) -> list[dict]:
    """The randomized ledger, straight into `ledger`; returns the legs as stored."""
    await services.settings.set(G, Actor.system(), "activity_amount", str(PER_MESSAGE))
    legs = random_legs(rng, deep(900, 9_000))
    db = services.db
    await db.write(lambda: db["ledger"].insert_many(legs))
    return await db["ledger"].find({"guild_id": G}).to_list()


def as_tuples(legs) -> Counter:
    """Each leg as the values the rollups count (missing and null read alike)."""
    return Counter((leg["user_id"], int(leg.get("delta") or 0), int(leg.get("held_delta") or 0),
                    leg["at_ms"], leg.get("kind"), bool(leg.get("mint")),
                    leg.get("multiplier_bps"), leg.get("counterparty_id")) for leg in legs)


def from_columns(docs: list[dict]):
    """The legs in column documents, as leg dicts."""
    return [{"user_id": u, "delta": d, "held_delta": h, "at_ms": a, "kind": k,
             "mint": m, "multiplier_bps": b, "counterparty_id": c}
            for doc in docs
            for k, u, d, h, a, m, b, c in zip(doc["kind"], doc["user_id"], doc["delta"],
                                              doc["held_delta"], doc["at_ms"], doc["mint"],
                                              doc["multiplier_bps"], doc["counterparty_id"],
                                              strict=True)]


# --- the oracle: the former leg-by-leg path (every leg document, counted one at a time) ------
def earned(leg: dict) -> bool:
    return leg.get("kind") in metrics.EARN_KINDS and int(leg.get("delta") or 0) > 0


def spent(leg: dict) -> bool:
    kind = leg.get("kind")
    if kind == "spend":
        return True
    return kind == "escrow_hold" and int(leg.get("held_delta") or 0) > 0


def traded(leg: dict) -> bool:
    kind = leg.get("kind")
    if kind in metrics.TRADE_KINDS:
        return True
    return kind == "refund" and int(leg.get("held_delta") or 0) < 0


class LegCounts:
    def __init__(self) -> None:
        self.minted = self.burned = self.transferred = self.earned = self.messages = 0
        self.released = self.refunded = self.split = 0
        self.earned_set: set[int] = set()
        self.spent_set: set[int] = set()
        self.traded_set: set[int] = set()
        self.earned_by: dict[int, int] = {}
        self.partners: dict[int, set[int]] = {}

    def add(self, leg: dict, user: int, delta: int, held_delta: int, per_message: int) -> None:
        kind = leg.get("kind")
        if leg.get("mint"):
            if delta > 0:
                self.minted += delta
            else:
                self.burned -= delta
        if not metrics.is_member(user):
            return
        if kind in metrics.TRANSFER_KINDS and delta > 0 and not leg.get("mint"):
            self.transferred += delta
        if held_delta < 0:
            if kind == "escrow_release":
                self.released += 1
            elif kind == "escrow_split":
                self.split += 1
            elif kind == "refund":
                self.refunded += 1
        if earned(leg):
            self.earned += delta
            self.earned_set.add(user)
            self.earned_by[user] = self.earned_by.get(user, 0) + delta
            if kind == "activity" and per_message > 0:
                bps = int(leg.get("multiplier_bps") or 10_000) or 10_000
                self.messages += (delta * 10_000 // bps) // per_message
        if spent(leg):
            self.spent_set.add(user)
        if traded(leg):
            self.traded_set.add(user)
            partner = leg.get("counterparty_id")
            if partner is not None and metrics.is_member(int(partner)):
                self.partners.setdefault(user, set()).add(int(partner))


def oracle_days(every: list[dict]) -> list[tuple]:
    """Each day's ledger numbers, active set, earnings, partners and accounts, leg by leg."""
    accounts: dict[int, list[int]] = {}
    window: deque = deque(maxlen=6)
    found = []
    for day in range(DAYS):
        lo, hi = START + day * DAY_MS, START + (day + 1) * DAY_MS
        supply_before = sum(acc[0] for acc in accounts.values())
        known = set(accounts)
        n = LegCounts()
        for leg in (leg for leg in every if lo <= leg["at_ms"] < hi):
            user, delta = leg["user_id"], int(leg.get("delta") or 0)
            held_delta, at_ms = int(leg.get("held_delta") or 0), int(leg["at_ms"])
            acc = accounts.setdefault(user, [0, 0, at_ms])
            acc[0] += delta
            acc[1] += held_delta
            acc[2] = min(acc[2], at_ms)
            n.add(leg, user, delta, held_delta, PER_MESSAGE)
        members = {u: acc for u, acc in accounts.items() if metrics.is_member(u)}
        supply = sum(acc[0] for acc in accounts.values())
        active = n.earned_set | n.spent_set | n.traded_set
        numbers = {
            "minted": n.minted, "burned": n.burned, "transferred": n.transferred,
            "earned": n.earned, "escrow_held": sum(acc[1] for acc in accounts.values()),
            "supply": supply, "velocity": metrics.velocity(n.transferred, supply),
            "gini": metrics.gini(acc[0] for acc in members.values()), "members": len(members),
            "new_members": len({u for u in members if u not in known}), "active": len(active),
            "active_earned": len(n.earned_set), "active_spent": len(n.spent_set),
            "active_traded": len(n.traded_set),
            "weekly_active": len(set(active).union(*window)),
            "median_earned": metrics.median(list(n.earned_by.values())),
            "messages_earned": n.messages, "escrow_released": n.released,
            "escrow_refunded": n.refunded, "escrow_split": n.split}
        window.append(active)
        found.append((numbers, active, n.earned_by, supply_before, n.partners,
                      {u: tuple(v) for u, v in accounts.items()}))
    return found


async def rolled_up(services) -> list[tuple]:
    """The DAYS days rolled up from scratch by the engine, in the oracle's shape."""
    for name in ("insights_daily", "insights_active", "insights_snapshots", "insights_state",
                 "insights_flags"):
        await services.db.write(lambda name=name: services.db[name].delete_many({"guild_id": G}))
    seen = []

    async def at_day_end(result, accounts) -> None:
        numbers = {k: v for k, v in result.rollup.model_dump().items() if k in NUMBERS}
        seen.append((numbers, result.active, result.earned_by, result.supply_before,
                     result.partners, {u: tuple(v) for u, v in accounts.items()}))

    insights = services.insights
    await insights._engine.run(G, await services.settings.get(G), DAY1,
                               DAY1 + timedelta(days=DAYS - 1), on_day=at_day_end)
    return seen


NUMBERS = set(oracle_days([])[0][0])


@pytest.mark.slow  # many examples: 900 random legs
async def test_columns_hold_every_leg_once(services, monkeypatch):
    every = await seed(services, random.Random(2702))
    ledger = services.insights._src.ledger
    end = START + DAYS * DAY_MS
    assert len(every) == deep(900, 9_000)
    assert as_tuples(from_columns(await ledger.leg_columns_between(G, START, end))) \
        == as_tuples(every)
    # A range larger than a slice is read in halves: still every leg once.
    monkeypatch.setattr(ledger_repo, "LEG_COLUMNS_CHUNK", 37)
    assert as_tuples(from_columns(await ledger.leg_columns_between(G, START, end))) \
        == as_tuples(every)
    one_day = await ledger.leg_columns_between(G, START, START + DAY_MS)
    assert as_tuples(from_columns(one_day)) == as_tuples(
        [leg for leg in every if leg["at_ms"] < START + DAY_MS])


@pytest.mark.slow  # many examples: 900 random legs against the oracle
async def test_columns_give_what_the_leg_by_leg_path_gave(services, clock, monkeypatch):
    every = await seed(services, random.Random(27))
    clock.set(datetime.combine(DAY1 + timedelta(days=DAYS), datetime.min.time(), UTC)
              + timedelta(hours=1))
    expected = oracle_days(every)
    assert any(day[0]["messages_earned"] for day in expected)
    assert any(day[4] for day in expected) and any(day[0]["escrow_released"] for day in expected)
    assert await rolled_up(services) == expected
    monkeypatch.setattr(ledger_repo, "LEG_COLUMNS_CHUNK", 50)  # every day read in slices
    assert await rolled_up(services) == expected
    # From the stored snapshot (the end of the last day) back to the first day: the same.
    settings = await services.settings.get(G)
    again = await services.insights._engine.run(G, settings, DAY1, DAY1 + timedelta(days=DAYS - 1))
    assert again == await services.insights.daily(G, DAYS + 1)
