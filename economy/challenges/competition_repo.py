"""Queries for challenge competitions (`challenge_competitions`) and the completions they rank."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument

from economy.repos.base import Database, Doc, find_docs, find_first


class CompetitionRepo:
    """`challenge_competitions`: {guild_id, competition_id, kind, mode, target, places, prize,
    starts_ms, ends_ms, status: running -> settled, winners}."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.competitions = db["challenge_competitions"]
        self.counters = db["challenge_counters"]
        self.completions = db["challenge_completions"]

    async def next_number(self, guild_id: int) -> int:
        """The next competition number of a guild (atomic)."""
        doc = await self.db.write(lambda: self.counters.find_one_and_update(
            {"guild_id": guild_id}, {"$inc": {"competitions": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER))
        return int(doc["competitions"])

    async def insert(self, doc: Doc) -> None:
        """Store a new competition."""
        await self.db.write(lambda: self.competitions.insert_one(doc))

    async def get(self, guild_id: int, competition_id: int) -> Doc | None:
        """One competition."""
        return await find_first(self.competitions, {"guild_id": guild_id,
                                                    "competition_id": competition_id})

    async def running(self, guild_id: int) -> list[Doc]:
        """Competitions not settled yet, oldest first."""
        return await find_docs(self.competitions, {"guild_id": guild_id, "status": "running"},
                               sort={"ends_ms": ASCENDING})

    async def recent(self, guild_id: int, limit: int) -> list[Doc]:
        """The latest competitions of a guild."""
        return await find_docs(self.competitions, {"guild_id": guild_id},
                               sort={"competition_id": -1}, limit=limit)

    async def completions_between(self, guild_id: int, kind: str | None, start_ms: int,
                                  end_ms: int) -> list[Doc]:
        """Completions (of one challenge type, or all) in [start_ms, end_ms), oldest first."""
        match: dict[str, Any] = {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}
        if kind:
            match = {"guild_id": guild_id, "type": kind, "at_ms": match["at_ms"]}
        return await find_docs(self.completions, match, sort={"at_ms": ASCENDING})

    async def settle(self, doc_id: Any, winners: list[Doc], at_ms: int) -> bool:
        """running -> settled with its winners (guarded: exactly one caller wins)."""
        result = await self.db.write(lambda: self.competitions.update_one(
            {"_id": doc_id, "status": "running"},
            {"$set": {"status": "settled", "result": {"winners": winners, "at_ms": at_ms}}}))
        return result.modified_count == 1
