"""Profiles: a member's card (standing, streak, showcased badges, seller rating, mentor level,
NFT holdings, season standing), the parts they hide, and their own preferences (time zone)."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The profile service, reading the features whose numbers a profile shows."""
    from economy.profile.repo import ProfileRepo
    from economy.profile.service import ProfileService

    return {"profiles": ProfileService(
        ProfileRepo(core.db), core.ledger, core.settings, core.clock,
        badges=core.built["badges"], ratings=core.built["ratings"],
        seasons=core.built["seasons"])}


FEATURE = Feature(
    name="profile",
    label="Profiles",
    build=build,
    # A member's choice of what to hide is theirs alone.
    personal_collections=frozenset({"profile_privacy"}),
)
