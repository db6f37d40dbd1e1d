"""Queries for earning multipliers (double-GEMS weekends, event boosts, holder perks)."""

from __future__ import annotations

from datetime import datetime

from economy.repos.base import Database


class MultiplierRepo:
    """`multipliers`: {guild_id, percent, reason, starts_at, ends_at}; 200 percent = double."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["multipliers"]

    async def active_percents(self, guild_id: int, at: datetime) -> list[int]:
        """Percents of the multipliers active at `at`."""
        cursor = self._col.find(
            {"guild_id": guild_id, "ends_at": {"$gt": at}, "starts_at": {"$lte": at}},
            {"percent": 1},
        )
        return [int(doc["percent"]) for doc in await cursor.to_list()]

    async def add(
        self, guild_id: int, percent: int, *, starts_at: datetime, ends_at: datetime, reason: str
    ) -> None:
        """Store a multiplier window."""
        doc = {"guild_id": guild_id, "percent": percent, "starts_at": starts_at,
               "ends_at": ends_at, "reason": reason}
        await self._db.write(lambda: self._col.insert_one(doc))
