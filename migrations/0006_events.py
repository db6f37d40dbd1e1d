"""Boosts (multiplier windows in epoch ms, ledger `at_ms` for stats), community events, seasons, goals.

Every index starts with guild_id. Multiplier windows written before this migration (a `percent`
and datetime `starts_at`/`ends_at`) are rewritten in the new form (basis points, epoch ms, run-once
announcement flags already set, so old windows are never announced late).
"""

from datetime import UTC

from pymongo import ASCENDING, IndexModel


def _ms(value) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


async def up(db) -> None:
    """Create the indexes and convert old multiplier windows."""
    await db["multipliers"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("ends_ms", ASCENDING)], name="guild_ends_ms"),
        IndexModel([("guild_id", ASCENDING), ("end_announced", ASCENDING)], name="guild_pending"),
    ])
    await db["ledger"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("at_ms", ASCENDING)], name="guild_at_ms"),
    ])
    old = await db["multipliers"].find({"percent": {"$exists": True}}).to_list()
    for number, doc in enumerate(old, start=1):
        boost_id = f"legacy{number}"
        await db["multipliers"].delete_one({"_id": doc["_id"]})
        await db["multipliers"].insert_one({
            "_id": f"{doc['guild_id']}:{boost_id}", "guild_id": doc["guild_id"],
            "boost_id": boost_id, "kind": "oneoff", "factor_bps": int(doc["percent"]) * 100,
            "reason": doc.get("reason") or "Boost", "starts_ms": _ms(doc["starts_at"]),
            "ends_ms": _ms(doc["ends_at"]), "status": "scheduled", "created_by": 0,
            "created_ms": _ms(doc["starts_at"]), "start_announced": True, "end_announced": True,
        })
    await db["community_events"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("status", ASCENDING), ("starts_ms", ASCENDING)],
                   name="guild_status_start"),
        IndexModel([("guild_id", ASCENDING), ("discord_event_id", ASCENDING)],
                   name="guild_discord_event"),
        IndexModel([("guild_id", ASCENDING), ("next_pending", ASCENDING)], name="guild_series"),
    ])
    for name in ("event_rsvps", "event_attendance"):
        await db[name].create_indexes([
            IndexModel([("guild_id", ASCENDING), ("event_id", ASCENDING), ("at_ms", ASCENDING)],
                       name="guild_event_at"),
        ])
    await db["event_role_grants"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("state", ASCENDING), ("expires_ms", ASCENDING)],
                   name="guild_state_expires"),
    ])
    await db["seasons"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("key", ASCENDING)], name="guild_key"),
    ])
    await db["season_results"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("ends_ms", ASCENDING)], name="guild_ends"),
        IndexModel([("guild_id", ASCENDING), ("announced", ASCENDING)], name="guild_pending"),
    ])
    await db["community_goals"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("status", ASCENDING), ("deadline_ms", ASCENDING)],
                   name="guild_status_deadline"),
        IndexModel([("guild_id", ASCENDING), ("announced", ASCENDING)], name="guild_pending"),
    ])
