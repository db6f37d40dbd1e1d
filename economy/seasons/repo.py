"""Every query on seasons: `seasons` (a guild's enabled seasons) and `season_results`
(one document per finished occurrence, with its winners and run-once flags), plus the
seasonal leaderboard over the ledger."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs, find_first

EARNING_KINDS = ["activity", "daily", "earn", "reward"]


class SeasonRepo:
    """Seasons, their results and the earnings within a season."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seasons = db["seasons"]
        self.results = db["season_results"]
        self._ledger = db["ledger"]

    async def list(self, guild_id: int) -> list[Doc]:
        """A guild's seasons, by key."""
        return await find_docs(self.seasons, {"guild_id": guild_id}, sort={"key": ASCENDING})

    async def guild_ids(self) -> list[int]:
        """Guilds with seasons (the sweep walks them)."""
        return sorted(await self.seasons.distinct("guild_id"))

    async def insert(self, doc: Doc) -> bool:
        """Enable a season; False when the guild has one with that key."""
        doc = {**doc, "_id": f"{doc['guild_id']}:{doc['key']}"}
        try:
            await self.db.write(lambda: self.seasons.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def delete(self, guild_id: int, key: str) -> bool:
        """Remove a season from a guild (its past results stay)."""
        result = await self.db.write(lambda: self.seasons.delete_one({"_id": f"{guild_id}:{key}"}))
        return result.deleted_count == 1

    async def result(self, guild_id: int, occurrence: str) -> Doc | None:
        """The recorded result of one occurrence (`winter-festival-2026`)."""
        return await find_first(self.results, {"_id": f"{guild_id}:{occurrence}"})

    async def insert_result(self, doc: Doc) -> bool:
        """Record an occurrence's winners; False when another process recorded it first."""
        doc = {**doc, "_id": f"{doc['guild_id']}:{doc['occurrence']}"}
        try:
            await self.db.write(lambda: self.results.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def unfinished_results(self, guild_id: int) -> list[Doc]:
        """Results whose prizes or announcement are still pending."""
        return await find_docs(self.results, {"guild_id": guild_id, "announced": False})

    async def results_of(self, guild_id: int, limit: int = 10) -> list[Doc]:
        """Latest results first."""
        return await find_docs(self.results, {"guild_id": guild_id}, sort={"ends_ms": DESCENDING, "_id": DESCENDING},
                               limit=limit)

    async def claim(self, result_id: str, flag: str) -> bool:
        """Set a run-once flag (`paid`, `announced`) on a result; True for the winner."""
        res = await self.db.write(lambda: self.results.update_one(
            {"_id": result_id, flag: False}, {"$set": {flag: True}}))
        return res.modified_count == 1

    async def top_earners(self, guild_id: int, start_ms: int, end_ms: int,
                          limit: int = 10) -> list[tuple[int, int]]:
        """(user_id, GEMS earned) in [start_ms, end_ms), most first (ties by user id)."""
        cursor = await self._ledger.aggregate([
            {"$match": {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}},
            {"$match": {"mint": True, "delta": {"$gt": 0}, "kind": {"$in": EARNING_KINDS}}},
            {"$group": {"_id": "$user_id", "sum": {"$sum": "$delta"}}},
        ])
        rows = [(int(d["_id"]), int(d["sum"])) async for d in cursor]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows[:limit]
