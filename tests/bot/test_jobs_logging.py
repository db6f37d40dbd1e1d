"""Scheduled jobs log quietly: one line per failure, no per-run INFO noise."""

from __future__ import annotations

import logging

import pytest

from bot.jobs import one_line_failures
from bot.runtime import quiet_scheduler

pytestmark = pytest.mark.timeout(30)


async def test_a_failing_job_logs_one_error_line(caplog):
    async def sweep():
        raise ConnectionError("store unreachable")

    caplog.set_level(logging.INFO, logger="bot.jobs")
    await one_line_failures("escrow-sweep", sweep)()  # does not raise: the next run retries
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert errors[0].getMessage() == ("job escrow-sweep failed: ConnectionError: "
                                      "store unreachable")


def test_scheduler_run_lines_show_only_at_debug():
    executor = logging.getLogger("apscheduler.executors.default")
    quiet_scheduler(logging.INFO)
    assert not executor.isEnabledFor(logging.INFO) and executor.isEnabledFor(logging.WARNING)
    quiet_scheduler(logging.DEBUG)
    assert executor.isEnabledFor(logging.DEBUG)
    quiet_scheduler(logging.INFO)


async def test_a_job_cancelled_at_shutdown_is_not_an_error(caplog):
    import asyncio

    started = asyncio.Event()

    async def sweep():
        started.set()
        await asyncio.sleep(60)

    caplog.set_level(logging.DEBUG, logger="bot.jobs")
    task = asyncio.create_task(one_line_failures("scheduler-lease", sweep)())
    await started.wait()
    task.cancel()  # what the scheduler's shutdown does to a running job
    await asyncio.wait_for(task, 5)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
