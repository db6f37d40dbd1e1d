"""Insights (economy/insights/): the rollup collections' validators and indexes. Every index
starts with guild_id. Re-runnable."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.errors import CollectionInvalid, OperationFailure

from economy.repos.schemas import validator

COLLECTIONS = ("insights_active", "insights_daily", "insights_flags", "insights_snapshots",
               "insights_state")
NAMESPACE_EXISTS = 48


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def _validate(db, name: str, existing: set[str]) -> None:
    spec = {"validator": validator(name), "validationLevel": "moderate"}
    if name in existing:
        await db.command({"collMod": name, **spec})
        return
    try:
        await db.create_collection(name, **spec)
    except (CollectionInvalid, OperationFailure) as error:  # created meanwhile
        if getattr(error, "code", NAMESPACE_EXISTS) != NAMESPACE_EXISTS:
            raise
        await db.command({"collMod": name, **spec})


async def up(db) -> None:
    """Validators first (a collection created with its validator), then the indexes."""
    existing = set(await db.list_collection_names())
    for name in COLLECTIONS:
        await _validate(db, name, existing)
    await db["insights_daily"].create_indexes([_ix("guild_id", "day", name="guild_day")])
    await db["insights_active"].create_indexes([_ix("guild_id", "day", name="guild_day")])
    await db["insights_snapshots"].create_indexes([_ix("guild_id", "as_of_ms",
                                                       name="guild_as_of")])
    await db["insights_state"].create_indexes([_ix("guild_id", name="guild")])
    await db["insights_flags"].create_indexes([_ix("guild_id", "status", "at_ms",
                                                   name="guild_status_at")])
