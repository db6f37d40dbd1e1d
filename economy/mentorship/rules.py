"""Mentorship's shared rules: limits, the domain error, the guild's skill list, and how a stored
application and a mentor are scored for matching (the pure scoring lives in matching.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from economy.core.clock import span_ms
from economy.core.errors import Conflict
from economy.core.settings import GuildSettings
from economy.mentorship.matching import (
    DEFAULT_SKILLS,
    MenteeProfile,
    MentorProfile,
    PairScore,
    score_pair,
    utc_mask,
)
from economy.mentorship.models import Mentor
from economy.repos.base import Doc

BIO_MAX = 500
GOALS_MAX = 500
GOAL_TEXT_MAX = 200
MAX_GOALS = 20
REVIEW_MAX = 300
DAY_MS = span_ms(timedelta(days=1))
REREGISTER_STATUSES = ("left", "rejected")  # profiles a member may replace by registering
END_REASONS = ("completed", "no longer needed", "not a good fit", "report")


class MentorshipUnavailable(Conflict):
    """The proposal or mentorship is not in a state that allows this any more."""


def skills_of(settings: GuildSettings) -> tuple[str, ...]:
    """The guild's skill list (the shipped jewellery default when not set)."""
    return tuple(settings.mentorship_skills) or DEFAULT_SKILLS


def mentee_profile(doc: Doc, now: datetime, verified: dict[str, int] | None = None
                    ) -> MenteeProfile:
    """Matching's view of an application; a verified level replaces the declared one."""
    verified = verified or {}
    return MenteeProfile(doc["user_id"], tuple((w["skill"], verified.get(w["skill"], int(w["level"])))
                                               for w in doc["wanted"]),
                         utc_mask(doc["availability"], doc["zone"], now), tuple(doc["languages"]))


def explain_pair(mentee_doc: Doc, mentor: Mentor, now: datetime) -> PairScore:
    """Score a stored application against a mentor (for profile views)."""
    return score_pair(mentee_profile(mentee_doc, now), MentorProfile(
        mentor.user_id, mentor.skill_levels, utc_mask(mentor.availability, mentor.zone, now),
        tuple(mentor.languages), mentor.capacity - mentor.load))
