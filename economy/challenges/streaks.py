"""Challenge streaks: consecutive days (in the member's own zone) with at least one completion.

One missed day is forgiven per 7 days when the guild allows a grace day. The state is a small
dict stored whole (`state` of a `challenge_streaks` document) and updated through a version
guard, so two completions racing cannot both extend a streak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

GRACE_WINDOW_DAYS = 7


@dataclass(frozen=True)
class StreakState:
    """The streak as of `last` (the member-local day of the latest completion)."""

    count: int = 0
    best: int = 0
    last: date | None = None
    graces: tuple[date, ...] = ()  # missed days that were forgiven

    @classmethod
    def from_doc(cls, doc: dict | None) -> StreakState:
        """Read the stored form (ISO strings)."""
        if not doc:
            return cls()
        return cls(count=int(doc.get("count", 0)), best=int(doc.get("best", 0)),
                   last=date.fromisoformat(doc["last"]) if doc.get("last") else None,
                   graces=tuple(date.fromisoformat(d) for d in doc.get("graces", ())))

    def to_doc(self) -> dict:
        """The stored form."""
        return {"count": self.count, "best": self.best,
                "last": self.last.isoformat() if self.last else None,
                "graces": [d.isoformat() for d in self.graces]}


def advance(state: StreakState, day: date, grace_per_week: int) -> tuple[StreakState, bool]:
    """The state after a completion on `day`; returns (state, whether a grace day was used).

    A completion on the same day (or an older one, from a late sweep) changes nothing.
    """
    if state.last is not None and day <= state.last:
        return state, False
    recent = tuple(g for g in state.graces if (day - g).days < GRACE_WINDOW_DAYS)
    gap = (day - state.last).days if state.last else None
    used_grace = False
    if gap == 1:
        count = state.count + 1
    elif gap == 2 and len(recent) < grace_per_week:
        count = state.count + 1
        recent = (*recent, state.last + timedelta(days=1))
        used_grace = True
    else:
        count, recent = 1, ()
    return StreakState(count=count, best=max(state.best, count), last=day, graces=recent), used_grace


def current(state: StreakState, today: date, grace_per_week: int) -> int:
    """The streak as it stands today: kept while it can still be extended today."""
    if state.last is None:
        return 0
    gap = (today - state.last).days
    if gap <= 1:
        return state.count
    recent = [g for g in state.graces if (today - g).days < GRACE_WINDOW_DAYS]
    if gap == 2 and len(recent) < grace_per_week:
        return state.count
    return 0
