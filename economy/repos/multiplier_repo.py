"""Queries for earning multipliers (double-GEMS weekends, event boosts, holder perks)."""

from __future__ import annotations

from datetime import datetime

from economy.repos.base import Database, find_docs


class MultiplierRepo:
    """`multipliers`: {guild_id, percent, reason, starts_at, ends_at}; 200 percent = double."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["multipliers"]

    async def active_percents(self, guild_id: int, at: datetime) -> list[int]:
        """Percents of the multipliers active at `at`."""
        # Date ranges are compared here, not in `$match`: nx-27017 mis-compares datetimes in
        # pipelines (see repos/base.py). A guild has few multiplier windows.
        docs = await find_docs(self._col, {"guild_id": guild_id})
        return [int(doc["percent"]) for doc in docs if doc["starts_at"] <= at < doc["ends_at"]]

    async def add(
        self, guild_id: int, percent: int, *, starts_at: datetime, ends_at: datetime, reason: str
    ) -> None:
        """Store a multiplier window."""
        doc = {"guild_id": guild_id, "percent": percent, "starts_at": starts_at,
               "ends_at": ends_at, "reason": reason}
        await self._db.write(lambda: self._col.insert_one(doc))
