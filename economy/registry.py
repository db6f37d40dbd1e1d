"""The features of GEMS, in build order: adding a feature is one line here.

Everything that used to be a central list is derived from these declarations
(economy/core/features.py): the guild settings model, the module switches, the interaction
gate's prefixes, the personal-data collections and the services.
"""

from __future__ import annotations

from economy import (
    badges,
    boosts,
    challenges,
    currency,
    dashboard,
    events,
    goals,
    income,
    insights,
    marketplace,
    mentorship,
    nft,
    payments,
    privacy,
    profile,
    raffles,
    seasons,
    shop,
    trades,
)
from economy.core.features import Feature
from economy.core.sections import CoreSettings, Section

#: Build order: a feature comes after the features its services use.
FEATURES: tuple[Feature, ...] = (
    currency.FEATURE,
    boosts.FEATURE,
    # Before the marketplace: it registers the listing boost (a consumable's effect) with it.
    shop.FEATURE,
    marketplace.FEATURE,
    trades.FEATURE,
    payments.FEATURE,
    events.FEATURE,
    seasons.FEATURE,
    goals.FEATURE,
    challenges.FEATURE,
    mentorship.FEATURE,
    nft.FEATURE,
    raffles.FEATURE,
    income.FEATURE,
    badges.FEATURE,
    profile.FEATURE,
    insights.FEATURE,
    dashboard.FEATURE,
    privacy.FEATURE,
)

#: The order sections are shown in (/settings, docs/settings.md): the core, then by feature.
SECTION_ORDER = ("currency", "trades", "marketplace", "boosts", "events", "seasons", "goals",
                 "challenges", "mentorship", "nft", "payments", "shop", "raffles", "income", "profile", "badges",
                 "insights", "privacy")


def feature(name: str) -> Feature:
    """The declaration of feature `name` (KeyError when there is none)."""
    for declared in FEATURES:
        if declared.name == name:
            return declared
    raise KeyError(name)


def settings_sections() -> list[tuple[str, str, type[Section]]]:
    """(feature name, title, section model) in display order, the core first."""
    by_name = {f.name: f for f in FEATURES}
    found: list[tuple[str, str, type[Section]]] = [("core", "Core", CoreSettings)]
    for name in SECTION_ORDER:
        declared = by_name[name]
        if declared.settings is not None:
            found.append((name, declared.label, declared.settings))
    return found


def _compose() -> type[Section]:
    sections = [model for _, _, model in settings_sections()]
    # Pydantic collects fields from the bases in reverse MRO order: reversed bases keep the
    # display order (core first) in `model_fields`.
    model = type("GuildSettings", tuple(reversed(sections)), {
        "__doc__": "Every setting a server admin can change: the sections of all features.",
        "__module__": __name__,
    })
    seen: dict[str, str] = {}
    for name, _, section in settings_sections():
        for key in section.model_fields:
            if key in seen:
                raise TypeError(f"setting {key!r} is declared by both {seen[key]} and {name}")
            seen[key] = name
    return model


GuildSettings = _compose()


def section_of(key: str) -> str:
    """The feature whose settings section declares `key` ("core" for the core section)."""
    for name, _, section in settings_sections():
        if key in section.model_fields:
            return name
    raise KeyError(key)


def switchable() -> dict[str, str]:
    """Features a server can switch off: name -> label."""
    return {f.name: f.label for f in FEATURES if f.switchable}


def personal_collections() -> frozenset[str]:
    """Collections that hold one member's personal data only (deleted by /privacy delete)."""
    return frozenset().union(*(f.personal_collections for f in FEATURES))


def personal_slot_kinds() -> frozenset[str]:
    """Kinds of cap places that are personal (deleted with their holder's data)."""
    return frozenset().union(*(f.personal_slot_kinds for f in FEATURES))


def shared_collections() -> frozenset[str]:
    """Collections that hold many members' data per document (left out of /privacy export)."""
    return frozenset().union(*(f.shared_collections for f in FEATURES))
