"""Ledger and activity throughput on the embedded store, measured in one run.

Prints absolute rates for this machine and ratios between them, which are what to compare
across runs (the machines are shared and noisy):
  - side by side with Red-DiscordBot's bank (bench/ledger_compare.py): the same concurrent
    transfers through Red 3.5.24 (JSON driver, in bench/.venv-red, created on first use) and
    through ours with and without group commit, interleaved, medians; rates, ratios, drift
    (money created or destroyed) and our latency per transfer under load
  - transfers/s: concurrent guarded transfers (group commit, the process default)
  - activity messages/s: messages through the earning rules, plus the flush that writes them
  - leaderboard page latency at N accounts, first page vs a deep page

Run: `.venv/bin/python bench/ledger_bench.py [--transfers 1000] [--accounts 50000]`
     `[--rounds 3] [--compare-transfers 2000] [--members 20,200] [--no-red] [--compare-only]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from ledger_compare import compare  # bench/ is the script's directory, so first on sys.path
from pymongo import InsertOne

from bot.store import open_store
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.currency.activity import ChatMessage
from economy.services import build_services

G = 1


async def bench(transfers: int, accounts: int, messages: int) -> None:
    clock = ManualClock()
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        users = list(range(1, 21))
        for u in users:
            await s.ledger.grant(G, Actor.system(), u, 10_000, reason="seed", key=f"seed:{u}")

        t = time.perf_counter()
        await asyncio.gather(*[
            s.ledger.transfer(G, users[i % 20], users[(i * 7 + 3) % 20] if (i * 7 + 3) % 20 != i % 20
                              else users[(i + 1) % 20], 1, key=f"b:{i}")
            for i in range(transfers)
        ])
        transfer_rate = transfers / (time.perf_counter() - t)

        t = time.perf_counter()
        for i in range(messages):
            clock.advance(seconds=0.7)
            await s.activity.record(ChatMessage(
                guild_id=G, user_id=1000 + i % 500, channel_id=1, role_ids=frozenset(),
                content=f"message number {i}", author_is_bot=False, at=clock.now()))
        record_rate = messages / (time.perf_counter() - t)
        t = time.perf_counter()
        await s.activity.flush()
        flush_seconds = time.perf_counter() - t
        message_rate = messages / (messages / record_rate + flush_seconds)

        report = await audit(s.db)
        assert report.ok, report.render()

        # Leaderboard at `accounts` accounts (bulk-seeded straight into the collection).
        docs = [InsertOne({"guild_id": G + 1, "user_id": 10_000 + i, "balance": (i * 7919) % 100_000,
                           "held": 0, "lifetime_earned": 0, "system": False})
                for i in range(accounts)]
        for start in range(0, accounts, 5000):
            await store.db["accounts"].bulk_write(docs[start:start + 5000], ordered=False)
        first, deep = [], []
        for _ in range(10):
            t = time.perf_counter()
            await s.ledger.leaderboard(G + 1, page=1)
            first.append(time.perf_counter() - t)
            t = time.perf_counter()
            await s.ledger.leaderboard(G + 1, page=accounts // 20)
            deep.append(time.perf_counter() - t)
        rank_t = time.perf_counter()
        await s.ledger.rank(G + 1, 10_000 + accounts // 2)
        rank_seconds = time.perf_counter() - rank_t

    print(f"transfers/s (concurrent, {transfers}):      {transfer_rate:8.0f}")
    print(f"activity record/s (rules only):        {record_rate:8.0f}")
    print(f"activity flush of {messages} msgs:          {flush_seconds * 1000:8.1f} ms")
    print(f"activity messages/s end to end:        {message_rate:8.0f}")
    print(f"ratio activity msgs / transfers:       {message_rate / transfer_rate:8.1f}x")
    p50_first, p50_deep = statistics.median(first), statistics.median(deep)
    print(f"leaderboard page 1 @ {accounts} accounts:   {p50_first * 1000:8.1f} ms (p50)")
    print(f"leaderboard page {accounts // 20} @ {accounts}:      {p50_deep * 1000:8.1f} ms (p50)")
    print(f"ratio deep page / first page:          {p50_deep / p50_first:8.1f}x")
    print(f"rank lookup:                            {rank_seconds * 1000:8.1f} ms")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison")
    parser.add_argument("--compare-transfers", type=int, default=2000)
    parser.add_argument("--members", default="20,200", help="member counts to compare at")
    parser.add_argument("--no-red", action="store_true", help="compare ours only (no Red venv)")
    parser.add_argument("--compare-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(compare(transfers=args.compare_transfers, rounds=args.rounds,
                        members=[int(m) for m in args.members.split(",")], red=not args.no_red))
    if not args.compare_only:
        asyncio.run(bench(args.transfers, args.accounts, args.messages))


if __name__ == "__main__":
    main()
