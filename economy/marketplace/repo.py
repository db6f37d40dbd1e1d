"""Every query on `listings`, `listing_images`, `listing_counters` and `listing_quota`.

Status changes are single guarded updates (`status` in the filter), so a double click, a retry or
two bot processes sweeping at once apply each transition at most once. The three escrow writes
(`reserve`, `mark_sold`, `unreserve`) run inside the caller's transaction and never read first.

nx-27017 notes (see repos/base.py and the marketplace issue note): reads are aggregation pipelines
(`find_docs`); time comparisons inside pipelines use integer epoch-millisecond mirrors
(`listed_ts`, `expires_ts`, `remind_ts`, `created_ts`, `sold_ts`) because datetime range operators
are wrong in nx pipelines; array fields are matched with `$all` (element equality `{"tags": "x"}`
matches nothing in nx pipelines) and "has a price" is `{"$gte": 1}` (`$ne: null` also matches
missing fields there). All of these forms mean the same on MongoDB.

Keyword postings (`listing_terms`, see repos/listing_terms.py) follow the listings: every write
here that can change a listing's status or a posted field reads the document it replaced (the
write returns it, so nothing is read before the write) and syncs the postings in the same
transaction. Writes that were single updates therefore run as small transactions now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateMany, UpdateOne
from pymongo.errors import DuplicateKeyError

from economy.core.clock import to_ms
from economy.marketplace.terms_repo import ListingTerms, postings_of
from economy.repos.base import Database, Doc, count, find_docs, find_first, next_in_sequence
from economy.repos.slot_repo import SlotRepo, SlotsBusy, SlotsFull

#: Listing statuses that hold one of the member's "open listing" slots. Drafts count: each
#: stores up to ten images, so unpublished drafts must not be a way around the cap.
OPEN_STATUSES = ("draft", "pending", "active", "reserved")
#: The `cap_slots` kind of an open listing (repos/slot_repo.py): owner seller_id, ref listing_id.
SLOT_KIND = "listing"


def epoch_ms(at: datetime) -> int:
    """An aware datetime as integer epoch milliseconds (for comparisons inside pipelines)."""
    return to_ms(at)


class OverCap(Exception):
    """Raised inside a transaction when a member would hold more open listings than allowed."""


class ItemTaken(Exception):
    """Raised inside a listing's transaction when the item it sells was claimed meanwhile."""


class QuotaFull(Exception):
    """Raised inside a publish transaction when the member used today's listing slots."""


