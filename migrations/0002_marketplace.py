"""Marketplace collections and indexes.

Listing reads are `$match` (equality on guild_id and status, then filters) + `$sort` + `$skip` +
`$limit`; each browse/search sort has an index whose prefix is (guild_id, status) and whose next
key is the sort key, so a page is an index walk on both MongoDB and nx-27017. The sweep indexes
start with `status` instead of guild_id: the expiry job looks for due listings across all guilds.
"""

from pymongo import ASCENDING, DESCENDING, IndexModel


def _ix(*keys: str, unique: bool = False, name: str) -> IndexModel:
    fields = [(k.lstrip("-"), DESCENDING if k.startswith("-") else ASCENDING) for k in keys]
    return IndexModel(fields, unique=unique, name=name)


async def up(db) -> None:
    """Create the marketplace indexes (re-runnable)."""
    await db["listings"].create_indexes([
        _ix("guild_id", "listing_id", unique=True, name="guild_listing_unique"),
        _ix("guild_id", "status", "-listed_ts", "-listing_id", name="browse_newest"),
        _ix("guild_id", "status", "price_gems", "listing_id", name="browse_price_gems"),
        _ix("guild_id", "status", "price_usd_cents", "listing_id", name="browse_price_usd"),
        _ix("guild_id", "status", "-popularity", "-listing_id", name="browse_popular"),
        _ix("guild_id", "status", "category", "-listed_ts", "-listing_id", name="cat_newest"),
        _ix("guild_id", "status", "category", "price_gems", "listing_id", name="cat_price_gems"),
        _ix("guild_id", "status", "category", "-sold_ts", name="price_hint"),
        _ix("guild_id", "seller_id", "status", "-created_ts", name="seller_listings"),
        _ix("guild_id", "seller_id", "status", "-listed_ts", "-listing_id", name="seller_browse"),
        _ix("guild_id", "keywords", name="keywords"),
        _ix("status", "expires_ts", name="sweep_expiry"),
        _ix("status", "remind_ts", name="sweep_reminder"),
        _ix("status", "created_ts", name="sweep_drafts"),
    ])
    await db["listing_images"].create_indexes([
        _ix("guild_id", "image_id", unique=True, name="guild_image_unique"),
        _ix("guild_id", "listing_id", name="guild_listing"),
    ])
    await db["listing_counters"].create_indexes([
        _ix("guild_id", "name", unique=True, name="guild_name_unique"),
    ])
    await db["listing_quota"].create_indexes([
        _ix("guild_id", "user_id", "day", unique=True, name="guild_user_day_unique"),
    ])
    await db["wishlists"].create_indexes([
        _ix("guild_id", "user_id", "listing_id", unique=True, name="guild_user_listing_unique"),
        _ix("guild_id", "listing_id", name="guild_listing"),
        _ix("guild_id", "user_id", "-added_at", name="guild_user_added"),
    ])
    await db["market_alerts"].create_indexes([
        _ix("guild_id", "user_id", "alert_id", unique=True, name="guild_user_alert_unique"),
    ])
    await db["saved_queries"].create_indexes([
        _ix("guild_id", "query_id", unique=True, name="guild_query_unique"),
    ])
