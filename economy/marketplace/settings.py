"""Settings section of marketplace: the marketplace: listing limits and lifetime, approval, categories, alerts.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from economy.core.sections import Section, name_list


class MarketplaceSettings(Section):
    """The marketplace: listing limits and lifetime, approval, categories, alerts."""

    marketplace_channel_id: int | None = Field(None, description="Channel where new listings are announced")
    marketplace_queue_channel_id: int | None = Field(None, description="Moderator queue channel for listing approval")
    marketplace_approval: bool = Field(False, description="New listings need a moderator's approval")
    listing_lifetime_days: int = Field(30, ge=3, le=365, description="Days a listing stays up before it expires")
    max_active_listings: int = Field(20, ge=1, le=1000, description="Open listings a member may have at once")
    listings_per_day: int = Field(10, ge=1, le=1000, description="Listings a member may publish per day")
    marketplace_categories: list[str] = Field(default_factory=list, description="Allowed categories, comma-separated (empty = the default set)")
    marketplace_usd: bool = Field(False, description="Allow prices in USD besides GEMS")
    notice_throttle_hours: int = Field(12, ge=1, le=168, description="Hours between two price-drop DMs about one listing to one member")
    alert_digest_minutes: int = Field(5, ge=1, le=120, description="Saved-search matches within this many minutes arrive as one DM")

    @field_validator("marketplace_categories")
    @classmethod
    def _category_names(cls, value: list[str]) -> list[str]:
        return name_list(value, r"[a-z0-9][a-z0-9 -]{0,30}", "category", "categories", 25)
