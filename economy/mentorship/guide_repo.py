"""Queries for guides: `guides`, their keyword postings `guide_terms`, and `guide_votes`.

Search follows the marketplace's word index (repos/listing_terms.py): one posting per
(published guide, keyword) with a deterministic `_id`, written in the same transaction as the
guide's publication; a search matches (guild_id, term) for the first word and checks the others
by `_id`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING

from economy.repos.base import Database, Doc, find_docs, find_first, next_in_sequence, recorded_once


def posting_id(guild_id: int, guide_id: int, term: str) -> str:
    """The deterministic `_id` of a guide posting."""
    return f"{guild_id}:{guide_id}:{term}"


class GuideRepo:
    """Every guide query."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.guides = db["guides"]
        self.terms = db["guide_terms"]
        self.votes = db["guide_votes"]
        self.images = db["guide_images"]
        self.counters = db["counters"]

    async def next_id(self, guild_id: int) -> int:
        """Allocate the next guide number of a guild."""
        return await next_in_sequence(self.db, self.counters, {"_id": f"{guild_id}:guides"})

    async def insert(self, doc: Doc, image: bytes | None = None) -> None:
        """Store a submitted guide (and its sanitized image, kept apart so guide reads stay
        small), in one transaction."""
        async def work(session: Any) -> None:
            await self.guides.insert_one(doc, session=session)
            if image is not None:
                await self.images.insert_one({"guild_id": doc["guild_id"],
                                              "guide_id": doc["guide_id"], "full": image},
                                             session=session)

        await self.db.transaction(work)

    async def image(self, guild_id: int, guide_id: int) -> bytes | None:
        """A guide's image (JPEG bytes), if it has one."""
        doc = await find_first(self.images, {"guild_id": guild_id, "guide_id": guide_id})
        return bytes(doc["full"]) if doc else None

    async def get(self, guild_id: int, guide_id: int) -> Doc | None:
        """One guide."""
        return await find_first(self.guides, {"guild_id": guild_id, "guide_id": guide_id})

    async def pending(self, guild_id: int, *, limit: int = 25) -> list[Doc]:
        """Guides waiting for review, oldest first."""
        return await find_docs(self.guides, {"guild_id": guild_id, "status": "pending"},
                               sort={"guide_id": ASCENDING}, limit=limit)

    async def publish(self, doc: Doc, *, reviewer: int, now_ms: int, session: Any) -> bool:
        """pending -> published and write its postings, inside the caller's transaction."""
        result = await self.guides.update_one(
            {"guild_id": doc["guild_id"], "guide_id": doc["guide_id"], "status": "pending"},
            {"$set": {"status": "published", "reviewed_by": reviewer, "published_ms": now_ms},
             "$inc": {"version": 1}}, session=session)
        if result.modified_count != 1:
            return False
        postings = [{"_id": posting_id(doc["guild_id"], doc["guide_id"], term),
                     "guild_id": doc["guild_id"], "term": term, "guide_id": doc["guide_id"]}
                    for term in dict.fromkeys(doc.get("keywords") or ())]
        if postings:
            await self.terms.insert_many(postings, ordered=True, session=session)
        return True

    async def reject(self, guild_id: int, guide_id: int, *, reviewer: int, now_ms: int) -> bool:
        """pending -> rejected; True if applied."""
        result = await self.db.write(lambda: self.guides.update_one(
            {"guild_id": guild_id, "guide_id": guide_id, "status": "pending"},
            {"$set": {"status": "rejected", "reviewed_by": reviewer, "reviewed_ms": now_ms},
             "$inc": {"version": 1}}))
        return result.modified_count == 1

    async def set_message(self, guild_id: int, guide_id: int, channel_id: int,
                          message_id: int) -> None:
        """Remember where a published guide was posted."""
        await self.db.write(lambda: self.guides.update_one(
            {"guild_id": guild_id, "guide_id": guide_id},
            {"$set": {"channel_id": channel_id, "message_id": message_id}}))

    async def add_vote(self, vote: Doc, *, votes_before: int, session: Any) -> bool:
        """Record one upvote and count it, guarded by the count read before (inside the
        caller's transaction). AlreadyRecorded when this member voted before; False when
        another vote landed meanwhile (the caller retries)."""
        result = await self.guides.update_one(
            {"guild_id": vote["guild_id"], "guide_id": vote["guide_id"], "status": "published",
             "votes": votes_before},
            {"$inc": {"votes": 1}}, session=session)
        if result.modified_count != 1:
            return False
        with recorded_once():
            await self.votes.insert_one(vote, session=session)
        return True

    async def has_vote(self, guild_id: int, guide_id: int, voter_id: int) -> bool:
        """Whether a member upvoted a guide."""
        return await find_first(self.votes, {"guild_id": guild_id, "guide_id": guide_id,
                                             "voter_id": voter_id}) is not None

    async def with_term(self, guild_id: int, term: str, *, limit: int) -> list[int]:
        """Published guides having `term`."""
        docs = await find_docs(self.terms, {"guild_id": guild_id, "term": term}, limit=limit)
        return [int(d["guide_id"]) for d in docs]

    async def having(self, guild_id: int, term: str, guide_ids: Iterable[int]) -> set[int]:
        """Which of `guide_ids` have `term` (primary-key lookups)."""
        ids = [posting_id(guild_id, gid, term) for gid in guide_ids]
        if not ids:
            return set()
        cursor = self.terms.find({"_id": {"$in": ids}}, {"guide_id": 1})
        return {int(doc["guide_id"]) for doc in await cursor.to_list()}

    async def many(self, guild_id: int, guide_ids: list[int]) -> list[Doc]:
        """Published guides by number, most upvoted first."""
        found = []
        for gid in guide_ids:
            doc = await self.get(guild_id, gid)
            if doc and doc["status"] == "published":
                found.append(doc)
        return sorted(found, key=lambda d: (-int(d.get("votes", 0)), d["guide_id"]))

    async def top(self, guild_id: int, *, limit: int) -> list[Doc]:
        """The most upvoted published guides."""
        return await find_docs(self.guides, {"guild_id": guild_id, "status": "published"},
                               sort={"votes": DESCENDING, "guide_id": ASCENDING}, limit=limit)
