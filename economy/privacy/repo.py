"""Finding and rewriting every document of a guild that mentions one member (/privacy).

A member is "mentioned" by a document when their Discord id appears anywhere in it: as an integer
value (user_id, seller_id, counterparty_id, lists of ids...) or inside a string (idempotency keys
such as `daily:<id>:<day>`, string `_id`s). Discord ids are globally unique snowflakes, so an
equal integer is that member. A scan of the guild's documents per collection: a rare, explicit
request, so no index is worth its upkeep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS

from economy.repos.base import Database, Doc, guild_match, next_in_sequence

SKIPPED = ("_migrations", "privacy_deletions", "counters")


def export_json(body: Doc) -> str:
    """Stored documents as readable JSON (relaxed Extended JSON: dates, ObjectIds, binaries)."""
    return json_util.dumps(body, json_options=RELAXED_JSON_OPTIONS, indent=1, ensure_ascii=False)


@dataclass(frozen=True)
class Change:
    """One document to delete, or to replace by `new` (same or new `_id`)."""

    collection: str
    old: Doc
    new: Doc | None = None


class ChangedMeanwhile(Exception):
    """A document changed between the read and the rewrite; read again and retry."""


class PrivacyRepo:
    """Scans and the one transaction that anonymises a member."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def collections(self) -> list[str]:
        """Data collections, sorted."""
        names = await self.db.raw.list_collection_names()
        return sorted(n for n in names if not n.startswith("system.") and n not in SKIPPED)

    async def guild_documents(self, collection: str, guild_id: int) -> AsyncIterator[Doc]:
        """Every document of a guild in `collection`, streamed (a scan, see the module
        docstring)."""
        async for doc in self.db[collection].find(guild_match(guild_id), batch_size=1000):
            yield doc

    async def next_tombstone(self, guild_id: int) -> int:
        """A new per-guild tombstone number (1, 2, ...)."""
        return await next_in_sequence(self.db, self.db["counters"], {"_id": f"{guild_id}:tombstones"})

    async def apply(self, changes: Iterable[Change], record: Doc) -> None:
        """Apply every change and insert `record` (into `privacy_deletions`) in one transaction.

        Each write is guarded by the scalar fields read before (status, version, balance...), so
        a document changed meanwhile aborts everything (ChangedMeanwhile) instead of being
        overwritten.
        """
        changes = list(changes)

        async def work(session: Any) -> None:
            for change in changes:
                col = self.db[change.collection]
                guard = _guard(change.old)
                if change.new is None or change.new["_id"] != change.old["_id"]:
                    result = await col.delete_one(guard, session=session)
                    if result.deleted_count != 1:
                        raise ChangedMeanwhile(change.collection)
                    if change.new is not None:
                        await col.insert_one(change.new, session=session)
                    elif change.collection == "event_rsvps":
                        await self._free_event_place(change.old, session)
                else:
                    result = await col.replace_one(guard, change.new, session=session)
                    if result.matched_count != 1:
                        raise ChangedMeanwhile(change.collection)
            await self.db["privacy_deletions"].insert_one(record, session=session)

        await self.db.transaction(work)

    async def _free_event_place(self, rsvp: Doc, session: Any) -> None:
        """A deleted RSVP gives its place back: the event's guarded `rsvp_count` (which holds the
        capacity) drops with it, in the same transaction, so it stays exact."""
        await self.db["community_events"].update_one(
            {"_id": f"{rsvp['guild_id']}:{rsvp['event_id']}", "rsvp_count": {"$gt": 0}},
            {"$inc": {"rsvp_count": -1}}, session=session)


def _guard(doc: Doc) -> Doc:
    """The `_id` plus every top-level scalar as read (sub-documents and lists left out)."""
    return {key: value for key, value in doc.items()
            if key == "_id" or isinstance(value, int | str | bool)}
