"""Member anniversaries: a bonus on the anniversary of joining the guild, once per year.

The day is the guild's local date; members who joined on 29 February celebrate on 28 February
in other years. The bonus is a ledger earning under `anniversary:<user>:<year>`, so sweeps in two
processes, repeated sweeps the same day, or a restart pay it once; only the call that actually
paid reports it (and so only one process announces it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from economy.core.clock import Clock
from economy.core.ledger import LedgerService
from economy.core.modules import is_on
from economy.core.settings import SettingsService


@dataclass(frozen=True)
class AnniversaryPaid:
    """A bonus this call paid."""

    user_id: int
    years: int
    amount: int


def celebrates_on(joined: date, today: date) -> bool:
    """True when `today` is the anniversary of `joined` (29 Feb -> 28 Feb in common years)."""
    if (joined.month, joined.day) == (today.month, today.day):
        return True
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return (joined.month, joined.day) == (2, 29) and not leap and (today.month, today.day) == (2, 28)


class AnniversaryService:
    """Pays anniversary bonuses."""

    def __init__(self, ledger: LedgerService, settings: SettingsService, clock: Clock) -> None:
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def pay_due(self, guild_id: int,
                      members: Iterable[tuple[int, datetime | None]]) -> list[AnniversaryPaid]:
        """Pay every member (user id, joined at) whose anniversary is today; once per year.

        Nothing while seasons (which owns anniversaries) are switched off (/settings modules).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        settings = await self._settings.get(guild_id)
        bonus = settings.anniversary_bonus
        if bonus <= 0 or not is_on(settings, "seasons"):
            return []
        today = self._clock.now().astimezone(settings.zone).date()
        paid = []
        for user_id, joined_at in members:
            if joined_at is None:
                continue
            joined = joined_at.astimezone(settings.zone).date()
            years = today.year - joined.year
            if years < 1 or not celebrates_on(joined, today):
                continue
            movement = await self._ledger.earn(
                guild_id, user_id, bonus, key=f"anniversary:{user_id}:{today.year}",
                kind="reward", source="anniversary", ref=f"anniversary:{years}")
            if not movement.replayed:
                paid.append(AnniversaryPaid(user_id, years, movement.entries[0].delta))
        return paid
