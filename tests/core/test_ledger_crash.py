"""kill -9 of a bot process in the middle of a ledger batch: no acknowledged movement is lost and
no unacknowledged one is applied twice when it is retried.

A child process (its own embedded store on disk, like `./gems run`) keeps 100 transfers in flight
through the group-commit writer and prints `ack N` for every answered one. After a few batches its
next batch stalls at a chosen point, the child prints `stalled`, and the test SIGKILLs it (the
embedded server dies with it). Then the test reopens the data directory and retries every
transfer that may have been attempted, like members pressing the button again.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap

import pytest

from bot.store import open_store
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.repos.ledger_repo import LedgerRepo
from economy.services import build_services
from tests.procs import read_until, wait_dead

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: kill -9 of child processes

G, USERS, SEED, IN_FLIGHT = 5, tuple(range(1, 11)), 1_000_000, 100
COMMITTED_BATCHES = 3  # transfer batches committed (and answered) before the stall

CHILD = textwrap.dedent(f"""
    import asyncio, itertools, random, sys
    from bot.store import open_store
    from economy.core.actor import Actor
    from economy.core.clock import ManualClock
    from economy.core.migrations import Migrator
    from economy.services import build_services

    G, USERS, SEED, IN_FLIGHT = {G}, {USERS!r}, {SEED}, {IN_FLIGHT}

    def plan(i):
        rng = random.Random(i)
        a, b = rng.sample(USERS, 2)
        return a, b, rng.randint(1, 50)

    async def main(data_dir, mode):
        store = await open_store(mongodb_uri=None, database_name="gems", data_dir=data_dir)
        print("server", store.server.process.pid, flush=True)
        clock = ManualClock()
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        for u in USERS:
            await s.ledger.grant(G, Actor.system(), u, SEED, reason="seed", key=f"seed:{{u}}")
        real = store.db.transaction
        count = itertools.count(1)
        stall_at = {COMMITTED_BATCHES} + 1  # transactions from here on (seeding is done)

        async def stall():
            print("stalled", flush=True)
            await asyncio.Event().wait()  # until SIGKILL

        async def transaction(work):
            if next(count) != stall_at:
                return await real(work)
            if mode == "before_commit":  # the batch's writes are done, the commit is not
                async def stalled(session):
                    await work(session)
                    await stall()
                return await real(stalled)
            await real(work)  # committed, but no caller has been answered
            await stall()

        store.db.transaction = transaction
        numbers = itertools.count()

        async def member():
            while True:
                i = next(numbers)
                a, b, amount = plan(i)
                await s.ledger.transfer(G, a, b, amount, key=f"c:{{i}}")
                sys.stdout.write(f"ack {{i}}\\n")
                sys.stdout.flush()

        await asyncio.gather(*[member() for _ in range(IN_FLIGHT)])

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


def plan(i: int) -> tuple[int, int, int]:
    import random

    rng = random.Random(i)
    a, b = rng.sample(USERS, 2)
    return a, b, rng.randint(1, 50)


def run_child_until_stalled(data_dir, mode: str) -> list[str]:
    """Start the child, read its output until its batch stalls, then SIGKILL it."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), mode],
                             stdout=subprocess.PIPE, text=True)
    try:
        return read_until(child.stdout, "stalled")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


@pytest.mark.parametrize("mode", ["before_commit", "after_commit"])
async def test_kill_9_mid_batch_loses_no_ack_and_applies_no_retry_twice(tmp_path, mode):
    lines = await asyncio.to_thread(run_child_until_stalled, tmp_path, mode)
    server_pid = int(lines[0].split()[1])
    assert wait_dead(server_pid), "the embedded server outlived the killed bot"
    acked = {int(line.split()[1]) for line in lines if line.startswith("ack ")}
    assert len(acked) >= IN_FLIGHT  # several batches were answered before the kill
    attempted = range(len(acked) + IN_FLIGHT)  # indices are handed out one per answer

    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path) as store:
        s = build_services(store.db, ManualClock())
        repo = LedgerRepo(s.db)
        legs = {i: len(await repo.entries_for_key(G, f"c:{i}")) for i in attempted}
        assert all(legs[i] == 2 for i in acked), "an acknowledged transfer was lost"
        assert set(legs.values()) <= {0, 2}, "a transfer was half applied"
        unacked_committed = {i for i in attempted if legs[i] == 2} - acked
        if mode == "before_commit":
            assert not unacked_committed  # the stalled batch was rolled back as a whole
        else:
            assert unacked_committed  # the stalled batch committed without answering anyone
        report = await audit(s.db)
        assert report.ok, report.render()

        async def retry(i):
            a, b, amount = plan(i)
            return await s.ledger.transfer(G, a, b, amount, key=f"c:{i}")

        results = await asyncio.gather(*[retry(i) for i in attempted])
        replayed = {i for i, r in zip(attempted, results, strict=True) if r.replayed}
        assert replayed == acked | unacked_committed
        for i in attempted:
            assert len(await repo.entries_for_key(G, f"c:{i}")) == 2
        balances = [await s.ledger.balance(G, u) for u in USERS]
        assert sum(balances) == SEED * len(USERS)
        report = await audit(s.db)
        assert report.ok, report.render()
