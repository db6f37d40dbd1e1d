"""Queries for earning multiplier windows (one-off boosts, double-GEMS weekends).

`multipliers` documents::

    {_id: "<guild>:<boost_id>", guild_id, boost_id: "b3" | "wk-20260109", kind: "oneoff"|"weekend",
     factor_bps: 20000 (x2), reason, starts_ms, ends_ms (epoch ms), status: "scheduled"|"cancelled",
     created_by, created_ms, start_announced: bool, end_announced: bool}

Times are epoch-ms integers: they are compared in pipelines (datetime ranges are wrong there on
the embedded store) and one type on both stores. Earning reads only windows whose end lies in the
future (index guild_id, ends_ms), and the boost service caches them; `version` counts this
process's writes so that cache drops at once after a change made here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from economy.core.clock import to_ms
from economy.repos.base import Database, Doc, find_docs, find_first, next_in_sequence


class MultiplierRepo:
    """Multiplier windows, their run-once announcement flags, and the ledger sums for stats."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["multipliers"]
        self._counters = db["counters"]
        self._ledger = db["ledger"]
        self._settings = db["guild_settings"]
        self.version = 0  # bumped by every write made through this repo (cache invalidation)

    # --- reads -------------------------------------------------------------------------------
    async def open_windows(self, guild_id: int, now_ms: int) -> list[Doc]:
        """Windows of a guild that have not ended by `now_ms` (active or upcoming), any status."""
        return await find_docs(self._col, {"guild_id": guild_id, "ends_ms": {"$gt": now_ms}},
                               sort={"ends_ms": ASCENDING})

    async def get(self, guild_id: int, boost_id: str) -> Doc | None:
        """One window by its boost id."""
        return await find_first(self._col, {"_id": f"{guild_id}:{boost_id}"})

    async def recent(self, guild_id: int, since_ms: int, *, limit: int = 25) -> list[Doc]:
        """Windows ending after `since_ms`, soonest end first."""
        return await find_docs(self._col, {"guild_id": guild_id, "ends_ms": {"$gt": since_ms}},
                               sort={"ends_ms": ASCENDING, "_id": ASCENDING}, limit=limit)

    async def guild_ids(self) -> list[int]:
        """Guilds that have multiplier windows (the announcement sweep walks them)."""
        return sorted(await self._col.distinct("guild_id"))

    async def weekend_guild_ids(self) -> list[int]:
        """Guilds whose settings turn the double-GEMS weekend on."""
        docs = await find_docs(self._settings, {"values.double_weekend": True})
        return sorted(int(doc["guild_id"]) for doc in docs)

    async def pending_announcements(self, guild_id: int) -> list[Doc]:
        """Windows whose start or end is not announced yet."""
        return await find_docs(self._col, {"guild_id": guild_id, "end_announced": False})

    async def earned_by_kind(self, guild_id: int, start_ms: int, end_ms: int) -> dict[str, int]:
        """GEMS minted by earnings (not admin grants) with `at_ms` in [start_ms, end_ms), per ledger kind."""
        cursor = await self._ledger.aggregate([
            {"$match": {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}},
            {"$match": {"mint": True, "delta": {"$gt": 0},
                        "kind": {"$in": ["activity", "daily", "earn", "reward"]}}},
            {"$group": {"_id": "$kind", "sum": {"$sum": "$delta"}}},
        ])
        return {str(doc["_id"]): int(doc["sum"]) async for doc in cursor}

    # --- writes ------------------------------------------------------------------------------
    async def next_number(self, guild_id: int) -> int:
        """Allocate the next per-guild boost number (gaps possible, reuse never)."""
        return await next_in_sequence(self._db, self._counters, {"_id": f"{guild_id}:boosts"})

    async def insert(self, doc: Doc) -> bool:
        """Store a window; False when a window with that id exists (weekend windows race)."""
        doc = {"status": "scheduled", "start_announced": False, "end_announced": False, **doc}
        doc["_id"] = f"{doc['guild_id']}:{doc['boost_id']}"
        try:
            await self._db.write(lambda: self._col.insert_one(doc))
        except DuplicateKeyError:
            return False
        self.version += 1
        return True

    async def add(
        self, guild_id: int, percent: int, *, starts_at: datetime, ends_at: datetime, reason: str
    ) -> str:
        """Store a one-off window given as a percent (200 = double); returns its boost id."""
        number = await self.next_number(guild_id)
        boost_id = f"b{number}"
        await self.insert({"guild_id": guild_id, "boost_id": boost_id, "kind": "oneoff",
                           "factor_bps": percent * 100, "reason": reason,
                           "starts_ms": to_ms(starts_at), "ends_ms": to_ms(ends_at),
                           "created_by": 0, "created_ms": to_ms(starts_at)})
        return boost_id

    async def cancel(self, guild_id: int, boost_id: str, *, now_ms: int, actor_id: int) -> bool:
        """Cancel a scheduled window that has not ended (guarded: only one caller wins)."""
        result = await self._db.write(lambda: self._col.update_one(
            {"_id": f"{guild_id}:{boost_id}", "status": "scheduled", "ends_ms": {"$gt": now_ms}},
            {"$set": {"status": "cancelled", "cancelled": {"ms": now_ms, "by": actor_id}}}))
        self.version += 1
        return result.modified_count == 1

    async def claim_flag(self, doc_id: str, flag: str, extra_guard: Doc | None = None) -> bool:
        """Set a run-once flag (`start_announced`/`end_announced`); True for the one winner."""
        guard: dict[str, Any] = {"_id": doc_id, flag: False, **(extra_guard or {})}
        result = await self._db.write(lambda: self._col.update_one(guard, {"$set": {flag: True}}))
        return result.modified_count == 1
