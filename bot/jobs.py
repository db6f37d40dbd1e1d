"""Scheduled work (APScheduler 3.x on the bot's event loop).

Jobs are derived from settings and database state at start-up and are idempotent, so running one
twice, or late after a restart, does no harm. The activity flush runs in every process (each
flushes its own in-memory accumulator). `run_due()` runs every job once right now; the sandbox's
`advance()` uses it after moving the clock, since APScheduler itself waits on real time.

With several bot processes on one database only the holder of the scheduler lease
(economy/core/leases.py) runs the cross-guild sweeps; per-process jobs (flushes of in-memory
counters, the guild-work poll) run everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.settings import Settings
from economy.core.leases import Lease, process_owner_id
from economy.repos.lease_repo import LeaseRepo
from economy.services import Services

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


def one_line_failures(name: str, job: Job) -> Job:
    """`job`, logging a failure as one ERROR line (the traceback goes to DEBUG).

    A sweep that fails every minute must not fill the log with tracebacks; the next run retries.
    """

    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            # The scheduler cancels a running job when the bot stops: every job is idempotent
            # and guarded, so the next start (or another process) simply runs it again.
            log.debug("job %s cancelled (the bot is stopping)", name)
        except Exception as error:
            log.error("job %s failed: %s: %s", name, type(error).__name__, error)
            log.debug("job %s traceback", name, exc_info=error)

    return run


class Jobs:
    """Owns the scheduler and the jobs the bot runs."""

    def __init__(self, services: Services, settings: Settings, *, lease: Lease | None = None,
                 ) -> None:
        self._services = services
        self._settings = settings
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        #: Counts runs, failures and durations when set (bot.metrics.Metrics).
        self.metrics = None
        # The scheduler leader lease; its owner id names this process in `leases`/`outbox`.
        self.lease = lease or Lease(LeaseRepo(services.db), services.clock, owner=process_owner_id(),
                                    ttl_seconds=settings.lease_seconds)
        # Jobs every process runs (each flushes its own memory); the rest need the lease.
        self.per_process: set[str] = {"activity-flush", "listing-views-flush"}
        # name -> (job, interval seconds)
        self.jobs: dict[str, tuple[Job, float]] = {}
        # Jobs that write in-memory counts: run once more when the bot stops (final_flush).
        self._flushers: list[str] = []
        self.add("activity-flush", services.activity.flush,
                 every_seconds=settings.activity_flush_seconds, flush_on_stop=True)
        self.add("listing-views-flush", services.marketplace.sweeps.flush_views,
                 every_seconds=settings.activity_flush_seconds, flush_on_stop=True)

    def add(self, name: str, job: Job, *, every_seconds: float, per_process: bool = False,
            flush_on_stop: bool = False) -> None:
        """Register a job (feature packages call this from their `setup(bot)`).

        A job must be idempotent and safe when two bot processes run it at once: it acts on due
        documents through guarded updates, so only one process wins each transition. Jobs run on
        the scheduler leader only, unless `per_process` (flushing this process's own memory).
        """
        if name in self.jobs:
            raise ValueError(f"job {name!r} is already registered")
        self.jobs[name] = (job, every_seconds)
        if flush_on_stop:
            self._flushers.append(name)  # in-memory counts: always per process
            per_process = True
        if per_process:
            self.per_process.add(name)

    def _runner(self, name: str, job: Job) -> Job:
        """`job` as scheduled: leader jobs first confirm the lease (fencing token) or skip."""
        if name in self.per_process:
            return job

        async def run_if_leader() -> None:
            if await self.lease.confirm() is None:
                return
            await job()

        return run_if_leader

    def start(self) -> None:
        """Register jobs and start the scheduler (call from inside the event loop)."""
        self.scheduler.add_job(
            one_line_failures("scheduler-lease", self.lease.tick), "interval",
            id="scheduler-lease", seconds=self.lease.ttl_ms / 3000, max_instances=1,
            coalesce=True, replace_existing=True, next_run_time=datetime.now(UTC),
        )
        for name, (job, seconds) in self.jobs.items():
            self.scheduler.add_job(
                one_line_failures(name, self._timed(name, self._runner(name, job))), "interval",
                id=name,
                seconds=seconds, max_instances=1, coalesce=True, replace_existing=True,
            )
        self.scheduler.start()

    async def run_due(self) -> None:
        """Run every job once now (each is idempotent; leader jobs only if this process leads)."""
        try:
            await self.lease.tick()
        except Exception:
            log.exception("job scheduler-lease failed")
        for name, (job, _) in self.jobs.items():
            try:
                await self._timed(name, self._runner(name, job))()
            except Exception:
                log.exception("job %s failed", name)

    async def final_flush(self) -> None:
        """Run the flush jobs once more (the bot is stopping); each failure is one log line."""
        for name in self._flushers:
            try:
                result = await self.jobs[name][0]()
            except Exception:
                log.exception("final %s failed", name)
                continue
            if isinstance(result, int) and result:
                log.info("%s: wrote %d pending on shutdown", name, result)

    def _timed(self, name: str, job: Job) -> Job:
        return job if self.metrics is None else self.metrics.timed_job(name, job)

    async def stop(self) -> None:
        """Stop scheduling and hand the lease on (a running job finishes; pending work is
        flushed by the caller)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        try:
            await self.lease.release()
        except Exception as error:  # the store may already be gone; the lease then expires
            log.warning("could not release the scheduler lease: %s", error)
