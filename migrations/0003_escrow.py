"""Escrow trades, ratings, counters, audit log; system accounts kept off leaderboards."""

from pymongo import ASCENDING, DESCENDING, IndexModel


async def up(db) -> None:
    """Create the escrow indexes and mark existing accounts as member accounts."""
    # Accounts created before `system` existed are member accounts (the treasury is user 0).
    await db["accounts"].update_many({"system": {"$exists": False}}, {"$set": {"system": False}})
    await db["accounts"].update_many({"user_id": 0}, {"$set": {"system": True}})
    await db["accounts"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("system", ASCENDING), ("balance", DESCENDING),
                    ("user_id", ASCENDING)], name="guild_system_leaderboard"),
    ])
    await db["trades"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("trade_id", ASCENDING)], unique=True,
                   name="guild_trade_unique"),
        IndexModel([("guild_id", ASCENDING), ("status", ASCENDING)], name="guild_status"),
        IndexModel([("guild_id", ASCENDING), ("buyer_id", ASCENDING)], name="guild_buyer"),
        IndexModel([("guild_id", ASCENDING), ("seller_id", ASCENDING)], name="guild_seller"),
    ])
    await db["trade_events"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("trade_id", ASCENDING), ("at", ASCENDING)],
                   name="guild_trade_at"),
    ])
    await db["trade_ratings"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("trade_id", ASCENDING), ("rater_id", ASCENDING)],
                   unique=True, name="guild_trade_rater_unique"),
        IndexModel([("guild_id", ASCENDING), ("ratee_id", ASCENDING)], name="guild_ratee"),
    ])
    await db["audit_log"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("at", DESCENDING)], name="guild_at"),
    ])