class ListingRepo:
    """Listings, their stored images, the per-guild id counter and the daily quota."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.listings = db["listings"]
        self.images = db["listing_images"]
        self.counters = db["listing_counters"]
        self.quota = db["listing_quota"]
        self.terms = ListingTerms(db)
        self.slots = SlotRepo(db)

    # --- ids, creation, deletion ---------------------------------------------------------------
    async def next_listing_id(self, guild_id: int) -> int:
        """Allocate the next per-guild listing id (a guarded `$inc`; gaps are harmless)."""
        return await next_in_sequence(self.db, self.counters, {"guild_id": guild_id, "name": "listing"})

    async def insert_draft(self, listing: Doc, images: list[Doc], *, cap: int,
                           also: Any = None) -> None:
        """Store a draft listing and its images in one transaction, with one of the seller's
        open-listing places (repos/slot_repo.py).

        Raises OverCap (nothing stored) when the seller holds `cap` open listings, drafts
        included. The place is a unique document both of two racing drafts write, so they
        cannot overshoot on MongoDB either (a count inside the transaction could: write skew).
        `also(session)`: the claim of the item the listing sells, in the same transaction;
        ItemTaken (nothing stored) when it returns False.
        """

        async def work(session: Any) -> None:
            await self.listings.insert_one(listing, session=session)
            if images:
                await self.images.insert_many(images, ordered=True, session=session)
            if also is not None and not await also(session):
                raise ItemTaken

        try:
            await self.slots.claim(listing["guild_id"], SLOT_KIND, listing["seller_id"],
                                   listing["listing_id"], cap, work)
        except (SlotsFull, SlotsBusy):
            raise OverCap from None

    async def open_place(self, guild_id: int, listing_id: int) -> int | None:
        """The open-listing place a listing holds (drafts, pending, active, reserved), or None."""
        return await self.slots.place_of(guild_id, SLOT_KIND, listing_id)

    async def take_open_slot(self, guild_id: int, seller_id: int, listing_id: int, n: int, *,
                             session: Any, moving: bool = False) -> None:
        """Take open-listing place `n` for a listing inside the caller's transaction (a relist,
        or with `moving` a draft giving up a place above a lowered cap); SlotTaken when another
        request took it."""
        if moving:
            await self.slots.release(guild_id, SLOT_KIND, listing_id, session=session)
        await self.slots.take(guild_id, SLOT_KIND, seller_id, n, listing_id, session=session)

    async def delete_draft(self, guild_id: int, listing_id: int, seller_id: int | None) -> bool:
        """Delete a draft (and its images); `seller_id=None` for the sweep. True if deleted."""
        match: Doc = {"guild_id": guild_id, "listing_id": listing_id, "status": "draft"}
        if seller_id is not None:
            match["seller_id"] = seller_id

        async def work(session: Any) -> bool:
            result = await self.listings.delete_one(match, session=session)
            if result.deleted_count != 1:
                return False
            await self.images.delete_many({"guild_id": guild_id, "listing_id": listing_id},
                                          session=session)
            await self.slots.release(guild_id, SLOT_KIND, listing_id, session=session)
            return True

        return await self.db.transaction(work)

    # --- reads ---------------------------------------------------------------------------------
    async def get(self, guild_id: int, listing_id: int) -> Doc | None:
        """One listing, or None."""
        return await find_first(self.listings, {"guild_id": guild_id, "listing_id": listing_id})

    async def search(self, match: Doc, sort: Doc, *, skip: int, limit: int) -> list[Doc]:
        """A page of listings (`match` starts with guild_id and status; `sort` is indexed)."""
        return await find_docs(self.listings, match, sort=sort, skip=skip, limit=limit)

    async def by_postings(self, postings: list[Doc]) -> list[Doc]:
        """The active listings behind `postings`, in their order (primary-key lookups).

        A listing that is no longer active (a posting out of step) is left out rather than shown.
        """
        if not postings:
            return []
        cursor = self.listings.find({"_id": {"$in": [p["lid"] for p in postings]}})
        by_id = {doc["_id"]: doc for doc in await cursor.to_list()}
        out = []
        for posting in postings:
            doc = by_id.get(posting["lid"])
            if doc is not None and doc.get("status") == "active" \
                    and doc.get("guild_id") == posting["guild_id"]:
                out.append(doc)
        return out

    async def count_capped(self, match: Doc, cap: int) -> int:
        """How many listings match, counting at most `cap` (bounded work on big guilds)."""
        cursor = await self.listings.aggregate(
            [{"$match": match}, {"$limit": cap}, {"$count": "n"}])
        docs = await cursor.to_list()
        return docs[0]["n"] if docs else 0

    async def by_seller(self, guild_id: int, seller_id: int, statuses: tuple[str, ...],
                        *, limit: int) -> list[Doc]:
        """A member's listings with one of `statuses`, newest first."""
        return await find_docs(
            self.listings,
            {"guild_id": guild_id, "seller_id": seller_id, "status": {"$in": list(statuses)}},
            sort={"created_ts": DESCENDING, "_id": DESCENDING}, limit=limit)

    async def by_status(self, guild_id: int, status: str, *, limit: int) -> list[Doc]:
        """Listings in one status (e.g. the approval queue), unordered."""
        return await find_docs(self.listings, {"guild_id": guild_id, "status": status},
                               limit=limit)

    async def count_open(self, guild_id: int, seller_id: int) -> int:
        """A member's listings that hold an open-listing place (drafts, pending, active,
        reserved): the friendly early check. The binding one is the place itself
        (`insert_draft`, `take_open_slot`)."""
        return await count(self.listings, {"guild_id": guild_id, "seller_id": seller_id,
                                           "status": {"$in": list(OPEN_STATUSES)}})

    async def sold_prices(self, guild_id: int, category: str, conditions: tuple[str, ...],
                          *, limit: int = 50) -> list[int]:
        """GEMS prices of the latest comparable sales."""
        docs = await find_docs(
            self.listings,
            {"guild_id": guild_id, "status": "sold", "category": category,
             "condition": {"$in": list(conditions)}, "sold_price_gems": {"$gte": 1}},
            sort={"sold_ts": DESCENDING, "_id": DESCENDING}, limit=limit)
        return [int(doc["sold_price_gems"]) for doc in docs]

    async def due(self, status: str, field: str, now_ms: int, *, limit: int,
                  extra: Doc | None = None) -> list[Doc]:
        """Listings in `status` whose `field` (epoch ms) is due, across guilds (sweeps)."""
        match: Doc = {"status": status, field: {"$lte": now_ms}, **(extra or {})}
        return await find_docs(self.listings, match, sort={field: ASCENDING, "_id": ASCENDING},
                               limit=limit)

    async def boosted(self, guild_id: int, now_ms: int, *, limit: int) -> list[Doc]:
        """Active listings whose boost runs at `now_ms`, latest end first (the index range
        (guild_id, status, boosted_until_ms) of migration 0024: as small as the live boosts)."""
        return await find_docs(
            self.listings,
            {"guild_id": guild_id, "status": "active", "boosted_until_ms": {"$gt": now_ms}},
            sort={"boosted_until_ms": DESCENDING, "listing_id": DESCENDING}, limit=limit)

    async def image(self, guild_id: int, image_id: str) -> Doc | None:
        """A stored image (`full`/`thumb` bytes)."""
        return await find_first(self.images, {"guild_id": guild_id, "image_id": image_id})

    # --- guarded writes ------------------------------------------------------------------------
    async def transition(
        self, guild_id: int, listing_id: int, *, from_status: tuple[str, ...], to_status: str,
        at: datetime, set_: Doc | None = None, where: Doc | None = None,
        session: Any = None,
    ) -> Doc | None:
        """Move a listing from one of `from_status` to `to_status`; None when it was not there.

        Runs in `session` when given, else in its own transaction (with the postings sync).
        """
        match: Doc = {"guild_id": guild_id, "listing_id": listing_id,
                      "status": from_status[0] if len(from_status) == 1
                      else {"$in": list(from_status)}, **(where or {})}
        fields = {"status": to_status, "updated_ts": epoch_ms(at), **(set_ or {})}
        return await self._run(lambda s: self._set_and_sync(match, fields, s), session)

    async def update_fields(self, guild_id: int, listing_id: int, *, where: Doc,
                            set_: Doc) -> Doc | None:
        """Set fields on a listing matching `where` (seller, statuses); None when none matched."""
        match = {"guild_id": guild_id, "listing_id": listing_id, **where}
        return await self._run(lambda s: self._set_and_sync(match, set_, s), None)

    async def _run(self, work: Any, session: Any) -> Any:
        return await (work(session) if session is not None else self.db.transaction(work))

    async def _set_and_sync(self, match: Doc, fields: Doc, session: Any) -> Doc | None:
        """`$set` top-level `fields` on the listing matching `match`, then sync its postings.

        Every such write bumps the listing's `version` (counters such as views do not), so a
        quote or an edit built from an earlier read can guard on it. Returns the listing as
        written (the replaced document plus `fields`), or None.
        """
        before = await self.listings.find_one_and_update(
            match, {"$set": fields, "$inc": {"version": 1}},
            return_document=ReturnDocument.BEFORE, session=session)
        if before is None:
            return None
        after = {**before, **fields, "version": int(before.get("version", 0)) + 1}
        await self.terms.sync(before, after, session=session)
        if before.get("status") in OPEN_STATUSES and after.get("status") not in OPEN_STATUSES:
            # Sold, expired, withdrawn, rejected...: the seller's place is free, in this same
            # transaction (every status change of a listing passes here).
            await self.slots.release(before["guild_id"], SLOT_KIND, before["listing_id"],
                                     session=session)
        return after

    async def boost(self, listing: Doc, *, until_ms: int, now_ms: int, session: Any) -> bool:
        """Boost `listing` (as read) until `until_ms`, inside the caller's transaction (the
        shop's, which takes the unit). Guarded by what was read: the same seller, still active
        and not past its expiry, the same version and the same boost end (so two uses at once
        extend it once each, never from a stale end). True when it was written.

        Not a posted field and not a change a buyer's quote depends on: the version stays, so a
        boost never refuses a purchase under way; no postings to sync.
        """
        result = await self.listings.update_one(
            {"_id": listing["_id"], "guild_id": listing["guild_id"],
             "seller_id": listing["seller_id"], "status": "active",
             "version": listing.get("version"), "expires_ts": {"$gt": now_ms},
             "boosted_until_ms": listing.get("boosted_until_ms")},
            {"$set": {"boosted_until_ms": until_ms, "boosted_at_ms": now_ms}}, session=session)
        return result.matched_count == 1  # (modified_count is 0 when the values were equal)

    async def add_views(self, counts: dict[tuple[int, int], int]) -> int:
        """Add counted detail views {(guild, listing): n} to listings and their postings.

        Called by the periodic flush, never per view: the reads come first (index-backed), then
        ONE small transaction holds two bulk writes by primary key (`$inc`, so flushes from
        several processes add up). Returns how many listings were updated.
        """
        listing_ops: list[UpdateOne] = []
        posting_ops: list[UpdateMany] = []
        for (guild_id, listing_id), n in counts.items():
            doc = await self.get(guild_id, listing_id)
            if doc is None or n <= 0:
                continue
            listing_ops.append(UpdateOne({"_id": doc["_id"]},
                                         {"$inc": {"views": n, "popularity": n}}))
            ids = [p["_id"] for p in postings_of(doc)]
            if ids:
                posting_ops.append(UpdateMany({"_id": {"$in": ids}}, {"$inc": {"popularity": n}}))
        if not listing_ops:
            return 0

        async def work(session: Any) -> None:
            await self.listings.bulk_write(listing_ops, ordered=False, session=session)
            if posting_ops:
                await self.terms.col.bulk_write(posting_ops, ordered=False, session=session)

        await self.db.transaction(work)
        return len(listing_ops)

    async def add_wishlist_count(self, guild_id: int, listing_id: int, n: int, *,
                                 session: Any) -> None:
        """Keep the denormalized wishlist counter (inside the wishlist transaction)."""
        await self._bump(guild_id, listing_id, {"wishlist_count": n}, n, session)

    async def _bump(self, guild_id: int, listing_id: int, inc: Doc, popularity: int,
                    session: Any) -> None:
        after = await self.listings.find_one_and_update(
            {"guild_id": guild_id, "listing_id": listing_id},
            {"$inc": {**inc, "popularity": popularity}}, return_document=ReturnDocument.AFTER,
            session=session)
        await self.terms.set_popularity(after, session=session)

    async def take_daily_slot(self, guild_id: int, user_id: int, day: str, cap: int, *,
                              session: Any) -> None:
        """Use one of today's listing slots or raise QuotaFull.

        The upsert's filter holds the cap, so a concurrent publish cannot overshoot: MongoDB
        raises DuplicateKeyError on the unique (guild, user, day) index when the cap is reached;
        nx-27017 returns None instead. Both mean "full".
        """
        try:
            doc = await self.quota.find_one_and_update(
                {"guild_id": guild_id, "user_id": user_id, "day": day, "n": {"$lt": cap}},
                {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER,
                session=session)
        except DuplicateKeyError:
            raise QuotaFull from None
        if doc is None:
            raise QuotaFull

    # --- escrow interface (issue 5): guarded writes inside the caller's transaction ----------
    async def reserve(self, guild_id: int, listing_id: int, buyer_id: int, trade_id: Any,
                      at: datetime, *, session: Any, price_gems: int | None = None,
                      version: int | None = None) -> bool:
        """active -> reserved for `buyer_id` (the seller cannot reserve their own listing).

        `price_gems` and `version` are what the buyer was quoted: the reservation only applies
        while the listing still has that price (and that version).
        """
        match: Doc = {"guild_id": guild_id, "listing_id": listing_id, "status": "active",
                      "seller_id": {"$ne": buyer_id}}
        if price_gems is not None:
            match["price_gems"] = price_gems
        if version is not None:
            match["version"] = version
        return await self._set_and_sync(
            match,
            {"status": "reserved", "buyer_id": buyer_id, "trade_id": trade_id,
             "updated_ts": epoch_ms(at)},
            session) is not None

    async def mark_sold(self, guild_id: int, listing_id: int, buyer_id: int, price_gems: int,
                        at: datetime, *, trade_id: int, session: Any) -> bool:
        """reserved (for `trade_id`) -> sold; the sale price feeds the price hint."""
        return await self._set_and_sync(
            {"guild_id": guild_id, "listing_id": listing_id, "status": "reserved",
             "trade_id": trade_id},
            {"status": "sold", "buyer_id": buyer_id, "sold_price_gems": price_gems,
             "sold_ts": epoch_ms(at), "updated_ts": epoch_ms(at)},
            session) is not None

    async def unreserve(self, guild_id: int, listing_id: int, at: datetime, *, trade_id: int,
                        session: Any) -> bool:
        """reserved (for `trade_id`) -> active (trade cancelled); the buyer is cleared."""
        return await self._set_and_sync(
            {"guild_id": guild_id, "listing_id": listing_id, "status": "reserved",
             "trade_id": trade_id},
            {"status": "active", "buyer_id": None, "trade_id": None,
             "updated_ts": epoch_ms(at)},
            session) is not None

    # --- insights (economy/insights) ---------------------------------------------------------
    async def created_between(self, guild_id: int, start_ms: int, end_ms: int) -> list[Doc]:
        """Listings created in [start_ms, end_ms) (any status)."""
        return await find_docs(self.listings, {"guild_id": guild_id,
                                               "created_ts": {"$gte": start_ms, "$lt": end_ms}})

    async def sold_between(self, guild_id: int, start_ms: int, end_ms: int) -> list[Doc]:
        """Listings sold in [start_ms, end_ms)."""
        return await find_docs(self.listings, {"guild_id": guild_id,
                                               "sold_ts": {"$gte": start_ms, "$lt": end_ms}})
