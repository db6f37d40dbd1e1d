"""Seasonal celebrations with leaderboards and prizes, and member anniversaries."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.seasons.settings import SeasonsSettings


def build(core: Core) -> dict[str, Any]:
    """The seasons services, built from the core."""
    from economy.seasons.anniversaries import AnniversaryService
    from economy.seasons.repo import SeasonRepo
    from economy.seasons.service import SeasonService

    return {
        "seasons": SeasonService(SeasonRepo(core.db), core.shared["multipliers"], core.ledger,
                                 core.settings, core.clock, core.members,
                                 signals=core.signals),
        "anniversaries": AnniversaryService(core.ledger, core.settings, core.clock),
    }


FEATURE = Feature(
    name="seasons",
    label="Seasons",
    settings=SeasonsSettings,
    build=build,
)
