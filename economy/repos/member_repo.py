"""Guarded per-member counters: quotas, cooldowns and throttles (`member_quotas`)."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_first


class MemberRepo:
    """`member_quotas` {guild_id, user_id, bucket, n | last_ms}.

    Quota writes are single guarded upserts: the limit is in the filter, so concurrent callers
    (or two bot processes) cannot overshoot it. When the filter does not match an existing
    document, MongoDB raises DuplicateKeyError on the unique (guild, user, bucket) index and the
    embedded store returns None; both mean "over the limit".
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.quotas = db["member_quotas"]

    async def add_up_to(self, guild_id: int, user_id: int, bucket: str, amount: int, cap: int,
                        *, session: Any = None) -> bool:
        """Add `amount` to the bucket's total if it stays <= `cap`; False (nothing changed) if not."""
        if amount > cap:
            return False
        return await self._guarded(
            {"guild_id": guild_id, "user_id": user_id, "bucket": bucket,
             "n": {"$lte": cap - amount}}, {"$inc": {"n": amount}}, session)

    async def claim_interval(self, guild_id: int, user_id: int, bucket: str, now_ms: int,
                             gap_ms: int, *, session: Any = None) -> bool:
        """Record `now_ms` if the last claim was at least `gap_ms` ago; False if too soon."""
        return await self._guarded(
            {"guild_id": guild_id, "user_id": user_id, "bucket": bucket,
             "last_ms": {"$lte": now_ms - gap_ms}}, {"$set": {"last_ms": now_ms}}, session)

    async def _guarded(self, match: Doc, update: Doc, session: Any) -> bool:
        async def write() -> Doc | None:
            return await self.quotas.find_one_and_update(
                match, update, upsert=True, return_document=ReturnDocument.AFTER,
                session=session)

        try:
            doc = await (write() if session is not None else self.db.write(write))
        except DuplicateKeyError:
            return False
        return doc is not None

    async def bucket_total(self, guild_id: int, user_id: int, bucket: str) -> int:
        """The running total of a bucket (0 when never used)."""
        doc = await find_first(self.quotas, {"guild_id": guild_id, "user_id": user_id,
                                             "bucket": bucket})
        return int(doc.get("n", 0)) if doc else 0

    async def last_claim(self, guild_id: int, user_id: int, bucket: str) -> int | None:
        """When an interval bucket was last claimed (epoch ms), or None when never."""
        doc = await find_first(self.quotas, {"guild_id": guild_id, "user_id": user_id,
                                             "bucket": bucket})
        return int(doc["last_ms"]) if doc and doc.get("last_ms") is not None else None
