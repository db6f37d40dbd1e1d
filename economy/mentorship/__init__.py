"""Mentor/mentee matching, mentorship goals and ratings, and member guides."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.mentorship.settings import MentorshipSettings


def build(core: Core) -> dict[str, Any]:
    """The mentorship services, built from the core: one namespace, `services.mentorship`
    (`.mentors`, `.proposals`, `.pairings`, `.recognition`; see economy/mentorship/services.py),
    and the member guides, `services.guides`."""
    from economy.mentorship.guide_repo import GuideRepo
    from economy.mentorship.guides import GuideService
    from economy.mentorship.repo import MentorshipRepo
    from economy.mentorship.services import build_mentorship
    from economy.trades.repo import TradeRepo

    repo = MentorshipRepo(core.db)
    return {
        "mentorship": build_mentorship(repo, core.ledger, core.settings, TradeRepo(core.db),
                                       core.clock, signals=core.signals),
        "guides": GuideService(GuideRepo(core.db), repo, core.ledger, core.settings, core.clock,
                               signals=core.signals),
    }


FEATURE = Feature(
    name="mentorship",
    label="Mentorship",
    settings=MentorshipSettings,
    build=build,
    personal_collections=frozenset({"mentors", "mentees"}),
    custom_id_prefixes=("mship", "guide",),
)
