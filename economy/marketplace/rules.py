"""Rules the marketplace's services share: categories, conditions, prices, caps, live dates.

Pure functions over a guild's settings (no storage), plus `load_listing`, the one read every
service needs: a listing by id or NotFound.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from economy.core.errors import InvalidInput, NotFound
from economy.core.settings import GuildSettings
from economy.marketplace.models import (
    CONDITIONS,
    REMIND_BEFORE_SECONDS,
    Listing,
    check_price_gems,
    default_categories,
    parse_usd,
)
from economy.marketplace.repo import ListingRepo, epoch_ms
from economy.repos.base import Doc


def categories(settings: GuildSettings) -> tuple[str, ...]:
    """The categories members may list in (the guild's own list, else the default set)."""
    return tuple(settings.marketplace_categories) or default_categories()


#: The category of listings that sell an item another feature owns (a collectible badge): set
#: by the listing itself, never picked; searchable like the guild's own categories.
ITEM_CATEGORY = "collectibles"


def check_category(settings: GuildSettings, category: str) -> str:
    """The category name, normalized. Raises InvalidInput when it is not one of the guild's."""
    name = " ".join((category or "").lower().split())
    allowed = categories(settings)
    if name not in allowed:
        raise InvalidInput(f"Pick a category from the list: {', '.join(allowed)}.")
    return name


def check_condition(condition: str) -> str:
    """The condition key. Raises InvalidInput when it is not a known condition."""
    if condition not in CONDITIONS:
        raise InvalidInput(f"Condition is one of: {', '.join(CONDITIONS.values())}.")
    return condition


def check_prices(settings: GuildSettings, price_gems: object,
                 price_usd: str | None) -> tuple[int | None, int | None]:
    """(GEMS, USD cents) of a new listing; at least one of them.

    Raises: InvalidAmount (a bad GEMS or USD amount); InvalidInput (a USD price where USD is
    off, or no price at all).
    """
    gems = check_price_gems(price_gems)
    if price_usd not in (None, "") and not settings.marketplace_usd:
        raise InvalidInput("USD prices are turned off in this server; price it in "
                           f"{settings.currency_name}.")
    cents = parse_usd(price_usd)
    if gems is None and cents is None:
        raise InvalidInput(f"Give a price in {settings.currency_name}"
                           + (" and/or USD." if settings.marketplace_usd else "."))
    return gems, cents


def over_cap(settings: GuildSettings) -> InvalidInput:
    """The refusal for a member who holds as many open listings as allowed."""
    return InvalidInput(
        f"You already have {settings.max_active_listings} open listings, drafts included "
        "(the limit). Publish or cancel a draft, withdraw a listing or wait for a sale.")


def live_fields(now: datetime, settings: GuildSettings) -> Doc:
    """The date fields a listing gets when it goes live at `now` (expiry, 2-day reminder)."""
    expires = now + timedelta(days=settings.listing_lifetime_days)
    return {"listed_ts": epoch_ms(now), "expires_ts": epoch_ms(expires),
            "remind_ts": epoch_ms(expires - timedelta(seconds=REMIND_BEFORE_SECONDS)),
            "reminded": False}


async def load_listing(repo: ListingRepo, guild_id: int, listing_id: int) -> Listing:
    """A listing by id. Raises NotFound."""
    doc = await repo.get(guild_id, listing_id)
    if doc is None:
        raise NotFound(f"There is no listing #{listing_id}.")
    return Listing.model_validate(doc)
