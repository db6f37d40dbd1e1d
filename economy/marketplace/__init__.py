"""The member marketplace: listings, search, wishlists and saved-search alerts."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.marketplace.settings import MarketplaceSettings


def build(core: Core) -> dict[str, Any]:
    """The marketplace's services, built from the core: one namespace, `services.marketplace`
    (`.listings`, `.search`, `.watch`, `.sweeps`; see economy/marketplace/services.py)."""
    from economy.marketplace.services import build_marketplace

    return {"marketplace": build_marketplace(core.db, core.settings, core.clock,
                                             throttles=core.members)}


FEATURE = Feature(
    name="marketplace",
    label="The marketplace",
    settings=MarketplaceSettings,
    build=build,
    personal_collections=frozenset({"saved_queries", "wishlists", "market_alerts", "market_alert_outbox", "listing_quota"}),
    personal_slot_kinds=frozenset({"alert"}),
    custom_id_prefixes=("mkt",),
)
