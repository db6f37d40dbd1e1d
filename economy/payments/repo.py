"""Queries for card payments: checkouts, received Stripe events, payouts owed, packs, sellers.

Collections (indexes in migrations/0011_payments.py):
- `pay_checkouts`: one per Checkout Session GEMS created; status creating -> open -> paid |
  expired | failed (| refund_due when a payment arrived after the listing was released;
  | mismatched when the paid amount or currency differed: refunded in full, listing released).
- `pay_events`: every verified webhook event, by id (replays are recognised).
- `pay_payouts`: money owed after a card trade settles (refund / transfer / manual), written in
  the settlement's transaction and then carried out with Stripe (pending -> done | manual_due);
  `full` marks a refund of everything left of the payment (a mismatched one).
- `pay_packs`: GEMS packs admins sell; `pay_sellers`: a member's Stripe Connect account.
Every status change is a guarded update (`status` in the filter).
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs, find_first, next_in_sequence
from economy.repos.slot_repo import SlotRepo

#: The `cap_slots` kind of an open listing checkout (repos/slot_repo.py): owner buyer_id, ref
#: checkout_no.
CHECKOUT_SLOT = "checkout"


class PaymentRepo:
    """`pay_checkouts`, `pay_events`, `pay_payouts`, `pay_packs`, `pay_sellers`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.checkouts = db["pay_checkouts"]
        self.events = db["pay_events"]
        self.payouts = db["pay_payouts"]
        self.packs = db["pay_packs"]
        self.sellers = db["pay_sellers"]
        self.counters = db["counters"]
        self.slots = SlotRepo(db)

    async def next_number(self, guild_id: int, what: str) -> int:
        """A per-guild sequence number (`checkouts`, `packs`)."""
        return await next_in_sequence(self.db, self.counters, {"_id": f"{guild_id}:pay_{what}"})

    # --- checkouts ---------------------------------------------------------------------------
    async def insert_checkout(self, doc: Doc, *, session: Any) -> None:
        """Store a new checkout (inside the caller's transaction)."""
        await self.checkouts.insert_one(doc, session=session)

    async def checkout(self, guild_id: int, checkout_no: int) -> Doc | None:
        """A checkout by number."""
        return await find_first(self.checkouts, {"guild_id": guild_id, "checkout_no": checkout_no})

    async def checkout_by_session(self, guild_id: int, session_id: str) -> Doc | None:
        """The checkout of a Checkout Session in a guild."""
        return await find_first(self.checkouts, {"guild_id": guild_id, "session_id": session_id})

    async def checkout_by_intent(self, guild_id: int, payment_intent: str) -> Doc | None:
        """The checkout paid by a PaymentIntent."""
        return await find_first(self.checkouts,
                                {"guild_id": guild_id, "payment_intent": payment_intent})

    async def checkout_by_intent_any(self, payment_intent: str) -> Doc | None:
        """The checkout paid by a PaymentIntent in any guild (disputes carry no metadata)."""
        return await find_first(self.checkouts, {"payment_intent": payment_intent})

    async def open_checkout_for(self, guild_id: int, buyer_id: int, *, kind: str,
                                target: int) -> Doc | None:
        """The buyer's open checkout for a listing or pack (to hand out the same link again)."""
        return await find_first(self.checkouts, {
            "guild_id": guild_id, "buyer_id": buyer_id, "status": "open", "kind": kind,
            "target": target})

    async def take_open_slot(self, guild_id: int, buyer_id: int, checkout_no: int, n: int, *,
                             session: Any) -> None:
        """Take open-checkout place `n` of the buyer for a listing checkout (repos/slot_repo.py),
        inside the caller's transaction; SlotTaken when another press took it. Freed by
        `free_open_slot` in the transaction that moves the checkout out of open."""
        await self.slots.take(guild_id, CHECKOUT_SLOT, buyer_id, n, checkout_no, session=session)

    async def free_open_slot(self, guild_id: int, checkout_no: int, *, session: Any) -> None:
        """A listing checkout left creating/open: free its place (inside the caller's
        transaction)."""
        await self.slots.release(guild_id, CHECKOUT_SLOT, checkout_no, session=session)

    async def move_checkout(self, guild_id: int, checkout_no: int, from_status: tuple[str, ...],
                            to_status: str, fields: Doc | None = None, *,
                            session: Any = None) -> bool:
        """Guarded status change of a checkout; True when it applied."""
        async def work(s: Any) -> bool:
            result = await self.checkouts.update_one(
                {"guild_id": guild_id, "checkout_no": checkout_no,
                 "status": {"$in": list(from_status)}},
                {"$set": {**(fields or {}), "status": to_status}, "$inc": {"version": 1}},
                session=s)
            return result.modified_count == 1
        if session is not None:
            return await work(session)
        return await self.db.write(lambda: work(None))

    async def due_checkouts(self, now_ms: int, *, limit: int = 200) -> list[Doc]:
        """Open (or stuck creating) checkouts past their expiry, across guilds (the sweep)."""
        return await find_docs(self.checkouts, {
            "status": {"$in": ["open", "creating"]}, "expires_ms": {"$lte": now_ms}},
            limit=limit)

    async def checkouts_for_guild(self, guild_id: int, *, limit: int = 1000) -> list[Doc]:
        """A guild's checkouts, newest first."""
        return await find_docs(self.checkouts, {"guild_id": guild_id},
                               sort={"checkout_no": DESCENDING}, limit=limit)

    # --- events ------------------------------------------------------------------------------
    async def record_event(self, doc: Doc) -> Doc | None:
        """Store a received event; returns the stored one when this id was seen before."""
        try:
            await self.db.write(lambda: self.events.insert_one(dict(doc)))
            return None
        except DuplicateKeyError:
            return await find_first(self.events, {"guild_id": doc["guild_id"],
                                                  "event_id": doc["event_id"]})

    async def finish_event(self, guild_id: int, event_id: str, result: str) -> None:
        """Mark an event processed (a replay then answers without doing anything)."""
        await self.db.write(lambda: self.events.update_one(
            {"guild_id": guild_id, "event_id": event_id, "status": "received"},
            {"$set": {"status": "processed", "result": result}}))

    async def last_event(self, guild_id: int | None = None) -> Doc | None:
        """The latest received event (of a guild, or for events naming no known guild: 0)."""
        docs = await find_docs(self.events, {"guild_id": guild_id},
                               sort={"received_ms": DESCENDING, "_id": DESCENDING}, limit=1)
        return docs[0] if docs else None

    # --- payouts -----------------------------------------------------------------------------
    async def insert_payout(self, doc: Doc, *, session: Any) -> None:
        """Record money owed (inside the settlement's transaction)."""
        await self.payouts.insert_one(doc, session=session)

    async def payouts_for_trade(self, guild_id: int, trade_id: int) -> list[Doc]:
        """Payouts of one trade."""
        return await find_docs(self.payouts, {"guild_id": guild_id, "trade_id": trade_id})

    async def pending_payouts(self, *, limit: int = 200) -> list[Doc]:
        """Payouts still to carry out with Stripe, across guilds (the retry sweep)."""
        return await find_docs(self.payouts, {"status": "pending"}, limit=limit)

    async def payouts_for_guild(self, guild_id: int, *, limit: int = 1000) -> list[Doc]:
        """A guild's payouts."""
        return await find_docs(self.payouts, {"guild_id": guild_id}, limit=limit)

    async def move_payout(self, guild_id: int, payout_id: str, from_status: str, to_status: str,
                          fields: Doc | None = None, *, inc: Doc | None = None) -> bool:
        """Guarded status change of a payout; True when it applied."""
        update: Doc = {"$set": {**(fields or {}), "status": to_status}}
        if inc:
            update["$inc"] = inc
        result = await self.db.write(lambda: self.payouts.update_one(
            {"guild_id": guild_id, "payout_id": payout_id, "status": from_status}, update))
        return result.modified_count == 1

    async def note_payout_attempt(self, guild_id: int, payout_id: str, error: str) -> None:
        """Count a failed attempt (the payout stays pending for the next sweep)."""
        await self.db.write(lambda: self.payouts.update_one(
            {"guild_id": guild_id, "payout_id": payout_id, "status": "pending"},
            {"$inc": {"attempts": 1}, "$set": {"last_error": error[:200]}}))

    # --- packs and sellers -------------------------------------------------------------------
    async def insert_pack(self, doc: Doc) -> None:
        """A new GEMS pack."""
        await self.db.write(lambda: self.packs.insert_one(doc))

    async def packs_for(self, guild_id: int, *, active_only: bool = True) -> list[Doc]:
        """A guild's packs, cheapest first."""
        match: Doc = {"guild_id": guild_id}
        if active_only:
            match["active"] = True
        return await find_docs(self.packs, match, sort={"cents": 1})

    async def pack(self, guild_id: int, pack_id: int) -> Doc | None:
        """One pack."""
        return await find_first(self.packs, {"guild_id": guild_id, "pack_id": pack_id})

    async def retire_pack(self, guild_id: int, pack_id: int) -> bool:
        """Stop selling a pack (kept for history)."""
        result = await self.db.write(lambda: self.packs.update_one(
            {"guild_id": guild_id, "pack_id": pack_id, "active": True},
            {"$set": {"active": False}}))
        return result.modified_count == 1

    async def seller(self, guild_id: int, user_id: int) -> Doc | None:
        """A member's connected account record."""
        return await find_first(self.sellers, {"guild_id": guild_id, "user_id": user_id})

    async def save_seller(self, doc: Doc) -> Doc:
        """Store a member's connected account once; returns the stored record."""
        try:
            await self.db.write(lambda: self.sellers.insert_one(dict(doc)))
            return doc
        except DuplicateKeyError:
            found = await self.seller(doc["guild_id"], doc["user_id"])
            assert found is not None
            return found

    async def mark_seller_ready(self, guild_id: int, user_id: int) -> None:
        """The seller finished onboarding."""
        await self.db.write(lambda: self.sellers.update_one(
            {"guild_id": guild_id, "user_id": user_id, "ready": False},
            {"$set": {"ready": True}}))

    # --- insights (economy/insights) ---------------------------------------------------------
    async def paid_between(self, guild_id: int, start_ms: int, end_ms: int) -> list[Doc]:
        """Checkouts paid in [start_ms, end_ms) (card revenue: `paid_amount` in `paid_currency`)."""
        return await find_docs(self.checkouts, {"guild_id": guild_id,
                                                "paid_ms": {"$gte": start_ms, "$lt": end_ms}})
