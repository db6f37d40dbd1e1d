"""Badges: achievements awarded by rules on what members do, or by staff; limited editions,
showcases and the member profile."""

from __future__ import annotations

from typing import Any

from economy.badges.settings import BadgesSettings
from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The badges service, listening to the signals of the features it rewards."""
    from economy.badges.collectibles import (
        CollectibleGate,
        CollectibleSettlement,
        CollectibleViews,
    )
    from economy.badges.repo import BadgeRepo
    from economy.badges.rules import FACTS_OF_SIGNAL
    from economy.badges.service import BadgeService

    repo = BadgeRepo(core.db)
    badges = BadgeService(repo, core.ledger, core.settings, core.clock)
    for signal in FACTS_OF_SIGNAL:
        core.signals.connect(signal, badges.on_signal)
    # Collectibles: listed through the marketplace's item gate, moved by the trades'
    # settlement hook (neither of them imports badges).
    if "marketplace" in core.built:
        core.built["marketplace"].listings.attach_items(CollectibleGate(repo, badges))
    if "trades" in core.built:
        core.built["trades"].settle_items_with(CollectibleSettlement(repo, core.clock))
    # Badges sold in the shop (kind "badge"): the shop asks this granter (it imports no badges).
    if "shop" in core.built:
        from economy.badges.shop_items import BadgeItems

        core.built["shop"].grant_kind_with("badge", BadgeItems(repo, badges, core.settings,
                                                                  core.clock))
    from economy.badges.drops import EditionDrops

    drops = EditionDrops(badges, core.built.get("events"), core.built.get("seasons"))
    return {"badges": badges, "collectibles": CollectibleViews(repo, badges),
            "badge_drops": drops}


FEATURE = Feature(
    name="badges",
    label="Badges",
    settings=BadgesSettings,
    build=build,
    # Awards, showcases and the staff log are one member's data; the rewards they paid stay in
    # the ledger (anonymised like every entry), so balances still equal their entries.
    # A collectible is its owner's award: /privacy delete removes it like any award (the
    # edition's place is freed). Its ownership history (`badge_transfers`) names two members
    # and the trade; it is exported to both and kept, like the trades it records.
    personal_collections=frozenset({"badge_awards", "badge_showcases", "badge_log"}),
    personal_slot_kinds=frozenset({"badge_edition"}),
)
