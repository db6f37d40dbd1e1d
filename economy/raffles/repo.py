"""Every query of raffles: `raffles` (one document per raffle) and `raffle_tickets` (one document
per member per raffle: tickets held, GEMS paid, refunded or not).

Writes that run inside a money transaction take the session and are guarded in their filter (the
raffle still open and not ended, the member's count still under the cap, a refund not made yet),
so concurrent buyers on MongoDB cannot pass the cap or buy into a closed raffle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs, find_first


class RaffleRepo:
    """The raffles' collections."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.raffles = db["raffles"]
        self.tickets = db["raffle_tickets"]
        self._counters = db["counters"]

    # --- raffles ------------------------------------------------------------------------------
    async def next_raffle_id(self, guild_id: int) -> int:
        """Allocate the next per-guild raffle number."""
        doc = await self.db.write(lambda: self._counters.find_one_and_update(
            {"_id": f"{guild_id}:raffles"}, {"$inc": {"seq": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER))
        return int(doc["seq"])

    async def insert_raffle(self, doc: Doc) -> None:
        """Store a new raffle."""
        doc = {**doc, "_id": f"{doc['guild_id']}:{doc['raffle_id']}"}
        await self.db.write(lambda: self.raffles.insert_one(doc))

    async def raffle(self, guild_id: int, raffle_id: int) -> Doc | None:
        """One raffle."""
        return await find_first(self.raffles, {"_id": f"{guild_id}:{raffle_id}"})

    async def raffles_of(self, guild_id: int, status: str | None, *, limit: int = 25) -> list[Doc]:
        """A guild's raffles (of one status, or all), newest first."""
        match: Doc = {"guild_id": guild_id}
        if status is not None:
            match["status"] = status
        return await find_docs(self.raffles, match, sort={"raffle_id": -1}, limit=limit)

    async def insert_raffle_with(self, doc: Doc,
                                 also: Callable[[Any], Awaitable[None]]) -> None:
        """Store a new raffle and run `also(session)` (its prize's units set aside) in one
        transaction: both or neither."""
        doc = {**doc, "_id": f"{doc['guild_id']}:{doc['raffle_id']}"}

        async def work(session: Any) -> None:
            await self.raffles.insert_one(dict(doc), session=session)
            await also(session)

        await self.db.transaction(work)

    async def set_status(self, guild_id: int, raffle_id: int, *, from_status: str,
                         to_status: str, fields: Doc | None = None,
                         also: Callable[[Any], Awaitable[None]] | None = None) -> Doc | None:
        """Guarded status change; the raffle after it, or None when it was not `from_status`.

        With `also`, the change and `also(session)` (a prize's grants or the release of its
        units) are one transaction, and `also` runs only when the guarded change matched: two
        draws, or a draw and a cancel, cannot both apply.
        """
        match = {"_id": f"{guild_id}:{raffle_id}", "status": from_status}
        update = {"$set": {"status": to_status, **(fields or {})}}
        if also is None:
            return await self.db.write(lambda: self.raffles.find_one_and_update(
                match, update, return_document=ReturnDocument.AFTER))

        async def work(session: Any) -> bool:
            # A write first (a transaction must not start with a read on the embedded store).
            result = await self.raffles.update_one(match, update, session=session)
            if result.modified_count != 1:
                return False
            await also(session)
            return True

        if not await self.db.transaction(work):
            return None
        return await self.raffle(guild_id, raffle_id)

    async def count_sold(self, guild_id: int, raffle_id: int, n: int, now_ms: int, *,
                         session: Any) -> bool:
        """`n` more tickets sold, only while the raffle is open and has not ended."""
        result = await self.raffles.update_one(
            {"_id": f"{guild_id}:{raffle_id}", "status": "open", "ends_ms": {"$gt": now_ms}},
            {"$inc": {"tickets_sold": n}}, session=session)
        return result.modified_count == 1

    async def set_flag(self, guild_id: int, raffle_id: int, flag: str, *, status: str) -> bool:
        """Set `flag` true once (False when it was set already); claims a one-time step."""
        result = await self.db.write(lambda: self.raffles.update_one(
            {"_id": f"{guild_id}:{raffle_id}", "status": status, flag: False},
            {"$set": {flag: True}}))
        return result.modified_count == 1

    async def pending(self, now_ms: int, *, limit: int = 50) -> list[Doc]:
        """Raffles with work left, across guilds: ended but open, closed (to draw), drawn but
        not announced, cancelled with refunds left."""
        found = await find_docs(self.raffles, {"status": "open", "ends_ms": {"$lte": now_ms}},
                                sort={"ends_ms": ASCENDING}, limit=limit)
        found += await find_docs(self.raffles, {"status": "closed"}, limit=limit)
        found += await find_docs(self.raffles, {"status": "drawn", "announced": False},
                                 limit=limit)
        found += await find_docs(self.raffles, {"status": "cancelled", "refunds_done": False},
                                 limit=limit)
        return found

    # --- tickets ------------------------------------------------------------------------------
    @staticmethod
    def _ticket_id(guild_id: int, raffle_id: int, user_id: int) -> str:
        return f"{guild_id}:{raffle_id}:{user_id}"

    async def ticket(self, guild_id: int, raffle_id: int, user_id: int) -> Doc | None:
        """A member's tickets in a raffle."""
        return await find_first(self.tickets,
                                {"_id": self._ticket_id(guild_id, raffle_id, user_id)})

    async def ensure_ticket(self, guild_id: int, raffle_id: int, user_id: int) -> None:
        """Create a member's (empty) ticket document once, outside the money transaction, so
        the guarded increment inside it never has to insert."""
        doc = {"_id": self._ticket_id(guild_id, raffle_id, user_id), "guild_id": guild_id,
               "raffle_id": raffle_id, "user_id": user_id, "count": 0, "paid": 0,
               "refunded": False}
        # An insert, not an upsert with $setOnInsert (ignored by the embedded store); a
        # duplicate was made by a concurrent purchase of the same member.
        with contextlib.suppress(DuplicateKeyError):
            await self.db.write(lambda: self.tickets.insert_one(dict(doc)))

    async def add_tickets(self, guild_id: int, raffle_id: int, user_id: int, n: int, cost: int,
                          cap: int, *, session: Any) -> Doc | None:
        """`n` tickets more for the member, only while they stay within `cap` (and nothing was
        refunded); the document after, or None."""
        return await self.tickets.find_one_and_update(
            {"_id": self._ticket_id(guild_id, raffle_id, user_id), "refunded": False,
             "count": {"$lte": cap - n}},
            {"$inc": {"count": n, "paid": cost}}, return_document=ReturnDocument.AFTER,
            session=session)

    async def tickets_of(self, guild_id: int, raffle_id: int) -> list[Doc]:
        """Every member's tickets in a raffle, by member id (empty documents included)."""
        return await find_docs(self.tickets, {"guild_id": guild_id, "raffle_id": raffle_id},
                               sort={"user_id": ASCENDING})

    async def tickets_of_member(self, guild_id: int, user_id: int, *, limit: int = 25) -> list[Doc]:
        """A member's ticket documents, newest raffle first."""
        return await find_docs(self.tickets, {"guild_id": guild_id, "user_id": user_id},
                               sort={"raffle_id": -1}, limit=limit)

    async def mark_refunded(self, guild_id: int, raffle_id: int, user_id: int, paid: int, *,
                            session: Any) -> bool:
        """Record a member's tickets refunded, once, for exactly the `paid` read."""
        result = await self.tickets.update_one(
            {"_id": self._ticket_id(guild_id, raffle_id, user_id), "refunded": False,
             "paid": paid},
            {"$set": {"refunded": True}}, session=session)
        return result.modified_count == 1
