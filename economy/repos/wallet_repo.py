"""Queries for linked wallets (`wallets`) and one-time wallet-link tickets (`wallet_links`)."""

from __future__ import annotations

from typing import Any

from economy.repos.base import Database, Doc, count, find_docs, find_first


class WalletRepo:
    """`wallets`: {guild_id, user_id, address (EIP-55), linked_ms}; unique (guild_id, address).

    `wallet_links`: {_id: token, guild_id, user_id, nonce, statement, created_ms, expires_ms,
    status: open|used}.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.wallets = db["wallets"]
        self.links = db["wallet_links"]

    async def insert_link(self, link: Doc) -> None:
        """Store a new link ticket."""
        await self.db.write(lambda: self.links.insert_one(link))

    async def links_of(self, guild_id: int, user_id: int) -> list[Doc]:
        """A member's link tickets (open, used or expired)."""
        return await find_docs(self.links, {"guild_id": guild_id, "user_id": user_id})

    async def link(self, token: str) -> Doc | None:
        """A link ticket by its token."""
        return await find_first(self.links, {"_id": token})

    async def consume_link_and_add(self, token: str, wallet: Doc) -> bool:
        """In one transaction: mark the open ticket used and store the wallet.

        False when the ticket was no longer open (used concurrently); DuplicateKeyError when the
        wallet is already linked in this guild (then the ticket stays open).
        """

        class _Gone(Exception):
            pass

        async def work(session: Any) -> None:
            result = await self.links.update_one(
                {"_id": token, "status": "open"}, {"$set": {"status": "used"}}, session=session)
            if result.modified_count != 1:
                raise _Gone
            await self.wallets.insert_one(wallet, session=session)

        try:
            await self.db.transaction(work)
        except _Gone:
            return False
        return True

    async def of_member(self, guild_id: int, user_id: int) -> list[Doc]:
        """A member's wallets, oldest first."""
        return await find_docs(self.wallets, {"guild_id": guild_id, "user_id": user_id},
                               sort={"linked_ms": 1})

    async def count_of_member(self, guild_id: int, user_id: int) -> int:
        """How many wallets a member linked."""
        return await count(self.wallets, {"guild_id": guild_id, "user_id": user_id})

    async def by_address(self, guild_id: int, address: str) -> Doc | None:
        """The wallet record of an address in a guild."""
        return await find_first(self.wallets, {"guild_id": guild_id, "address": address})

    async def owners_of(self, guild_id: int, addresses: set[str]) -> dict[str, int]:
        """Address -> member, for the addresses linked in this guild (one index lookup each)."""
        found: dict[str, int] = {}
        for address in addresses:
            doc = await self.by_address(guild_id, address)
            if doc is not None:
                found[address] = doc["user_id"]
        return found

    async def of_guild(self, guild_id: int) -> list[Doc]:
        """Every linked wallet of a guild."""
        return await find_docs(self.wallets, {"guild_id": guild_id})

    async def remove(self, guild_id: int, user_id: int, address: str) -> bool:
        """Unlink a member's wallet; False when they had no such wallet."""
        result = await self.db.write(lambda: self.wallets.delete_one(
            {"guild_id": guild_id, "user_id": user_id, "address": address}))
        return result.deleted_count == 1

    async def insert_many(self, wallets: list[Doc]) -> None:
        """Bulk insert (tests and benches seeding many linked wallets)."""
        await self.db.write(lambda: self.wallets.insert_many(wallets, ordered=False))
