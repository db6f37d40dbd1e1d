"""Queries for `guild_onboarding`: one document per guild the bot has welcomed (`_id` = guild id)."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database


class OnboardingRepo:
    """`guild_onboarding`: {_id: guild_id, welcomed_at_ms}."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["guild_onboarding"]

    async def claim_welcome(self, guild_id: int, at_ms: int) -> bool:
        """Record the welcome; True only for the first claim ever (the `_id` is unique, so two
        processes or a re-invite cannot both win)."""
        try:
            await self._db.write(lambda: self._col.insert_one(
                {"_id": guild_id, "welcomed_at_ms": at_ms}))
        except DuplicateKeyError:
            return False
        return True
