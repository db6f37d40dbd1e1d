"""Mentorship read models and results (plain data returned by the mentorship services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

# Completed mentorships -> mentor level (each may grant a role: `mentor_level_roles`).
MENTOR_LEVELS = ((1, "Mentor"), (5, "Senior mentor"), (20, "Master mentor"))


class Mentor(BaseModel):
    """A mentor profile (read model)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    guild_id: int
    user_id: int
    skills: list[dict[str, Any]]
    zone: str
    availability: list[list[int]]
    languages: list[str]
    capacity: int
    bio: str
    status: str
    load: int = 0
    completed: int = 0

    @property
    def skill_levels(self) -> dict[str, int]:
        """{skill: level}."""
        return {s["skill"]: int(s["level"]) for s in self.skills}


class Pairing(BaseModel):
    """A proposal or a mentorship (read model)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    guild_id: int
    mentorship_id: int
    mentee_id: int
    mentor_id: int
    score: float
    explanation: str
    status: str
    mentee_ok: bool = False
    mentor_ok: bool = False
    expires_ms: int = 0
    started_ms: int | None = None
    ended_ms: int | None = None
    end_reason: str | None = None
    thread_id: int | None = None
    card_message_id: int | None = None
    checkin_ms: int | None = None

    def role_of(self, user_id: int) -> str | None:
        """'mentee', 'mentor' or None."""
        if user_id == self.mentee_id:
            return "mentee"
        if user_id == self.mentor_id:
            return "mentor"
        return None

    def other(self, user_id: int) -> int:
        """The other side of the pair."""
        return self.mentor_id if user_id == self.mentee_id else self.mentee_id


class Goal(BaseModel):
    """A goal (milestone) of a mentorship."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    goal_no: int
    text: str
    status: str
    added_by: int


@dataclass(frozen=True)
class Registration:
    """The outcome of `/mentor register`: active at once, or waiting for the lead."""

    mentor: Mentor
    needs_approval: bool
    reason: str = ""


@dataclass(frozen=True)
class ResponseResult:
    """What a click on a proposal did."""

    pairing: Pairing
    started: bool = False  # both accepted: the mentorship began
    next_proposal: Pairing | None = None
    note: str = ""


@dataclass(frozen=True)
class GoalResult:
    """A confirmed milestone and what the mentor earned for it."""

    goal: Goal
    reward: int


@dataclass(frozen=True)
class EndResult:
    """An ended mentorship, and the mentor level (1-3) this ending reached, if any."""

    pairing: Pairing
    reached_level: int | None = None


@dataclass(frozen=True)
class Spotlight:
    """The top-rated mentor of a month, to be posted once."""

    guild_id: int
    month: str
    user_id: int
    average: float
    ratings: int
    channel_id: int


def mentor_level(completed: int) -> tuple[int, str] | None:
    """(level 1-3, name) for a number of completed mentorships, or None below the first."""
    reached = [(i + 1, name) for i, (n, name) in enumerate(MENTOR_LEVELS) if completed >= n]
    return reached[-1] if reached else None


@dataclass
class SweepReport:
    """What a sweep did, for the bot to announce."""

    expired: list[Pairing] = field(default_factory=list)
    proposed: list[Pairing] = field(default_factory=list)
    checkins: list[Pairing] = field(default_factory=list)


@dataclass(frozen=True)
class MentorSummary:
    """A mentor's reputation."""

    ratings: int
    stars: int
    completed: int
    active: int

    def render(self) -> str:
        """`★ 4.5 (2 ratings) · 3 completed · 1 active`."""
        stars = f"★ {self.stars / self.ratings:.1f} ({self.ratings} rating{'s' if self.ratings != 1 else ''})" \
            if self.ratings else "no ratings yet"
        return f"{stars} · {self.completed} completed · {self.active} active"
