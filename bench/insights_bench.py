"""Insights rollups at scale on the embedded store, measured in one run.

A generator writes a guild of `--members` accounts and `--entries` ledger legs spread over
`--days` days (activity earnings, dailies, gifts between members as two legs, shop burns,
escrow holds and releases), straight into `ledger` and `accounts` (balances == the sum of
each account's legs, so `./gems audit` would pass), then times:

1. the full rollup: every day from the first, from no snapshot (target < 60 s);
2. one incremental day: one more day of legs, then the job's run (target < 2 s);
3. a full scan: one grouped pass over the whole ledger (what every day would cost without
   snapshots: each account's GEMS at the day's end), to print incremental / full-scan.

Run: `PYTHONPATH=. .venv/bin/python bench/insights_bench.py [--members 50000 --entries 2000000]`
(`--keep` leaves the generated store in var/bench/; `--reuse` starts from it: the full size
takes about half an hour to generate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.store import open_store
from economy.core.clock import ManualClock, to_ms
from economy.core.migrations import Migrator
from economy.services import build_services

G = 4242
START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 20_000
#: The generator's version in the kept store's name (a changed generator never reuses an old one).
GENERATOR = "v2"


def member_id(n: int) -> int:
    """The n-th member's Discord id: snowflakes are 8-byte integers (as the bot stores them)."""
    return 700_000_000_000_000_000 + n * 4_194_304


def day_legs(rng: random.Random, day: int, count: int, members: int, seq: list[int]) -> list[dict]:
    """About `count` legs on day `day` (UTC days from START)."""
    legs: list[dict] = []
    base = to_ms(START + timedelta(days=day))
    while len(legs) < count:
        seq[0] += 1
        n = seq[0]
        at_ms = base + rng.randrange(86_400_000)
        user = member_id(rng.randrange(members))
        roll = rng.random()
        common = {"guild_id": G, "at_ms": at_ms, "at": datetime.fromtimestamp(at_ms / 1000, UTC),
                  "held_delta": 0, "counterparty_id": None, "actor_id": None, "note": None,
                  "ref": None, "multiplier_pct": 100, "multiplier_bps": 10_000, "boost_ids": [],
                  "balance_after": None}
        if roll < 0.55:
            legs.append({**common, "user_id": user, "delta": 5 * rng.randint(1, 4),
                         "kind": "activity", "mint": True, "idempotency_key": f"a:{n}", "leg": 0})
        elif roll < 0.70:
            legs.append({**common, "user_id": user, "delta": 100, "kind": "daily", "mint": True,
                         "idempotency_key": f"d:{n}", "leg": 0})
        elif roll < 0.90:
            other = member_id(rng.randrange(members))
            amount = rng.randint(1, 20)
            legs.append({**common, "user_id": user, "delta": amount, "kind": "transfer",
                         "mint": False, "counterparty_id": other, "idempotency_key": f"t:{n}",
                         "leg": 1})
            legs.append({**common, "user_id": other, "delta": -amount, "kind": "transfer",
                         "mint": False, "counterparty_id": user, "idempotency_key": f"t:{n}",
                         "leg": 0})
        elif roll < 0.96:
            legs.append({**common, "user_id": user, "delta": -rng.randint(1, 10),
                         "kind": "spend", "mint": True, "idempotency_key": f"s:{n}", "leg": 0})
        else:  # an escrow: hold then release to a seller the same day
            seller = member_id(rng.randrange(members))
            amount = rng.randint(5, 50)
            legs.append({**common, "user_id": user, "delta": 0, "held_delta": amount,
                         "kind": "escrow_hold", "mint": False, "idempotency_key": f"h:{n}",
                         "leg": 0})
            legs.append({**common, "user_id": user, "delta": -amount, "held_delta": -amount,
                         "kind": "escrow_release", "mint": False, "counterparty_id": seller,
                         "idempotency_key": f"r:{n}", "leg": 0})
            legs.append({**common, "user_id": seller, "delta": amount,
                         "kind": "escrow_release", "mint": False, "counterparty_id": user,
                         "idempotency_key": f"r:{n}", "leg": 1})
    return legs


async def insert(db, legs: list[dict], totals: dict[int, list[int]]) -> None:
    """Write legs in batches, keeping each account's (GEMS, held) totals."""
    for leg in legs:
        acc = totals.setdefault(leg["user_id"], [0, 0])
        acc[0] += leg["delta"]
        acc[1] += leg["held_delta"]
    for i in range(0, len(legs), BATCH):
        part = legs[i:i + BATCH]
        await db.write(lambda part=part: db["ledger"].insert_many(part, ordered=False))


async def write_accounts(db, totals: dict[int, list[int]]) -> None:
    """Accounts whose balance + held equals the sum of their legs (negative balances can
    arise from the random gifts; the rollups do not care, the audit would)."""
    await db.write(lambda: db["accounts"].delete_many({"guild_id": G}))
    docs = [{"guild_id": G, "user_id": u, "balance": t[0] - t[1], "held": t[1],
             "lifetime_earned": 0, "system": False} for u, t in totals.items()]
    for i in range(0, len(docs), BATCH):
        await db.write(lambda part=docs[i:i + BATCH]: db["accounts"].insert_many(part))


def cpu_seconds(server_pid: int | None) -> tuple[float, float]:
    """CPU seconds used so far by this process and by the store's server process (0 unknown):
    on a shared machine the wall time depends on the load, these less."""
    server = 0.0
    if server_pid is not None:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return time.process_time(), server


