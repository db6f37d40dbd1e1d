"""Settings section of challenges: daily challenges: draws, streaks, weekly bonus, channels.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from economy.core.sections import Section


def parse_streak_table(text: str) -> dict[int, int]:
    """`"3:50, 7:150"` -> {3: 50, 7: 150}; ValueError on anything else ("none" = empty)."""
    table: dict[int, int] = {}
    text = text.strip()
    if text.lower() in ("", "none", "off"):
        return table
    for part in re.split(r"\s*,\s*", text):
        match = re.fullmatch(r"(\d{1,3})\s*:\s*(\d{1,7})", part)
        if not match:
            raise ValueError(f"{part[:20]!r} is not days:GEMS (like 7:150)")
        days, amount = int(match.group(1)), int(match.group(2))
        if not 1 <= days <= 365 or amount < 1:
            raise ValueError("days must be 1-365 and bonuses at least 1")
        table[days] = amount
    if len(table) > 20:
        raise ValueError("at most 20 streak bonuses")
    return dict(sorted(table.items()))


def format_streak_table(table: dict[int, int]) -> str:
    """The canonical text of a streak bonus table."""
    return ",".join(f"{days}:{amount}" for days, amount in sorted(table.items()))


class ChallengesSettings(Section):
    """Daily challenges: draws, streaks, weekly bonus, channels."""

    challenge_count: int = Field(3, ge=0, le=10, description="Daily challenges drawn per day (0 = off)")
    challenge_reset_hour: int = Field(0, ge=0, le=23, description="Local hour at which the daily challenges change")
    challenge_channel_id: int | None = Field(None, description="Channel where each day's challenges are announced")
    challenge_gallery_channel_id: int | None = Field(None, description="Gallery channel for creativity submissions")
    challenge_manager_role_id: int | None = Field(None, description="Role that manages the challenge pool (besides admins)")
    challenge_repeat_days: int = Field(14, ge=0, le=60, description="Days before a drawn challenge may be drawn again")
    challenge_grace_days: int = Field(1, ge=0, le=3, description="Missed days forgiven per 7 days of a challenge streak")
    challenge_streak_bonus: str = Field("3:50,7:150,14:300,30:1000", max_length=200, description="Streak bonus table: days:GEMS pairs, e.g. 3:50,7:150")
    challenge_weekly_target: int = Field(5, ge=0, le=70, description="Challenges in one week that earn the weekly bonus (0 = off)")
    challenge_weekly_bonus: int = Field(250, ge=0, le=1_000_000, description="GEMS for reaching the weekly target")
    challenge_min_length: int = Field(3, ge=0, le=2_000, description="Minimum message length that counts for message challenges")

    @field_validator("challenge_streak_bonus")
    @classmethod
    def _streak_table(cls, value: str) -> str:
        return format_streak_table(parse_streak_table(value))

    @property
    def streak_bonuses(self) -> dict[int, int]:
        """Challenge streak bonuses: streak length in days -> GEMS."""
        return parse_streak_table(self.challenge_streak_bonus)
