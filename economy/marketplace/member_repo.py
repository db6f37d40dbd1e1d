"""Queries on the members' side of the marketplace: wishlists, alerts and saved queries."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from economy.marketplace.repo import ListingRepo
from economy.repos.base import Database, Doc, find_docs, find_first
from economy.repos.slot_repo import SlotHeld, SlotRepo, SlotsBusy, SlotsFull

#: The `cap_slots` kind of a saved alert (repos/slot_repo.py): owner user_id, ref "user:alert".
ALERT_SLOT = "alert"

#: Alerts read per page when a new listing is matched against a guild's alerts.
ALERT_PAGE = 500
#: Upper bound on one member's alerts read at once (members keep far fewer).
ALERTS_MAX_READ = 1000


class AlertsFull(Exception):
    """The member holds as many alerts as allowed (nothing was stored)."""


def _alert_ref(doc: Doc) -> str:
    return f"{doc['user_id']}:{doc['alert_id']}"


class MarketMemberRepo:
    """`wishlists`, `market_alerts`, `market_alert_outbox` (digests) and `saved_queries`."""

    def __init__(self, db: Database, listings: ListingRepo) -> None:
        self.db = db
        self._listings = listings
        self.wishlists = db["wishlists"]
        self.alerts = db["market_alerts"]
        self.outbox = db["market_alert_outbox"]
        self.queries = db["saved_queries"]
        self.slots = SlotRepo(db)

    # --- wishlists -----------------------------------------------------------------------------
    async def add_wish(self, guild_id: int, user_id: int, listing_id: int, at: datetime) -> bool:
        """Add to a wishlist (False when it was there already) and bump the listing's counter."""

        async def work(session: Any) -> None:
            await self.wishlists.insert_one(
                {"guild_id": guild_id, "user_id": user_id, "listing_id": listing_id,
                 "added_at": at}, session=session)
            await self._listings.add_wishlist_count(guild_id, listing_id, 1, session=session)

        try:
            await self.db.transaction(work)
        except DuplicateKeyError:
            return False
        return True

    async def remove_wish(self, guild_id: int, user_id: int, listing_id: int) -> bool:
        """Remove from a wishlist; False when it was not there."""

        async def work(session: Any) -> bool:
            result = await self.wishlists.delete_one(
                {"guild_id": guild_id, "user_id": user_id, "listing_id": listing_id},
                session=session)
            if result.deleted_count != 1:
                return False
            await self._listings.add_wishlist_count(guild_id, listing_id, -1, session=session)
            return True

        return await self.db.transaction(work)

    async def wishes_of(self, guild_id: int, user_id: int, *, limit: int = 50) -> list[Doc]:
        """A member's wishlist entries, latest first."""
        return await find_docs(self.wishlists, {"guild_id": guild_id, "user_id": user_id},
                               sort={"added_at": DESCENDING, "_id": DESCENDING}, limit=limit)

    async def wishers_of(self, guild_id: int, listing_id: int) -> list[int]:
        """Members who wishlisted a listing."""
        docs = await find_docs(self.wishlists, {"guild_id": guild_id, "listing_id": listing_id})
        return [int(doc["user_id"]) for doc in docs]

    # --- alerts --------------------------------------------------------------------------------
    async def add_alert(self, doc: Doc, *, cap: int) -> bool:
        """Store an alert with one of the member's `cap` alert places, in one transaction.

        False when its id was taken (retry with the next id); AlertsFull when the member holds
        `cap` alerts. The place is a unique document two racing adds both write, so they cannot
        get past the cap on MongoDB (a count before the insert could).
        """
        async def work(session: Any) -> None:
            await self.alerts.insert_one(doc, session=session)

        try:
            await self.slots.claim(doc["guild_id"], ALERT_SLOT, doc["user_id"], _alert_ref(doc),
                                   cap, work)
        except (SlotsFull, SlotsBusy):
            raise AlertsFull from None
        except (DuplicateKeyError, SlotHeld):  # the alert id was taken meanwhile
            return False
        return True

    async def alerts_of(self, guild_id: int, user_id: int) -> list[Doc]:
        """A member's alerts by id."""
        return await find_docs(self.alerts, {"guild_id": guild_id, "user_id": user_id},
                               sort={"alert_id": ASCENDING})

    async def remove_alert(self, guild_id: int, user_id: int, alert_id: int) -> bool:
        """Delete one of a member's alerts and free its place (one transaction)."""
        async def work(session: Any) -> bool:
            result = await self.alerts.delete_one(
                {"guild_id": guild_id, "user_id": user_id, "alert_id": alert_id},
                session=session)
            if result.deleted_count != 1:
                return False
            await self.slots.release(guild_id, ALERT_SLOT, f"{user_id}:{alert_id}",
                                     session=session)
            return True

        return await self.db.transaction(work)

    async def guild_alerts(self, guild_id: int, *, batch: int = ALERT_PAGE,
                           ) -> AsyncIterator[Doc]:
        """Every alert of a guild (matched in Python when a listing is published), streamed.

        Read in index-backed pages of at most `batch` alerts, whole members per page (through
        the unique (guild_id, user_id, alert_id) index), so a big guild's alerts are never all in
        memory at once.
        """
        last_user: int | None = None
        while True:
            match: Doc = {"guild_id": guild_id}
            if last_user is not None:
                match["user_id"] = {"$gt": last_user}
            docs = await find_docs(self.alerts, match, sort={"user_id": 1, "alert_id": 1},
                                   limit=batch)
            if len(docs) < batch:
                for doc in docs:
                    yield doc
                return
            # The page's last member may have more alerts on the next page: hand out whole
            # members only, and read a member alone when one member fills a page.
            cut = docs[-1]["user_id"]
            whole = [d for d in docs if d["user_id"] != cut]
            if not whole:
                whole = await find_docs(self.alerts, {"guild_id": guild_id, "user_id": cut},
                                        sort={"alert_id": 1}, limit=ALERTS_MAX_READ)
            for doc in whole:
                yield doc
            last_user = whole[-1]["user_id"]

    # --- alert digests -------------------------------------------------------------------------
    async def queue_alert_match(self, doc: Doc) -> None:
        """Queue a listing for a member's next alert digest (once per member and listing)."""
        with contextlib.suppress(DuplicateKeyError):  # already queued
            await self.db.write(lambda: self.outbox.insert_one(doc))

    async def due_alert_members(self, now_ms: int, *, limit: int) -> list[tuple[int, int]]:
        """(guild, member) pairs whose oldest queued match is due."""
        # A pipeline on the `due` index: `find().sort()` loads and sorts the whole outbox in the
        # embedded server.
        docs = await find_docs(self.outbox, {"due_ms": {"$lte": now_ms}},
                               sort={"due_ms": ASCENDING, "_id": ASCENDING}, limit=limit)
        return list(dict.fromkeys((int(d["guild_id"]), int(d["user_id"])) for d in docs))

    async def take_alert_matches(self, guild_id: int, user_id: int) -> list[Doc]:
        """Claim every queued match of a member (each deleted by this caller, so a digest goes
        out once even when two bot processes sweep together)."""
        claimed = []
        for doc in await find_docs(self.outbox, {"guild_id": guild_id, "user_id": user_id},
                                   sort={"due_ms": ASCENDING}):
            result = await self.db.write(lambda d=doc: self.outbox.delete_one({"_id": d["_id"]}))
            if result.deleted_count == 1:
                claimed.append(doc)
        return claimed

    # --- saved queries -------------------------------------------------------------------------
    async def save_query(self, guild_id: int, query_id: str, text: str, at: datetime) -> None:
        """Store a query under its content hash (idempotent)."""
        # Two members saving the same query at once: the upsert that lost the unique index
        # finds it stored by the other, with the same text (the id is the text's hash).
        with contextlib.suppress(DuplicateKeyError):
            await self.db.write(lambda: self.queries.update_one(
                {"guild_id": guild_id, "query_id": query_id},
                {"$set": {"query": text, "used_at": at}}, upsert=True))

    async def load_query(self, guild_id: int, query_id: str) -> str | None:
        """The stored query text, or None."""
        doc = await find_first(self.queries, {"guild_id": guild_id, "query_id": query_id})
        return doc["query"] if doc else None