def kept_dir(members: int, entries: int, days: int) -> Path:
    """Where `--keep` leaves the generated store (and `--reuse` finds it)."""
    return Path("var/bench") / f"insights-{GENERATOR}-{members}-{entries}-{days}"


async def generate(folder: str, members: int, entries: int, days: int) -> dict:
    """Write the guild's ledger and accounts into a fresh store in `folder`; returns what the
    measuring part needs (each account's totals, the leg counter)."""
    rng = random.Random(27)
    async with await open_store(mongodb_uri=None, database_name="bench",
                                data_dir=folder) as store:
        await Migrator(store.db, ManualClock(START)).apply_pending()
        totals: dict[int, list[int]] = {}
        seq = [0]
        t0 = time.perf_counter()
        per_day = entries // days
        for day in range(days):
            await insert(store.db, day_legs(rng, day, per_day, members, seq), totals)
        await write_accounts(store.db, totals)
        written = await store.db["ledger"].estimated_document_count()
        print(f"generated {written:,} ledger legs, {len(totals):,} accounts over {days} days "
              f"in {time.perf_counter() - t0:.1f} s")
    return {"seq": seq[0], "totals": {str(u): t for u, t in totals.items()}}


def copy_store(source: Path, target: Path) -> None:
    """Copy a stopped store's SQLite files (the database and any WAL left)."""
    target.mkdir(parents=True, exist_ok=True)
    for file in source.glob("bench.db*"):
        shutil.copy2(file, target / file.name)


async def main(members: int, entries: int, days: int, *, keep: bool, reuse: bool,
               generate_only: bool = False) -> None:
    kept = kept_dir(members, entries, days)
    with tempfile.TemporaryDirectory(prefix="gems-insights-bench-") as folder:
        if reuse and (kept / "meta.json").exists():
            t0 = time.perf_counter()
            copy_store(kept, Path(folder))
            meta = json.loads((kept / "meta.json").read_text())
            print(f"reused the store generated in {kept} (copied in "
                  f"{time.perf_counter() - t0:.1f} s)")
        else:
            meta = await generate(folder, members, entries, days)
            if keep or reuse:
                copy_store(Path(folder), kept)
                (kept / "meta.json").write_text(json.dumps(meta))
                print(f"kept the generated store in {kept}")
        if generate_only:
            return
        await measure(folder, members, entries, days, meta)


async def measure(folder: str, members: int, entries: int, days: int, meta: dict) -> None:
    """Time the full rollup, one incremental day and a full scan on the generated store."""
    clock = ManualClock(START + timedelta(days=days, minutes=10))
    totals = {int(u): t for u, t in meta["totals"].items()}
    seq = [int(meta["seq"])]
    per_day = entries // days
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    async with await open_store(mongodb_uri=None, database_name="bench",
                                data_dir=folder) as store:
        services = build_services(store.db, clock)
        first, last = START.date(), START.date() + timedelta(days=days - 1)
        server = store.server.process.pid if store.server and store.server.process else None
        t0, cpu0 = time.perf_counter(), cpu_seconds(server)
        rolled = await services.insights.rollup(G, first, last)
        full = time.perf_counter() - t0
        print(f"full rollup: {len(rolled)} days in {full:.1f} s "
              f"({full / len(rolled) * 1000:.0f} ms/day; target < 60 s); CPU: this process "
              f"{cpu_seconds(None)[0] - cpu0[0]:.1f} s, the store's server "
              f"{cpu_seconds(server)[1] - cpu0[1]:.1f} s")
        print(f"   last day: supply {rolled[-1].supply:,}, active {rolled[-1].active:,}, "
              f"weekly {rolled[-1].weekly_active:,}, gini {rolled[-1].gini:.3f}")

        # The incremental day's legs come from their own generator (the same with --reuse).
        rng = random.Random(f"27:{days}")
        await insert(store.db, day_legs(rng, days, per_day, members, seq), totals)
        await write_accounts(store.db, totals)
        clock.set(START + timedelta(days=days + 1, minutes=10))
        t0 = time.perf_counter()
        done = await services.insights.run_due([G])
        incremental = time.perf_counter() - t0
        print(f"incremental day: {done} day ({per_day:,} legs) in {incremental:.2f} s "
              f"(target < 2 s)")

        ledger = services.insights._src.ledger
        t0 = time.perf_counter()
        await ledger.sums_between(G, 0, to_ms(clock.now()))
        scan = time.perf_counter() - t0
        print(f"full scan (each account's GEMS from the whole ledger): {scan:.2f} s; "
              f"incremental / full scan = {incremental / scan:.2f}; "
              f"full rollup / full scan = {full / scan:.2f}")
        again = await services.insights.rollup(G, last + timedelta(days=1),
                                               last + timedelta(days=1))
        stored = await services.insights.daily(G, 1)
        print(f"recomputed the incremental day: same document = {again == stored}")
        assert date.fromisoformat(stored[0].day) == last + timedelta(days=1)
        print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated store in var/bench/ for --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="start from the store kept by --keep for the same sizes "
                             "(generated and kept when there is none)")
    parser.add_argument("--generate-only", action="store_true",
                        help="with --keep: generate and keep the store, measure nothing")
    args = parser.parse_args()
    asyncio.run(main(args.members, args.entries, args.days, keep=args.keep, reuse=args.reuse,
                     generate_only=args.generate_only))
