"""Community goals: the whole server works toward a target together."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The goals services, built from the core."""
    from economy.goals.repo import GoalRepo
    from economy.goals.service import GoalService

    return {"goals": GoalService(GoalRepo(core.db), core.ledger, core.settings, core.clock,
                                 core.members)}


FEATURE = Feature(
    name="goals",
    label="Community goals",
    build=build,
)
