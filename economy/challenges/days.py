"""Challenge days and member days.

A guild's challenge day starts at its reset hour in its time zone; the set drawn for that day is
keyed by the local date ("2026-03-08"). A member's streak counts their own calendar days in their
own time zone, so the same instant can be Monday in Los Angeles and Tuesday in Auckland.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Re-exported: challenge tests and benches import the epoch-ms helpers from here.
from economy.core.clock import from_ms, to_ms  # noqa: F401


@dataclass(frozen=True)
class DayWindow:
    """One guild challenge day: its key and its [start, end) in UTC."""

    day: date
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """The ISO date used in documents and idempotency keys."""
        return self.day.isoformat()

    def contains(self, at: datetime) -> bool:
        """Whether `at` falls in this day."""
        return self.start <= at < self.end


def guild_day(at: datetime, zone: ZoneInfo, reset_hour: int) -> DayWindow:
    """The challenge day containing `at` for a guild in `zone` resetting at `reset_hour`."""
    local = at.astimezone(zone)
    day = (local - timedelta(hours=reset_hour)).date()
    # Wall-clock start of `day` at the reset hour; across a DST change the day is 23 or 25 h long.
    start = datetime.combine(day, time(reset_hour), zone)
    end = datetime.combine(day + timedelta(days=1), time(reset_hour), zone)
    return DayWindow(day, start.astimezone(UTC), end.astimezone(UTC))


def member_day(at: datetime, zone: ZoneInfo) -> date:
    """The member's calendar date at `at` in their zone."""
    return at.astimezone(zone).date()


def week_key(day: date) -> str:
    """ISO week of a challenge day, e.g. `2026-W02` (the weekly bonus counts per week)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
