"""Injected time: every service asks a clock, so tests can move time deliberately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current timezone-aware UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, the demo)."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the clock's current time."""
        return self._now

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move forward by `delta` or by keyword units (hours=24, minutes=5) and return the new time."""
        step = delta if delta is not None else timedelta(**units)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += step
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to an absolute, timezone-aware time."""
        if when.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware times")
        self._now = when.astimezone(UTC)


#: The Unix epoch. Dates compared in queries are stored as epoch-ms integers (ARCHITECTURE §2).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_ms(when: datetime) -> int:
    """Epoch milliseconds of a datetime, truncated to the millisecond (a naive one counts as UTC).

    Exact integer arithmetic: `int(when.timestamp() * 1000)` goes through a float, whose
    product can land one millisecond short (…400.123 s -> …400122.9998 ms).
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH) // _ONE_MS


def from_ms(value: int) -> datetime:
    """The timezone-aware UTC datetime of epoch milliseconds (exact, no float)."""
    return EPOCH + timedelta(milliseconds=value)


def span_ms(delta: timedelta) -> int:
    """A duration in whole milliseconds (exact, no float), for windows compared with epoch-ms."""
    return delta // _ONE_MS


def unix_seconds(value: int) -> int:
    """Whole Unix seconds of epoch milliseconds (Discord's `<t:…>` markup, Stripe's times)."""
    return value // 1000
