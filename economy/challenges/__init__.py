"""Daily challenges with streaks, weekly bonuses and competitions."""

from __future__ import annotations

from typing import Any

from economy.challenges.settings import ChallengesSettings
from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The challenges services, built from the core."""
    from economy.challenges.competition_repo import CompetitionRepo
    from economy.challenges.competitions import CompetitionService
    from economy.challenges.progress import ChallengeProgress
    from economy.challenges.repo import ChallengeRepo
    from economy.challenges.service import ChallengeService

    repo = ChallengeRepo(core.db)
    challenges = ChallengeService(repo, core.ledger, core.settings, core.shared["member_prefs"], core.clock,
                                   signals=core.signals)
    return {
        "challenges": challenges,
        "challenge_progress": ChallengeProgress(challenges, repo, core.settings, core.clock),
        "competitions": CompetitionService(CompetitionRepo(core.db), core.ledger, core.settings,
                                           core.clock, core.members),
    }


FEATURE = Feature(
    name="challenges",
    label="Challenges",
    settings=ChallengesSettings,
    build=build,
    custom_id_prefixes=("ch", "chvote", "chaccept",),
)
