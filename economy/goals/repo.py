"""Every query on `community_goals`, and the progress sums they read (ledger, check-ins)."""

from __future__ import annotations

from pymongo import ASCENDING

from economy.repos.base import Database, Doc, find_docs, find_first, next_in_sequence
from economy.seasons.repo import EARNING_KINDS


class GoalRepo:
    """Community goals: {_id "<guild>:<n>", goal_id, title, metric, target, reward, starts_ms,
    deadline_ms, status: open|reached|expired, payout_done, announced, created_by}."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.goals = db["community_goals"]
        self._counters = db["counters"]
        self._ledger = db["ledger"]
        self._attendance = db["event_attendance"]

    async def next_id(self, guild_id: int) -> int:
        """Allocate the next per-guild goal number."""
        return await next_in_sequence(self.db, self._counters, {"_id": f"{guild_id}:goals"})

    async def insert(self, doc: Doc) -> None:
        """Store a goal."""
        doc = {**doc, "_id": f"{doc['guild_id']}:{doc['goal_id']}"}
        await self.db.write(lambda: self.goals.insert_one(doc))

    async def get(self, guild_id: int, goal_id: int) -> Doc | None:
        """One goal."""
        return await find_first(self.goals, {"_id": f"{guild_id}:{goal_id}"})

    async def by_status(self, guild_id: int, status: str) -> list[Doc]:
        """Goals of a guild in a status, by deadline."""
        return await find_docs(self.goals, {"guild_id": guild_id, "status": status},
                               sort={"deadline_ms": ASCENDING})

    async def unfinished(self, guild_id: int) -> list[Doc]:
        """Goals whose payout or announcement is pending (any status)."""
        return await find_docs(self.goals, {"guild_id": guild_id, "announced": False})

    async def guild_ids(self) -> list[int]:
        """Guilds with goals."""
        return sorted(await self.goals.distinct("guild_id"))

    async def transition(self, guild_id: int, goal_id: int, *, from_status: str,
                         fields: Doc) -> bool:
        """Guarded status change; True for the one caller that made it."""
        result = await self.db.write(lambda: self.goals.update_one(
            {"_id": f"{guild_id}:{goal_id}", "status": from_status}, {"$set": fields}))
        return result.modified_count == 1

    async def claim(self, guild_id: int, goal_id: int, flag: str) -> bool:
        """Set a run-once flag; True for the winner."""
        result = await self.db.write(lambda: self.goals.update_one(
            {"_id": f"{guild_id}:{goal_id}", flag: False}, {"$set": {flag: True}}))
        return result.modified_count == 1

    async def earned_by_user(self, guild_id: int, start_ms: int, end_ms: int) -> dict[int, int]:
        """GEMS earned per member in [start_ms, end_ms) (grants excluded)."""
        cursor = await self._ledger.aggregate([
            {"$match": {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}},
            {"$match": {"mint": True, "delta": {"$gt": 0}, "kind": {"$in": EARNING_KINDS}}},
            {"$group": {"_id": "$user_id", "sum": {"$sum": "$delta"}}},
        ])
        return {int(d["_id"]): int(d["sum"]) async for d in cursor}

    async def checkins_by_user(self, guild_id: int, start_ms: int, end_ms: int) -> dict[int, int]:
        """Event check-ins per member in [start_ms, end_ms)."""
        cursor = await self._attendance.aggregate([
            {"$match": {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}},
            {"$group": {"_id": "$user_id", "n": {"$sum": 1}}},
        ])
        return {int(d["_id"]): int(d["n"]) async for d in cursor}
