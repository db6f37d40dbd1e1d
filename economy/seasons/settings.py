"""Settings section of seasons: seasons (prizes) and member anniversaries.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import Section


class SeasonsSettings(Section):
    """Seasons (prizes) and member anniversaries."""

    season_prize_1st: int = Field(500, ge=0, le=1_000_000, description="GEMS for the top earner of a season")
    season_prize_2nd: int = Field(250, ge=0, le=1_000_000, description="GEMS for the second earner of a season")
    season_prize_3rd: int = Field(100, ge=0, le=1_000_000, description="GEMS for the third earner of a season")
    anniversary_bonus: int = Field(100, ge=0, le=1_000_000, description="GEMS on each anniversary of joining the server (0 = off)")
    anniversary_announce: bool = Field(True, description="Announce anniversaries in the announcements channel")
