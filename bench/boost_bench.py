"""The earning path with a boost active vs without, measured in one run.

One guild with its double-GEMS weekend on and a one-off x1.5 boost overlapping each weekend, so a
boosted earning goes through stacking and is recorded with its factor and boost ids. Rounds run at
weekday times (no boost) and weekend times (boosted), in pairs back to back with alternating order,
always in the same guild (on the embedded store, different guilds cost differently). Each round
earns through activity messages (record + flush) and direct `earn` calls. The ratio is the median
of the paired rounds' ratios, since the machines are shared and noisy. Goal: at most 1.10.

Run: `.venv/bin/python bench/boost_bench.py [--rounds 10] [--messages 600] [--earns 150]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from bot.store import open_store
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.currency.activity import ChatMessage
from economy.services import build_services

G = 1
MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)


async def _round(s, clock, round_no: int, messages: int, earns: int) -> float:
    start = time.perf_counter()
    for i in range(messages):
        await s.activity.record(ChatMessage(
            guild_id=G, user_id=1000 + i, channel_id=1, role_ids=frozenset(),
            content=f"round {round_no} message {i}", author_is_bot=False, at=clock.now()))
    await s.activity.flush()
    for i in range(earns):
        await s.ledger.earn(G, 5000 + i, 10, key=f"e:{round_no}:{i}")
    return time.perf_counter() - start


def _schedule(rounds: int) -> list[tuple[datetime, bool]]:
    """Increasing times, alternating plain/boosted pairs: (Tue, Sat), (Sat, next Mon), ..."""
    times = []
    for week in range(rounds):
        monday = MONDAY + timedelta(weeks=week)
        tuesday, saturday = monday + timedelta(days=1), monday + timedelta(days=5)
        if week % 2 == 0:
            times += [(tuesday, False), (saturday, True)]
        else:
            times += [(saturday, True), (monday + timedelta(weeks=1, hours=-1), False)]
    return times


async def bench(rounds: int, messages: int, earns: int) -> None:
    clock = ManualClock(MONDAY - timedelta(days=1))
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        await s.settings.set(G, Actor.system(), "double_weekend", "on")
        await _round(s, clock, -1, messages, earns)  # warm up: accounts exist from here on
        times: dict[bool, list[float]] = {False: [], True: []}
        for number, (when, boosted) in enumerate(_schedule(rounds)):
            clock.set(when)
            if boosted:  # a one-off boost overlapping the weekend: stacking on every earning
                await s.boosts.schedule(G, Actor.system(), factor="1.5", start="now", end="2h", reason="bench")
            applied = await s.boosts.applied(G, clock.now(), "activity")
            assert (applied.factor_bps > 10_000) == boosted
            times[boosted].append(await _round(s, clock, number, messages, earns))
        lookups = {}
        later = MONDAY + timedelta(weeks=rounds + 2)
        for boosted, when in ((False, later + timedelta(days=1)),
                              (True, later + timedelta(days=5))):
            clock.set(when)
            assert ((await s.boosts.applied(G, when, "activity")).factor_bps > 10_000) == boosted
            start = time.perf_counter()
            for _ in range(20_000):
                await s.boosts.applied(G, when, "activity")
            lookups[boosted] = (time.perf_counter() - start) / 20_000
        sample = await store.db["ledger"].find_one({"guild_id": G, "kind": "activity",
                                                    "multiplier_bps": 20_000})
        report = await audit(s.db)
        assert report.ok, report.render()
    plain, boosted = statistics.median(times[False]), statistics.median(times[True])
    ratio = statistics.median(b / p for p, b in zip(times[False], times[True], strict=True))
    per = messages + earns
    print(f"earnings per round: {messages} messages (record + flush) + {earns} earn calls")
    print(f"no boost: {plain * 1000:8.1f} ms/round ({per / plain:6.0f} earnings/s, p50 of {rounds})")
    print(f"boosted:  {boosted * 1000:8.1f} ms/round ({per / boosted:6.0f} earnings/s)")
    print(f"factor lookup per earning: {lookups[False] * 1e6:.1f} us plain, "
          f"{lookups[True] * 1e6:.1f} us boosted (cached; no database read)")
    print(f"sample boosted entry: delta={sample['delta']} factor_bps={sample['multiplier_bps']} "
          f"boosts={sample['boost_ids']}")
    print(f"ratio boosted / plain (median of paired rounds): {ratio:6.3f}  "
          f"({'OK' if ratio <= 1.10 else 'OVER'} <= 1.10)")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--earns", type=int, default=150)
    args = parser.parse_args()
    asyncio.run(bench(args.rounds, args.messages, args.earns))


if __name__ == "__main__":
    main()
