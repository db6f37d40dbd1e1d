"""Side by side: our ledger vs Red-DiscordBot's bank, the same transfers, interleaved runs.

The workload (as in issue 14): N concurrent transfers of 1-50 between random pairs of M members,
seed 7, every member seeded with 1,000. It runs through
  - Red 3.5.24's bank API (JSON driver) in a subprocess with bench/.venv-red's interpreter
    (bench/red_bank_worker.py; the venv is created with pip on first use),
  - our LedgerService without group commit (LEDGER_BATCH_MAX=1: one transaction per transfer,
    the code before group commit) and with it (the defaults),
each on a fresh store, in rotating order, `rounds` times; medians are printed. Drift is the
money created (+) or destroyed (-): the members' total after minus before. For ours the ledger
audit must pass as well. Only the concurrent transfers are timed.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bot.store import open_store
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.errors import InsufficientFunds
from economy.core.migrations import Migrator
from economy.services import build_services

RED_VERSION = "Red-DiscordBot==3.5.24"
BENCH = Path(__file__).resolve().parent
RED_VENV = BENCH / ".venv-red"
SEED_BALANCE = 1000
G = 1


def workload(transfers: int, members: int, seed: int = 7) -> dict:
    """The transfers both banks run: [from, to, amount] between distinct members."""
    rng = random.Random(seed)
    ids = list(range(1, members + 1))
    moves = [[*rng.sample(ids, 2), rng.randint(1, 50)] for _ in range(transfers)]
    return {"guild": G, "members": ids, "seed_balance": SEED_BALANCE, "transfers": moves}


def red_python() -> Path:
    """The interpreter of bench/.venv-red, created (python3.11 + pip from PyPI) on first use."""
    python = RED_VENV / "bin" / "python"
    if python.exists():
        return python
    # Red 3.5 supports Python 3.8-3.11; the bot's own interpreter is 3.11 in this project.
    base = getattr(sys, "_base_executable", sys.executable)
    print(f"creating {RED_VENV} with {RED_VERSION} (one time) ...", flush=True)
    subprocess.run([base, "-m", "venv", str(RED_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    RED_VERSION], check=True)
    return python


def run_red(python: Path, work: dict) -> dict:
    """One Red run in a fresh interpreter and a fresh data directory."""
    done = subprocess.run([str(python), str(BENCH / "red_bank_worker.py")],
                          input=json.dumps(work), capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"Red worker failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["drift"] = result["after"] - result["before"]
    return result


async def run_ours(work: dict, *, batch_max: int) -> dict:
    """One run of our ledger on a fresh embedded store; returns rate, drift, latencies."""
    clock = ManualClock()
    async with await open_store(mongodb_uri=None, database_name="cmp", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock, ledger_batch_max=batch_max)
        for uid in work["members"]:
            await s.ledger.grant(G, Actor.system(), uid, work["seed_balance"], reason="seed", key=f"seed:{uid}")
        before = sum([await s.ledger.balance(G, u) for u in work["members"]])
        latencies: list[float] = []
        writer = s.ledger.writer
        batches_before = writer.batches if writer else 0

        async def one(i: int, sender: int, recipient: int, amount: int) -> bool:
            t = time.perf_counter()
            try:
                await s.ledger.transfer(G, sender, recipient, amount, key=f"cmp:{i}")
                return True
            except InsufficientFunds:
                return False
            finally:
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        results = await asyncio.gather(*[one(i, *t) for i, t in enumerate(work["transfers"])])
        seconds = time.perf_counter() - started
        after = sum([await s.ledger.balance(G, u) for u in work["members"]])
        report = await audit(s.db)
    latencies.sort()
    return {"seconds": seconds, "ok": sum(results), "refused": len(results) - sum(results),
            "drift": after - before, "audit_ok": report.ok,
            "p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99)],
            "batches": writer.batches - batches_before if writer else None}


async def compare(*, transfers: int, rounds: int, members: list[int], red: bool) -> None:
    """Interleave Red, ours before group commit and ours with it; print medians."""
    python = None
    if red:
        try:
            python = red_python()
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"Red-DiscordBot could not be installed ({error}); comparing ours only.")
    variants = ["red", "ours-1", "ours-batch"] if python else ["ours-1", "ours-batch"]
    for count in members:
        work = workload(transfers, count)
        runs: dict[str, list[dict]] = {v: [] for v in variants}
        for r in range(rounds):
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for variant in order:
                if variant == "red":
                    result = await asyncio.to_thread(run_red, python, work)
                else:
                    result = await run_ours(work, batch_max=1 if variant == "ours-1" else 256)
                    assert result["audit_ok"], "ledger audit failed"
                result["rate"] = transfers / result["seconds"]
                runs[variant].append(result)
        _print(count, transfers, rounds, runs)


def _print(members: int, transfers: int, rounds: int, runs: dict[str, list[dict]]) -> None:
    def med(variant: str, field: str) -> float:
        return statistics.median(r[field] for r in runs[variant])

    print(f"\n{transfers} concurrent transfers of 1-50 among {members} members, seed 7, "
          f"median of {rounds} interleaved rounds")
    names = {"red": "Red 3.5.24 bank (JSON)", "ours-1": "GEMS, batch max 1 (before)",
             "ours-batch": "GEMS, group commit (256/2ms)"}
    for variant, results in runs.items():
        drifts = sorted({r["drift"] for r in results})
        line = (f"  {names[variant]:30s} {med(variant, 'rate'):8.0f} transfers/s   "
                f"drift {drifts}   refused {med(variant, 'refused'):.0f}")
        if variant != "red":
            line += (f"   p50 {med(variant, 'p50') * 1000:7.1f} ms  "
                     f"p99 {med(variant, 'p99') * 1000:7.1f} ms")
        if variant == "ours-batch":
            line += f"   {med(variant, 'batches'):.0f} batches"
        print(line)
    batch = med("ours-batch", "rate")
    print(f"  group commit / batch max 1:    {batch / med('ours-1', 'rate'):8.1f}x")
    if "red" in runs:
        print(f"  group commit / Red:            {batch / med('red', 'rate'):8.1f}x "
              f"(goal >= 5x with zero drift)")
        print(f"  batch max 1 / Red:             {med('ours-1', 'rate') / med('red', 'rate'):8.1f}x")
