"""Queries for guild settings and their change history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING

from economy.repos.base import Database, find_docs, find_first


class SettingsRepo:
    """`guild_settings` (one document per guild, only overridden keys) and `settings_history`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._settings = db["guild_settings"]
        self._history = db["settings_history"]

    async def overrides(self, guild_id: int) -> dict[str, Any]:
        """The stored overrides of a guild ({} when none)."""
        return (await self.versioned(guild_id))[1]

    async def versioned(self, guild_id: int) -> tuple[int, dict[str, Any]]:
        """(version stamp, overrides) of a guild; (0, {}) when it never changed a setting.

        The stamp grows with every change, so a cache in any process can tell whether its copy
        is still current by reading the stamp.
        """
        doc = await find_first(self._settings, {"guild_id": guild_id})
        if not doc:
            return 0, {}
        return int(doc.get("version", 0)), dict(doc.get("values") or {})

    async def change(
        self, guild_id: int, key: str, value: Any, *, old: Any, actor_id: int, at: datetime,
        is_default: bool,
    ) -> None:
        """Store a new value (or drop the override when it equals the default) with its history."""

        async def work(session: Any) -> None:
            # Stored as {"changed": {"at": ...}}: a top-level datetime written with `$set` comes
            # back as a string from the embedded store (see repos/base.py).
            update: dict[str, Any] = {"$set": {"changed": {"at": at, "by": actor_id}},
                                      "$inc": {"version": 1}}
            if is_default:
                update["$unset"] = {f"values.{key}": ""}
            else:
                update["$set"][f"values.{key}"] = value
            await self._settings.update_one(
                {"guild_id": guild_id}, update, upsert=True, session=session
            )
            await self._history.insert_one(
                {"guild_id": guild_id, "key": key, "old": old, "new": value,
                 "actor_id": actor_id, "at": at},
                session=session,
            )

        await self._db.transaction(work)

    async def history(self, guild_id: int, *, limit: int) -> list[dict[str, Any]]:
        """Latest changes first."""
        return await find_docs(
            self._history, {"guild_id": guild_id}, sort={"at": DESCENDING, "_id": DESCENDING}, limit=limit
        )
