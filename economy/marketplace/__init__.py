"""The member marketplace: listings, search, wishlists and saved-search alerts."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.marketplace.settings import MarketplaceSettings


def build(core: Core) -> dict[str, Any]:
    """The marketplace services, built from the core."""
    from economy.marketplace.member_repo import MarketMemberRepo
    from economy.marketplace.repo import ListingRepo
    from economy.marketplace.service import MarketplaceService

    listings = ListingRepo(core.db)
    return {"marketplace": MarketplaceService(listings, MarketMemberRepo(core.db, listings),
                                              core.settings, core.clock, throttles=core.members)}


FEATURE = Feature(
    name="marketplace",
    label="The marketplace",
    settings=MarketplaceSettings,
    build=build,
    personal_collections=frozenset({"saved_queries", "wishlists", "market_alerts", "market_alert_outbox", "listing_quota"}),
    personal_slot_kinds=frozenset({"alert"}),
    custom_id_prefixes=("mkt",),
)
