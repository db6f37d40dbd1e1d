"""Guild-local days: a day starts at the guild's daily reset hour in its time zone (the same
boundary as /gems daily), so a rollup covers what members call "one day" there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from economy.core.clock import to_ms

if TYPE_CHECKING:
    from economy.core.settings import GuildSettings


@dataclass(frozen=True)
class Day:
    """One guild-local day: its date and its [start_ms, end_ms) in epoch ms."""

    day: date
    start_ms: int
    end_ms: int

    @property
    def key(self) -> str:
        """The ISO date (documents' `day`)."""
        return self.day.isoformat()


def day_of(settings: GuildSettings, day: date) -> Day:
    """The window of `day` for the guild (23 or 25 hours long across a DST change)."""
    zone, hour = settings.zone, settings.daily_reset_hour
    start = datetime.combine(day, time(hour), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(hour), zone).astimezone(UTC)
    return Day(day, to_ms(start), to_ms(end))


def day_at(settings: GuildSettings, at: datetime) -> date:
    """The guild-local day containing the instant `at`."""
    local = at.astimezone(settings.zone) - timedelta(hours=settings.daily_reset_hour)
    return local.date()


def monday(day: date) -> date:
    """The Monday of `day`'s ISO week (cohorts are weeks)."""
    return day - timedelta(days=day.weekday())
