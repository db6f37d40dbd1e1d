"""Is the bot's event loop falling behind? Two cheap signals for the response policy.

The response policy (bot/response_policy.py) defers an interaction on arrival only when the
process is actually behind; the rest start at once, with the off-loop watchdog as the safety
net. A fixed count of interactions in flight was the old signal, and steady traffic crossed it
all the time: at 100 interactions/s with ~0.1 s per answer about ten are always in flight
(Little's law), so 80 % of a steady stream paid a defer plus an edit (two HTTP calls) although
nothing was late. The gauge measures instead:

- **loop lag**: a probe scheduled every ``PROBE_SECONDS`` notes how late it ran; while it is
  overdue (a long loop turn in progress, e.g. a burst being parsed, a GC pause) the overdue time
  counts too, so the lag is seen *during* the turn, not only after it;
- **the arrival rate**: interactions that arrived in the last ``WINDOW_SECONDS``. A burst (a
  giveaway, hundreds in a few milliseconds) arrives far faster than one process answers
  (~250/s per core); a steady stream, however many it keeps in flight, does not.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

#: How often the lag probe runs.
PROBE_SECONDS = 0.05
#: How far back arrivals are counted.
WINDOW_SECONDS = 0.1


class LoadGauge:
    """Loop lag (a periodic probe) and recent arrivals (told by `arrival`).

    Start it from the loop it watches; `stop` cancels the probe.
    """

    def __init__(self, *, probe: float = PROBE_SECONDS, window: float = WINDOW_SECONDS) -> None:
        self._probe = probe
        self._window = window
        self._arrivals: deque[float] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        #: How late the last probe ran, in seconds.
        self.last_lag = 0.0

    @property
    def running(self) -> bool:
        """True while the probe is scheduled."""
        return self._handle is not None

    def start(self) -> None:
        """Schedule the probe on the running loop (idempotent)."""
        if self._handle is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._schedule(time.monotonic())

    def stop(self) -> None:
        """Cancel the probe."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def lag(self, now: float | None = None) -> float:
        """How far behind the loop is: the last probe's lateness, or how overdue the next
        probe is right now (a loop turn still running), whichever is larger."""
        if self._handle is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(self.last_lag, now - self._due)

    def arrival(self, now: float) -> int:
        """Note an interaction arriving at `now` (monotonic); returns how many arrived in the
        last window, this one included."""
        arrivals = self._arrivals
        arrivals.append(now)
        horizon = now - self._window
        while arrivals[0] < horizon:
            arrivals.popleft()
        return len(arrivals)

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + self._probe
        self._handle = self._loop.call_at(self._loop.time() + self._probe, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        self.last_lag = max(0.0, now - self._due)
        self._schedule(now)


__all__ = ["PROBE_SECONDS", "WINDOW_SECONDS", "LoadGauge"]
