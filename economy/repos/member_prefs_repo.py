"""Queries for per-member preferences (`member_prefs`: one document per guild and member)."""

from __future__ import annotations

from economy.repos.base import Database, Doc, find_first


class MemberPrefsRepo:
    """`member_prefs`: {guild_id, user_id, timezone, dms}."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["member_prefs"]

    async def prefs(self, guild_id: int, user_id: int) -> Doc | None:
        """A member's preferences, or None."""
        return await find_first(self._col, {"guild_id": guild_id, "user_id": user_id})

    async def set_timezone(self, guild_id: int, user_id: int, zone: str | None) -> None:
        """Store (or clear, with None) a member's time zone."""
        update = {"$set": {"timezone": zone}} if zone else {"$unset": {"timezone": ""}}
        await self._db.write(lambda: self._col.update_one(
            {"guild_id": guild_id, "user_id": user_id}, update, upsert=True))

    async def set_dms(self, guild_id: int, user_id: int, allowed: bool) -> None:
        """Store whether the bot may DM the member (and members may offer them trades)."""
        await self._db.write(lambda: self._col.update_one(
            {"guild_id": guild_id, "user_id": user_id}, {"$set": {"dms": allowed}}, upsert=True))
