"""Every query of role income: `income_rules`, one document per (guild, role, period)."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs, find_first


class IncomeRepo:
    """The income rules."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rules = db["income_rules"]

    @staticmethod
    def rule_id(guild_id: int, role_id: int, period: str) -> str:
        """A rule's `_id`: one rule per role and period."""
        return f"{guild_id}:{role_id}:{period}"

    async def insert(self, doc: Doc) -> bool:
        """Store a new rule; False when the role already has one for that period."""
        try:
            await self.db.write(lambda: self.rules.insert_one(dict(doc)))
        except DuplicateKeyError:
            return False
        return True

    async def reactivate(self, rule_id: str, *, amount: int, version: int, fields: Doc) -> bool:
        """Turn a removed rule on again with a new amount (guarded by the version read)."""
        result = await self.db.write(lambda: self.rules.update_one(
            {"_id": rule_id, "active": False, "version": version},
            {"$set": {"active": True, "amount": amount, **fields}, "$inc": {"version": 1}}))
        return result.modified_count == 1

    async def deactivate(self, rule_id: str) -> bool:
        """Remove a rule (kept for the record); False when it was not active."""
        result = await self.db.write(lambda: self.rules.update_one(
            {"_id": rule_id, "active": True}, {"$set": {"active": False}, "$inc": {"version": 1}}))
        return result.modified_count == 1

    async def rule(self, rule_id: str) -> Doc | None:
        """One rule."""
        return await find_first(self.rules, {"_id": rule_id})

    async def active(self, guild_id: int) -> list[Doc]:
        """A guild's active rules, by role."""
        return await find_docs(self.rules, {"guild_id": guild_id, "active": True},
                               sort={"role_id": ASCENDING, "_id": ASCENDING})

    async def guild_ids(self) -> list[int]:
        """Guilds with rules."""
        return sorted(await self.rules.distinct("guild_id"))
