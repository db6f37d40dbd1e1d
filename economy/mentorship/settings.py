"""Settings section of mentorship: mentorship and guides.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from economy.core.sections import Section, name_list


class MentorshipSettings(Section):
    """Mentorship and guides."""

    mentorship_skills: list[str] = Field(default_factory=list, description="Mentorship skills, comma-separated (empty = default set)")
    mentorship_lead_role_id: int | None = Field(None, description="Role that approves mentors, runs rounds")
    mentorship_channel_id: int | None = Field(None, description="Where mentorship threads open")
    mentorship_queue_channel_id: int | None = Field(None, description="Mentor approval queue channel")
    mentor_min_days: int = Field(0, ge=0, le=3650, description="Days in the server before mentoring")
    mentor_min_trades: int = Field(0, ge=0, le=10_000, description="Completed trades before mentoring")
    mentor_min_rating: int = Field(0, ge=0, le=5, description="Or: trade rating (stars) that qualifies instead (0 = off)")
    mentor_approval: bool = Field(False, description="New mentors need the lead's approval")
    mentorship_proposal_hours: int = Field(48, ge=1, le=336, description="Hours to accept a proposed match")
    mentorship_milestone_reward: int = Field(50, ge=0, le=1_000_000, description="GEMS per confirmed milestone (0 = off)")
    mentorship_checkin_days: int = Field(7, ge=1, le=90, description="Silent days before a check-in reminder")
    mentorship_rating_weeks: int = Field(4, ge=0, le=52, description="Weeks before a pair can rate each other")
    mentorship_weekly_round: bool = Field(False, description="Run a matching round every Monday (UTC)")
    mentor_level_roles: list[int] = Field(default_factory=list, description="Roles for mentor levels 1/5/20 completed, in order")
    mentorship_spotlight_channel_id: int | None = Field(None, description="Where the monthly mentor spotlight is posted")
    guides_channel_id: int | None = Field(None, description="Where approved guides are published")
    guide_approval_reward: int = Field(100, ge=0, le=1_000_000, description="GEMS to a guide's author on approval (0 = off)")
    guide_vote_reward: int = Field(20, ge=0, le=1_000_000, description="GEMS to the author per vote milestone (0 = off)")
    guide_vote_milestone: int = Field(10, ge=1, le=10_000, description="Upvotes per guide vote milestone")

    @field_validator("mentor_level_roles")
    @classmethod
    def _three_levels(cls, value: list[int]) -> list[int]:
        if len(value) > 3:
            raise ValueError("give at most 3 roles (levels at 1, 5 and 20 completed mentorships)")
        return value

    @field_validator("mentorship_skills")
    @classmethod
    def _skill_names(cls, value: list[str]) -> list[str]:
        return name_list(value, r"[a-z0-9][a-z0-9 &+-]{0,30}", "skill", "skills", 100)
