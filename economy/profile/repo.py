"""Every query of the profile: a member's privacy choices (`profile_privacy`, one document per
member, `_id` "<guild>:<user>"), and the few counts the profile reads from other features'
records (mentorships completed, wallets linked, NFT rule roles), read only."""

from __future__ import annotations

from economy.repos.base import Database, count, find_docs, find_first


class ProfileRepo:
    """Storage of the profile feature."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.privacy = db["profile_privacy"]

    async def hidden(self, guild_id: int, user_id: int) -> list[str]:
        """The parts a member hides from others."""
        doc = await find_first(self.privacy, {"_id": f"{guild_id}:{user_id}"})
        return list((doc or {}).get("hidden") or [])

    async def set_hidden(self, guild_id: int, user_id: int, parts: list[str], at_ms: int) -> None:
        """Replace a member's hidden parts (the whole document: the last choice wins)."""
        doc = {"_id": f"{guild_id}:{user_id}", "guild_id": guild_id, "user_id": user_id,
               "hidden": parts, "at_ms": at_ms}
        await self.db.write(lambda: self.privacy.replace_one({"_id": doc["_id"]}, doc,
                                                             upsert=True))

    async def mentorships_completed(self, guild_id: int, user_id: int) -> int:
        """Mentorships the member completed as a mentor (their mentor record's count)."""
        doc = await find_first(self.db["mentors"], {"guild_id": guild_id, "user_id": user_id})
        return int((doc or {}).get("completed") or 0)

    async def wallets(self, guild_id: int, user_id: int) -> int:
        """Wallets the member linked."""
        return await count(self.db["wallets"], {"guild_id": guild_id, "user_id": user_id})

    async def nft_rule_roles(self, guild_id: int) -> set[int]:
        """The roles the server's NFT rules grant."""
        return {int(doc["role_id"]) for doc in await find_docs(self.db["nft_rules"],
                                                               {"guild_id": guild_id})
                if doc.get("role_id")}
