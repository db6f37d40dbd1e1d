"""Queries for linked wallets (`wallets`) and one-time wallet-link tickets (`wallet_links`)."""

from __future__ import annotations

from typing import Any

from economy.core.errors import AlreadyRecorded
from economy.repos.base import Database, Doc, count, find_docs, find_first, recorded_once
from economy.repos.slot_repo import (
    ATTEMPTS,
    SlotHeld,
    SlotRepo,
    SlotsBusy,
    SlotsFull,
    SlotTaken,
    lowest_free,
    slot_id,
)

#: The `cap_slots` kind of a linked wallet (repos/slot_repo.py): owner user_id, ref address.
WALLET_SLOT = "wallet"
#: The kind of an open link ticket: owner user_id, ref token; free again once the ticket is used
#: (deleted with it) or expired (`expires_ms`, taken over by the next ticket).
LINK_SLOT = "wallet_link"


class WalletsFull(Exception):
    """The member linked as many wallets as allowed (nothing was stored)."""


class WalletRepo:
    """`wallets`: {guild_id, user_id, address (EIP-55), linked_ms}; unique (guild_id, address).

    `wallet_links`: {_id: token, guild_id, user_id, nonce, statement, created_ms, expires_ms,
    status: open|used}.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.wallets = db["wallets"]
        self.links = db["wallet_links"]
        self.slots = SlotRepo(db)

    async def insert_link(self, link: Doc, *, cap: int, now_ms: int) -> None:
        """Store a new link ticket with one of the member's `cap` open-ticket places.

        Raises SlotsFull when the member has `cap` unexpired, unused tickets (concurrent
        requests race on the place, so they cannot get past it).
        """
        g, user = link["guild_id"], link["user_id"]

        async def attempt(n: int) -> None:
            async def work(session: Any) -> None:
                await self.slots.take_expiring(g, LINK_SLOT, user, n, link["_id"],
                                               expires_ms=link["expires_ms"], now_ms=now_ms,
                                               session=session)
                await self.links.insert_one(link, session=session)

            await self.db.transaction(work)

        for attempt_no in range(max(ATTEMPTS, cap + 2)):
            n = lowest_free(await self.slots.live(g, LINK_SLOT, user, now_ms), cap,
                            spread=attempt_no > 0)
            if n is None:
                raise SlotsFull
            try:
                return await attempt(n)
            except SlotTaken:
                continue
        raise SlotsBusy

    async def links_of(self, guild_id: int, user_id: int) -> list[Doc]:
        """A member's link tickets (open, used or expired)."""
        return await find_docs(self.links, {"guild_id": guild_id, "user_id": user_id})

    async def link(self, token: str) -> Doc | None:
        """A link ticket by its token."""
        return await find_first(self.links, {"_id": token})

    async def consume_link_and_add(self, token: str, wallet: Doc, *, cap: int) -> bool:
        """In one transaction: take one of the member's `cap` wallet places, mark the open
        ticket used and store the wallet.

        False when the ticket was no longer open (used concurrently); WalletsFull when the member
        has `cap` wallets (two tickets completed at once race on the place, so they cannot get
        past the cap); AlreadyRecorded when the wallet is already linked in this guild (then
        the ticket stays open).
        """

        class _Gone(Exception):
            pass

        async def work(session: Any) -> None:
            result = await self.links.update_one(
                {"_id": token, "status": "open"}, {"$set": {"status": "used"}}, session=session)
            if result.modified_count != 1:
                raise _Gone
            await self.slots.release(wallet["guild_id"], LINK_SLOT, token, session=session)
            await self.wallets.insert_one(wallet, session=session)

        try:
            with recorded_once():
                await self.slots.claim(wallet["guild_id"], WALLET_SLOT, wallet["user_id"],
                                       wallet["address"], cap, work)
        except _Gone:
            return False
        except SlotHeld:
            raise AlreadyRecorded("wallet already linked in this guild") from None
        except (SlotsFull, SlotsBusy):
            raise WalletsFull from None
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
        """Unlink a member's wallet and free its place; False when they had no such wallet."""
        async def work(session: Any) -> bool:
            result = await self.wallets.delete_one(
                {"guild_id": guild_id, "user_id": user_id, "address": address}, session=session)
            if result.deleted_count != 1:
                return False
            await self.slots.release(guild_id, WALLET_SLOT, address, session=session)
            return True

        return await self.db.transaction(work)

    async def insert_many(self, wallets: list[Doc]) -> None:
        """Bulk insert with their places (tests and benches seeding many linked wallets)."""
        places: list[Doc] = []
        used: dict[tuple[int, int], int] = {}
        for guild_id in {w["guild_id"] for w in wallets}:  # one read per guild
            for place in await self.slots.held(guild_id, WALLET_SLOT):
                key = (guild_id, place["owner"])
                used[key] = max(used.get(key, 0), int(place["n"]))
        for wallet in wallets:
            key = (wallet["guild_id"], wallet["user_id"])
            used[key] = used.get(key, 0) + 1
            places.append({"_id": slot_id(key[0], WALLET_SLOT, key[1], used[key]),
                           "guild_id": key[0], "kind": WALLET_SLOT, "owner": key[1],
                           "n": used[key], "ref": wallet["address"]})

        # Seeding only (no racer): two bulk writes, not one huge transaction.
        await self.db.write(lambda: self.wallets.insert_many(wallets, ordered=False))
        await self.db.write(lambda: self.slots.col.insert_many(places, ordered=False))
