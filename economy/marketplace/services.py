"""The marketplace's services, reached as `services.marketplace.<part>.<method>`.

    listings  drafts, publishing, moderation, edits, withdrawal, a member's listings
    search    browse/search pages, one listing's detail and images, price hints
    watch     wishlists, saved-search alerts, price-drop notices, alert digests
    sweeps    expiry, reminders, digests and stale drafts (the sweep job); view-count flush
    boost     the listing boost, a shop consumable's effect (registered with the shop)
"""

from __future__ import annotations

from dataclasses import dataclass

from economy.core.clock import Clock
from economy.core.members import MemberService
from economy.core.settings import SettingsService
from economy.marketplace.boost import ListingBoost
from economy.marketplace.listings import ListingService
from economy.marketplace.member_repo import MarketMemberRepo
from economy.marketplace.repo import ListingRepo
from economy.marketplace.search import SearchService, ViewCounter
from economy.marketplace.sweeps import SweepService
from economy.marketplace.watch import WatchService
from economy.repos.base import Database


@dataclass(frozen=True)
class Marketplace:
    """The marketplace feature's services (one object per seam, sharing one set of repos)."""

    listings: ListingService
    search: SearchService
    watch: WatchService
    sweeps: SweepService
    boost: ListingBoost


def build_marketplace(db: Database, settings: SettingsService, clock: Clock,
                      throttles: MemberService | None = None) -> Marketplace:
    """Wire the marketplace's services over one database (`throttles`: price-drop DM limits)."""
    listings = ListingRepo(db)
    members = MarketMemberRepo(db, listings)
    views = ViewCounter()
    watch = WatchService(listings, members, settings, clock, throttles=throttles)
    return Marketplace(
        listings=ListingService(listings, settings, clock, watch),
        search=SearchService(listings, members, clock, views),
        watch=watch,
        sweeps=SweepService(listings, members, clock, watch, views),
        boost=ListingBoost(listings, clock),
    )
