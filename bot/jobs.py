"""Scheduled work (APScheduler 3.x on the bot's event loop).

Jobs are derived from settings and database state at start-up and are idempotent. The activity
flush runs in every process (each flushes its own in-memory accumulator).
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.settings import Settings
from economy.services import Services

log = logging.getLogger(__name__)


class Jobs:
    """Owns the scheduler and the jobs the bot runs."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self._services = services
        self._settings = settings
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        """Register jobs and start the scheduler (call from inside the event loop)."""
        self.scheduler.add_job(
            self._services.activity.flush, "interval", id="activity-flush",
            seconds=self._settings.activity_flush_seconds, max_instances=1, coalesce=True,
            replace_existing=True,
        )
        self.scheduler.start()

    async def stop(self) -> None:
        """Stop scheduling (running jobs finish; pending work is flushed by the caller)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
