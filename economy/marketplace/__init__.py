"""The member marketplace: listings, search, wishlists and saved-search alerts."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.marketplace.settings import MarketplaceSettings


def build(core: Core) -> dict[str, Any]:
    """The marketplace's services, built from the core: one namespace, `services.marketplace`
    (`.listings`, `.search`, `.watch`, `.sweeps`; see economy/marketplace/services.py)."""
    from economy.marketplace.services import build_marketplace

    marketplace = build_marketplace(core.db, core.settings, core.clock, throttles=core.members)
    # The listing boost, a shop consumable: the shop takes the unit, the marketplace writes the
    # boost in the same transaction (economy/shop/effects.py; the shop imports no marketplace).
    if "shop" in core.built:
        core.built["shop"].use_effect_with("listing_boost", marketplace.boost)
    return {"marketplace": marketplace}


FEATURE = Feature(
    name="marketplace",
    label="The marketplace",
    settings=MarketplaceSettings,
    build=build,
    personal_collections=frozenset({"saved_queries", "wishlists", "market_alerts", "market_alert_outbox", "listing_quota"}),
    personal_slot_kinds=frozenset({"alert"}),
    custom_id_prefixes=("mkt",),
)
