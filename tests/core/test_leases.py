"""The scheduler leader lease: one holder at a time, takeover only after expiry, fencing tokens,
clean hand-over; and the jobs that only the leader runs. Time is the injected ManualClock."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs import Jobs
from bot.settings import Settings
from economy.core.leases import Lease
from economy.repos.base import find_docs
from economy.repos.lease_repo import LeaseRepo

pytestmark = pytest.mark.timeout(60)


def lease_for(services, clock, owner: str, ttl: float = 30) -> Lease:
    return Lease(LeaseRepo(services.db), clock, owner=owner, ttl_seconds=ttl)


async def test_one_of_many_racing_processes_wins_a_fresh_lease(services, clock):
    leases = [lease_for(services, clock, f"p{i}") for i in range(12)]
    won = await asyncio.gather(*(lease.tick() for lease in leases))
    assert sum(won) == 1
    leader = leases[won.index(True)]
    assert leader.token == 1 and leader.held()
    # The others keep failing while the leader renews.
    clock.advance(seconds=20)
    assert await leader.tick()
    assert not any(await asyncio.gather(*(lease.tick() for lease in leases if lease is not leader)))


async def test_takeover_only_after_expiry_with_a_new_token(services, clock):
    old, new = lease_for(services, clock, "old"), lease_for(services, clock, "new")
    assert await old.tick()
    clock.advance(seconds=29)
    assert not await new.tick()  # still valid: no takeover
    clock.advance(seconds=2)  # the old holder stopped renewing (crashed)
    assert not old.held()
    assert await new.tick() and new.token == 2
    doc = (await find_docs(services.db["leases"], {"_id": "scheduler"}))[0]
    assert doc["owner"] == "new" and doc["previous"]["owner"] == "old"
    assert not doc["previous"]["released"]
    assert doc["acquired_at"] >= doc["previous"]["expires_at"]
    # The old holder wakes up: its renewal is refused (fencing token changed), it steps down.
    assert await old.confirm() is None and old.token is None
    assert not await old.tick()
    terms = await LeaseRepo(services.db).terms("scheduler")
    assert [(t["token"], t["owner"]) for t in terms] == [(1, "old"), (2, "new")]
    assert terms[1]["previous"]["owner"] == "old" and not terms[1]["previous"]["released"]


async def test_confirm_asks_the_store_only_once_a_third_of_the_lease_has_passed(services, clock):
    """Before each job the leader confirms its lease. Within a third of the time to live since
    it renewed, no process can have taken the lease over, so the confirmation writes nothing
    (a pass over every job used to renew once per job); later it renews."""
    lease = lease_for(services, clock, "leader", ttl=30)
    assert await lease.tick()
    renewed = (await find_docs(services.db["leases"], {"_id": "scheduler"}))[0]["expires_at"]
    for _ in range(5):
        assert await lease.confirm() == 1
    clock.advance(seconds=9)
    assert await lease.confirm() == 1
    doc = (await find_docs(services.db["leases"], {"_id": "scheduler"}))[0]
    assert doc["expires_at"] == renewed  # nothing written yet
    clock.advance(seconds=2)  # 11 s > 30 / 3
    assert await lease.confirm() == 1
    doc = (await find_docs(services.db["leases"], {"_id": "scheduler"}))[0]
    assert doc["expires_at"] == renewed + 11_000


async def test_many_processes_race_for_an_expired_lease_one_wins(services, clock):
    first = lease_for(services, clock, "first")
    assert await first.tick()
    clock.advance(seconds=31)
    others = [lease_for(services, clock, f"p{i}") for i in range(10)]
    won = await asyncio.gather(*(lease.tick() for lease in others))
    assert sum(won) == 1 and others[won.index(True)].token == 2


async def test_release_hands_over_without_waiting(services, clock):
    old, new = lease_for(services, clock, "old"), lease_for(services, clock, "new")
    assert await old.tick()
    await old.release()
    assert await new.tick() and new.token == 2
    doc = (await find_docs(services.db["leases"], {"_id": "scheduler"}))[0]
    assert doc["previous"]["released"]


async def test_only_the_leader_runs_cross_guild_jobs_per_process_jobs_run_everywhere(
        services, clock):
    settings = Settings(_env_file=None, discord_token=None)
    ran: list[str] = []

    def make(name: str) -> Jobs:
        jobs = Jobs(services, settings, lease=lease_for(services, clock, name))
        jobs.jobs.clear()

        async def sweep() -> None:
            ran.append(f"sweep:{name}")

        async def flush() -> None:
            ran.append(f"flush:{name}")

        jobs.add("sweep", sweep, every_seconds=60)
        jobs.add("flush", flush, every_seconds=60, per_process=True)
        return jobs

    a, b = make("a"), make("b")
    for _ in range(3):
        await asyncio.gather(a.run_due(), b.run_due())
        clock.advance(seconds=10)
    assert sorted(x for x in ran if x.startswith("flush")) == ["flush:a"] * 3 + ["flush:b"] * 3
    sweeps = [x for x in ran if x.startswith("sweep")]
    assert len(sweeps) == 3 and len(set(sweeps)) == 1  # one leader ran every sweep
    leader, other = (a, b) if sweeps[0] == "sweep:a" else (b, a)
    await leader.stop()  # clean shutdown hands the lease on
    ran.clear()
    await other.run_due()
    assert ran.count(f"sweep:{other.lease.owner}") == 1


async def test_a_stale_leader_skips_its_job(services, clock):
    settings = Settings(_env_file=None, discord_token=None)
    stale = Jobs(services, settings, lease=lease_for(services, clock, "stale", ttl=5))
    stale.jobs.clear()
    runs: list[int] = []

    async def sweep() -> None:
        runs.append(1)

    stale.add("sweep", sweep, every_seconds=60)
    await stale.run_due()
    assert runs == [1]
    clock.advance(seconds=6)  # paused past its expiry; another process took over meanwhile
    assert await lease_for(services, clock, "fresh", ttl=5).tick()
    await stale._runner("sweep", sweep)()  # what the scheduler would run next
    assert runs == [1]
