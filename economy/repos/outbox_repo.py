"""The `outbox` collection: guild-scoped work the scheduler leader hands to the process that owns
the guild's shard.

An item is {_id: run-once key, guild_id, shard, kind, payload, status, created_ms, token}; status
goes pending -> running -> done | failed (| lost, when the process died mid-run), each step one guarded update on `_id` and the status
read, so one owner runs an item at most once even when several processes poll the same shard.
The `_id` is the work's own run-once key (e.g. `boost:b3:start`), so enqueueing twice is a no-op.
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs


class OutboxRepo:
    """Enqueue, claim and finish guild work items."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["outbox"]

    async def enqueue(self, key: str, *, guild_id: int, shard: int, kind: str, payload: Doc,
                      now_ms: int, token: int | None) -> bool:
        """Queue one item; False when an item with this key already exists (run-once)."""
        doc = {"_id": key, "guild_id": guild_id, "shard": shard, "kind": kind,
               "payload": payload, "status": "pending", "created_ms": now_ms, "token": token}
        try:
            await self._db.write(lambda: self._col.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def pending(self, shard: int, *, limit: int = 50) -> list[Doc]:
        """The oldest pending items for one shard."""
        return await find_docs(self._col, {"status": "pending", "shard": shard},
                               sort={"created_ms": 1, "_id": 1}, limit=limit)

    async def claim(self, key: str, owner: str, now_ms: int) -> bool:
        """Take a pending item for this process; False when another process took it first."""
        change = {"$set": {"status": "running", "owner": owner, "claimed_ms": now_ms}}
        result = await self._db.write(
            lambda: self._col.update_one({"_id": key, "status": "pending"}, change))
        return result.modified_count == 1

    async def finish(self, key: str, owner: str, now_ms: int, *, ok: bool, error: str = "") -> bool:
        """Record the outcome of an item this process claimed."""
        change = {"$set": {"status": "done" if ok else "failed", "done_ms": now_ms,
                           "error": error[:300]}}
        result = await self._db.write(lambda: self._col.update_one(
            {"_id": key, "status": "running", "owner": owner}, change))
        return result.modified_count == 1

    async def mark_lost(self, claimed_before_ms: int) -> list[str]:
        """Items claimed before `claimed_before_ms` and never finished (their process died while
        running them): marked `lost`, not run again (announcements are at most once)."""
        lost = []
        change = {"$set": {"status": "lost", "error": "its process stopped while running it"}}
        for doc in await find_docs(self._col, {"status": "running"}):
            if int(doc.get("claimed_ms") or 0) >= claimed_before_ms:
                continue
            result = await self._db.write(lambda d=doc: self._col.update_one(
                {"_id": d["_id"], "status": "running", "owner": d.get("owner")}, change))
            if result.modified_count == 1:
                lost.append(doc["_id"])
        return lost

    async def prune(self, before_ms: int) -> int:
        """Delete finished items older than `before_ms` (kept a while for inspection)."""
        result = await self._db.write(lambda: self._col.delete_many(
            {"status": {"$in": ["done", "failed", "lost"]}, "created_ms": {"$lt": before_ms}}))
        return result.deleted_count

    async def items(self, match: Doc) -> list[Doc]:
        """Items matching `match` (status pages, tests)."""
        return await find_docs(self._col, match)
