"""Stopping on Ctrl-C (SIGINT) and SIGTERM (systemd, docker stop): the same clean path for both.

The first signal asks the running bot to close (jobs stopped, pending activity GEMS and listing
views written, then the store stopped) and the process exits 0. Before the bot is up there is
nothing to write, so the start-up is cancelled. A second signal while stopping exits at once
(exit code 130): a stop that hangs must never make the process unkillable by Ctrl-C. The store
child then gets SIGTERM from the kernel and rolls back any transaction still open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger("gems")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """Signal handlers for the main task; `on_stop` registers how to stop what is running."""

    def __init__(self, *, exit_now: Callable[[int], object] = os._exit) -> None:
        self.requested = False
        self._exit_now = exit_now
        self._task = asyncio.current_task()
        self._stopper: Callable[[], Awaitable[object]] | None = None
        self._stopping: asyncio.Task | None = None

    def install(self) -> GracefulStop:
        """Handle SIGINT and SIGTERM on the running loop (no-op where the loop cannot)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)
        return self

    def uninstall(self) -> None:
        """Give the signals back to Python's defaults."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    def on_stop(self, stopper: Callable[[], Awaitable[object]]) -> None:
        """From now on, a stop request awaits `stopper()` (e.g. bot.close) instead of cancelling."""
        self._stopper = stopper
        if self.requested:
            self._begin()

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.requested:
            log.warning("%s again: exiting now, without the final writes", sig.name)
            logging.shutdown()
            self._exit_now(130)
            return
        self.requested = True
        log.info("%s received: finishing pending work and stopping", sig.name)
        self._begin()

    def _begin(self) -> None:
        if self._stopper is None:
            self._cancel()
        elif self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stopper())

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
