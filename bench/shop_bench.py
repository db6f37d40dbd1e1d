"""Shop purchases and raffle tickets vs transfers, measured in one run on the embedded store.

A purchase is one ledger spend whose transaction also takes a unit (guarded by price, version
and stock), counts it in the member's holding and records the purchase; a transfer is a plain
two-leg ledger operation; a raffle ticket is one ledger spend whose transaction also counts the
ticket on the raffle (one document every buyer writes, guarded by its status and end) and on the
member (guarded by the cap). Rounds alternate (transfers, purchases, tickets), each `--ops` operations from
distinct members, run `--concurrency` at a time; the ratio is the median of the paired rounds'
ratios (the machines are shared and noisy).

Run: `PYTHONPATH=. .venv/bin/python bench/shop_bench.py [--rounds 6] [--ops 200] [--concurrency 20]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime

from bot.store import open_store
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.services import build_services

G = 1


async def _timed(calls, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(call):
        async with gate:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - start


async def bench(rounds: int, ops: int, concurrency: int) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        item = await s.shop.add(G, Actor.system(), name="Freeze", price=1, kind="consumable",
                                effect="streak_freeze", stock=rounds * ops + ops)
        raffle = await s.raffles.create(G, Actor.system(), prize="Bench prize", price=1,
                                        max_per_member=rounds + 1, ends="7d")
        for user in range(10_000, 10_000 + ops):
            await s.ledger.grant(G, Actor.system(), user, 10 * (rounds + 1), reason="bench", key=f"seed:{user}")
        times: dict[str, list[float]] = {"transfer": [], "purchase": [], "ticket": []}
        for number in range(-1, rounds):  # round -1 warms up
            transfers = [
                (lambda u=u, n=number: s.ledger.transfer(G, u, 20_000 + u, 1, key=f"t:{n}:{u}"))
                for u in range(10_000, 10_000 + ops)]
            purchases = [
                (lambda u=u, n=number: s.shop.buy(G, u, item.item_id, expected_price=1,
                                        expected_version=item.version, nonce=n + 1))
                for u in range(10_000, 10_000 + ops)]
            tickets = [
                (lambda u=u, n=number: s.raffles.buy(G, u, raffle.raffle_id, 1, key=f"b:{n}"))
                for u in range(10_000, 10_000 + ops)]
            for name, calls in (("transfer", transfers), ("purchase", purchases),
                                ("ticket", tickets)):
                took = await _timed(calls, concurrency)
                if number >= 0:
                    times[name].append(took)
        sold = (await store.db["shop_items"].find_one({"item_id": item.item_id}))["sold"]
        assert sold == (rounds + 1) * ops, sold
        drawn = await store.db["raffles"].find_one({"raffle_id": raffle.raffle_id})
        assert drawn["tickets_sold"] == (rounds + 1) * ops, drawn["tickets_sold"]
        report = await audit(s.db)
        assert report.ok, report.render()
    t, p = statistics.median(times["transfer"]), statistics.median(times["purchase"])
    k = statistics.median(times["ticket"])

    def ratio(name: str) -> float:
        return statistics.median(b / a for a, b in zip(times["transfer"], times[name],
                                                         strict=True))

    print(f"{ops} operations per round, {concurrency} at a time, {rounds} rounds (p50)")
    print(f"transfers:      {ops / t:8.0f} /s")
    print(f"purchases:      {ops / p:8.0f} /s")
    print(f"raffle tickets: {ops / k:8.0f} /s")
    print(f"purchase time / transfer time (median of paired rounds): {ratio('purchase'):.2f}")
    print(f"ticket time / transfer time (median of paired rounds):   {ratio('ticket'):.2f}")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(bench(args.rounds, args.ops, args.concurrency))


if __name__ == "__main__":
    main()
