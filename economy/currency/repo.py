"""Queries of the currency feature's own collection: `gift_notices`, the outbox of gift DMs.

A gift queues one document in the transfer's own transaction (so a gift is told at most once
and only when it happened); the sweep claims a recipient's queued gifts one delete each, so two
bot processes sweeping together never send the same gift twice.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from economy.repos.base import Database, Doc, find_docs


class GiftNoticeRepo:
    """`gift_notices` {_id: guild:recipient:key, guild_id, user_id (recipient), sender_id,
    amount, note, at_ms, due_ms}."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.notices = db["gift_notices"]

    async def queue(self, doc: Doc, *, session: Any) -> None:
        """Queue one gift for its recipient's next DM, inside the gift's transaction."""
        await self.notices.insert_one(doc, session=session)

    async def due_recipients(self, now_ms: int, *, limit: int) -> list[tuple[int, int]]:
        """(guild, recipient) pairs whose oldest queued gift is due."""
        docs = await find_docs(self.notices, {"due_ms": {"$lte": now_ms}},
                               sort={"due_ms": ASCENDING, "_id": ASCENDING}, limit=limit)
        return list(dict.fromkeys((int(d["guild_id"]), int(d["user_id"])) for d in docs))

    async def take(self, guild_id: int, user_id: int, *, limit: int = 1000) -> list[Doc]:
        """Claim a recipient's queued gifts, oldest first (each deleted by this caller); a flood
        beyond `limit` stays queued for the next DM."""
        claimed = []
        for doc in await find_docs(self.notices, {"guild_id": guild_id, "user_id": user_id},
                                   sort={"at_ms": ASCENDING, "_id": ASCENDING}, limit=limit):
            result = await self.db.write(
                lambda d=doc: self.notices.delete_one({"_id": d["_id"]}))
            if result.deleted_count == 1:
                claimed.append(doc)
        return claimed
