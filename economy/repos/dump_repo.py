"""Whole-collection reads and bulk inserts for export/import (economy/core/dump.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS

from economy.repos.base import Database, Doc, guild_match

#: Collections that are bookkeeping, not data: the migration record is carried in the header.
SKIPPED = ("_migrations",)
BATCH = 500


def encode(obj: dict) -> str:
    """One line of the export (canonical Extended JSON, no newline)."""
    return json_util.dumps(obj, json_options=CANONICAL_JSON_OPTIONS)


def decode(line: str) -> dict:
    """A line of the export back to Python/BSON values."""
    return json_util.loads(line, json_options=CANONICAL_JSON_OPTIONS)


class DumpRepo:
    """Reads every document of a database (optionally one guild's) and writes them back."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def collection_names(self) -> list[str]:
        """Data collections, sorted (system and bookkeeping collections left out)."""
        names = await self.db.raw.list_collection_names()
        return sorted(n for n in names if not n.startswith("system.") and n not in SKIPPED)

    async def applied_migrations(self) -> list[str]:
        """Versions recorded as done, in order."""
        docs = await self.db["_migrations"].find({"status": "done"}).to_list()
        return sorted(doc["_id"] for doc in docs)

    async def documents(self, collection: str, guild_id: int | None = None, *,
                        session: Any = None) -> AsyncIterator[Doc]:
        """Every document of `collection` (of one guild when `guild_id` is given), by `_id`.

        A whole-collection scan on purpose: an export reads everything once.
        """
        match = {} if guild_id is None else guild_match(guild_id)
        cursor = self.db[collection].find(match, session=session).sort("_id", 1)
        async for doc in cursor:
            yield doc

    async def has_documents(self, collection: str) -> bool:
        """True when `collection` holds at least one document."""
        return await self.db[collection].find_one({}, {"_id": 1}) is not None

    async def insert(self, collection: str, docs: list[Doc]) -> None:
        """Insert documents as they are (ids and BSON types kept), in batches."""
        for start in range(0, len(docs), BATCH):
            batch = docs[start:start + BATCH]
            await self.db.write(lambda b=batch: self.db[collection].insert_many(b, ordered=True))

    def snapshot_session(self):
        """A session reading one point in time (MongoDB 5+), or None on the embedded store,
        which has no snapshot reads (stop the bot first, or use `./gems backup`)."""
        if self.db.serializes_writes:
            return None
        return self.db.client.start_session(snapshot=True)
