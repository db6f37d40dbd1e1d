"""Settings section of badges: achievements members earn and show."""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import Section


class BadgesSettings(Section):
    """Badges: achievements awarded by rules or by staff."""

    badge_reward_default: int = Field(0, ge=0, le=1_000_000, description="GEMS paid with an automatic badge whose rule sets no reward (0 = none)")
