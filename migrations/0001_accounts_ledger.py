"""Accounts, ledger, settings and multiplier indexes. Every index starts with guild_id."""

from pymongo import ASCENDING, DESCENDING, IndexModel


async def up(db) -> None:
    """Create the foundation's indexes."""
    await db["accounts"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("user_id", ASCENDING)], unique=True,
                   name="guild_user_unique"),
        IndexModel([("guild_id", ASCENDING), ("balance", DESCENDING), ("user_id", ASCENDING)],
                   name="guild_leaderboard"),
    ])
    await db["ledger"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("idempotency_key", ASCENDING), ("leg", ASCENDING)],
                   unique=True, name="guild_key_leg_unique"),
        IndexModel([("guild_id", ASCENDING), ("user_id", ASCENDING), ("at", DESCENDING)],
                   name="guild_user_history"),
    ])
    await db["guild_settings"].create_indexes([
        IndexModel([("guild_id", ASCENDING)], unique=True, name="guild_unique"),
    ])
    await db["settings_history"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("at", DESCENDING)], name="guild_at"),
    ])
    await db["multipliers"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("ends_at", ASCENDING)], name="guild_ends"),
    ])
