"""Queries for escrow trades, trade ratings, per-guild counters and the moderation audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from economy.repos.base import (
    Database,
    Doc,
    count,
    find_docs,
    find_first,
    next_in_sequence,
    recorded_once,
)
from economy.repos.paging import guild_ids as paging_guild_ids
from economy.repos.paging import guild_pages
from economy.repos.slot_repo import SlotRepo

#: The `cap_slots` kind of an open offer (repos/slot_repo.py): owner buyer_id, ref trade_id.
OFFER_SLOT = "offer"

#: A sweep handles at most this many due trades of one kind per guild (the next sweep the rest).
DUE_MAX = 200
DUE_PAGE = 500


def _dotted(doc: Doc, path: list[str]) -> Any:
    for name in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(name)
    return doc


class TradeRepo:
    """`trades`, `trade_events`, `trade_ratings`, `counters` and `audit_log`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.trades = db["trades"]
        self.events = db["trade_events"]
        self.ratings = db["trade_ratings"]
        self.counters = db["counters"]
        self.audit = db["audit_log"]
        self.slots = SlotRepo(db)

    async def next_trade_id(self, guild_id: int) -> int:
        """Allocate the next per-guild trade number (gaps are possible, reuse is not)."""
        return await next_in_sequence(self.db, self.counters, {"_id": f"{guild_id}:trades"})

    # --- writes inside a transaction --------------------------------------------------------
    async def insert(self, trade: Doc, event: Doc, *, session: Any) -> None:
        """Store a new trade (unique per guild and trade id) and its first timeline event."""
        await self.trades.insert_one(trade, session=session)
        await self.events.insert_one(self._event_doc(trade["guild_id"], trade["trade_id"], event),
                                     session=session)

    async def transition(
        self, guild_id: int, trade_id: int, *, from_status: tuple[str, ...], to_status: str,
        fields: Doc, event: Doc, version: int, session: Any = None,
        extra_guard: Doc | None = None,
    ) -> bool:
        """Move a trade from one of `from_status` to `to_status` and log the event; True if applied.

        `version` is the version the caller read: `fields` were built from that read (the whole
        `times` subdocument), so the write only applies while nobody else wrote in between, and
        it bumps the version. With a session it runs inside the caller's transaction; without,
        in its own.
        """
        if session is None:
            return await self.db.transaction(lambda s: self.transition(
                guild_id, trade_id, from_status=from_status, to_status=to_status, fields=fields,
                event=event, version=version, session=s, extra_guard=extra_guard))
        guard: Doc = {"guild_id": guild_id, "trade_id": trade_id,
                      "status": {"$in": list(from_status)}, "version": version}
        guard.update(extra_guard or {})
        result = await self.trades.update_one(
            guard, {"$set": {**fields, "status": to_status}, "$inc": {"version": 1}},
            session=session,
        )
        if result.modified_count != 1:
            return False
        if "offered" in from_status and to_status != "offered":
            # Accepted, declined, expired...: the buyer's open-offer place is free, in this same
            # transaction (a no-op when the trade was in another of `from_status`).
            await self.slots.release(guild_id, OFFER_SLOT, trade_id, session=session)
        await self.events.insert_one(self._event_doc(guild_id, trade_id, event), session=session)
        return True

    @staticmethod
    def _event_doc(guild_id: int, trade_id: int, event: Doc) -> Doc:
        # Timeline events are their own documents: an array of subdocuments grown with `$push`
        # comes back as JSON strings from the embedded store (nx-27017 0.8.1).
        return {"guild_id": guild_id, "trade_id": trade_id, **event}

    async def timeline(self, guild_id: int, trade_id: int) -> list[Doc]:
        """A trade's events, oldest first."""
        return await find_docs(self.events, {"guild_id": guild_id, "trade_id": trade_id},
                               sort={"at": ASCENDING, "_id": ASCENDING})

    async def update_fields(self, guild_id: int, trade_id: int, *, guard: Doc, fields: Doc) -> bool:
        """Set fields on a trade when `guard` matches (a serialized write); True if applied.

        Bumps the version, so a concurrent read-modify-write of the trade retries.
        """
        result = await self.db.write(lambda: self.trades.update_one(
            {"guild_id": guild_id, "trade_id": trade_id, **guard},
            {"$set": fields, "$inc": {"version": 1}}))
        return result.modified_count == 1

    # --- reads ------------------------------------------------------------------------------
    async def get(self, guild_id: int, trade_id: int) -> Doc | None:
        """One trade."""
        return await find_first(self.trades, {"guild_id": guild_id, "trade_id": trade_id})

    async def for_member(self, guild_id: int, user_id: int, statuses: list[str] | None,
                         *, limit: int = 25) -> list[Doc]:
        """A member's trades (as buyer or seller), newest first."""
        found: list[Doc] = []
        for role in ("buyer_id", "seller_id"):
            match: Doc = {"guild_id": guild_id, role: user_id}
            if statuses:
                match["status"] = {"$in": statuses}
            found += await find_docs(self.trades, match, sort={"trade_id": DESCENDING}, limit=limit)
        unique = {doc["trade_id"]: doc for doc in found}
        return sorted(unique.values(), key=lambda d: -d["trade_id"])[:limit]

    async def by_status(self, guild_id: int, statuses: list[str], *, limit: int = 25) -> list[Doc]:
        """Trades in the given statuses, newest first."""
        return await find_docs(
            self.trades, {"guild_id": guild_id, "status": {"$in": statuses}},
            sort={"trade_id": DESCENDING}, limit=limit,
        )

    async def all_for_guild(self, guild_id: int) -> list[Doc]:
        """Every trade of a guild, oldest first (CSV export)."""
        return await find_docs(self.trades, {"guild_id": guild_id}, sort={"trade_id": ASCENDING})

    async def guild_ids(self) -> list[int]:
        """Guilds that have trades (the sweeper walks them one by one): one index probe per
        guild, not a `distinct` (a whole-collection scan on the embedded store)."""
        return [guild_id async for guild_id in paging_guild_ids(self.trades)]

    async def due(self, guild_id: int, status: str, field: str, now: datetime,
                  extra: Doc | None = None) -> list[Doc]:
        """Trades in `status` (and matching `extra`) whose `field` date is due, earliest first,
        at most DUE_MAX.

        The guild's trades in `status` are walked in index-backed pages (economy/repos/paging.py)
        and their dates compared here. Not a date range in the query: inside pipelines those are
        wrong on the embedded store (see repos/base.py), and a `find` with a range scans and sorts
        the whole collection there, every trade the guild ever made, on every sweep. The swept
        statuses hold only open trades, so this walk is bounded by the open trades, not the history.
        """
        path = field.split(".")
        due: list[tuple[datetime, int, Doc]] = []
        async for page in guild_pages(self.trades, guild_id, "trade_id", batch=DUE_PAGE,
                                      where={"status": status, **(extra or {})}):
            for doc in page:
                when = _dotted(doc, path)
                if isinstance(when, datetime) and when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)  # a client without tz_aware: stored as UTC
                if isinstance(when, datetime) and when <= now:
                    due.append((when, doc["trade_id"], doc))
        due.sort(key=lambda item: item[:2])
        return [doc for _, _, doc in due[:DUE_MAX]]

    async def open_offers_to(self, guild_id: int, buyer_id: int) -> int:
        """Offers waiting for `buyer_id`'s answer (their open-offer places)."""
        return len(await self.slots.taken(guild_id, OFFER_SLOT, buyer_id))

    async def completed_count(self, guild_id: int, user_id: int) -> int:
        """Completed trades a member took part in."""
        total = 0
        for role in ("buyer_id", "seller_id"):
            total += await count(self.trades, {"guild_id": guild_id, role: user_id,
                                               "status": "completed"})
        return total

    async def recent_pair_trades(self, guild_id: int, buyer_id: int, seller_id: int,
                                 since: datetime) -> int:
        """Completed trades between this pair (either direction) since `since` (wash trading)."""
        total = 0
        for b, s in ((buyer_id, seller_id), (seller_id, buyer_id)):
            docs = await find_docs(self.trades, {"guild_id": guild_id, "buyer_id": b,
                                                 "seller_id": s, "status": "completed"})
            total += sum(1 for d in docs if d["times"]["completed_at"] >= since)
        return total

    # --- ratings ----------------------------------------------------------------------------
    async def add_rating(self, rating: Doc) -> None:
        """Store a rating (unique per trade and rater: AlreadyRecorded on a second one)."""
        with recorded_once():
            await self.db.write(lambda: self.ratings.insert_one(rating))

    async def rating_summary(self, guild_id: int, user_id: int) -> tuple[int, int]:
        """(number of ratings, sum of stars) a member received."""
        cursor = await self.ratings.aggregate([
            {"$match": {"guild_id": guild_id, "ratee_id": user_id}},
            {"$group": {"_id": None, "n": {"$sum": 1}, "stars": {"$sum": "$stars"}}},
        ])
        docs = await cursor.to_list()
        return (docs[0]["n"], docs[0]["stars"]) if docs else (0, 0)

    async def reviews_for(self, guild_id: int, user_id: int, *, limit: int) -> list[Doc]:
        """Latest ratings a member received."""
        return await find_docs(self.ratings, {"guild_id": guild_id, "ratee_id": user_id},
                               sort={"at": DESCENDING, "_id": DESCENDING}, limit=limit)

    # --- audit log --------------------------------------------------------------------------
    async def log(self, entry: Doc, *, session: Any = None) -> None:
        """Append a moderation/admin action to the audit log (in `session`'s transaction if given)."""
        if session is not None:
            await self.audit.insert_one(dict(entry), session=session)
            return
        await self.db.write(lambda: self.audit.insert_one(dict(entry)))

    async def audit_entries(self, guild_id: int, *, limit: int = 50) -> list[Doc]:
        """Latest audit-log entries."""
        return await find_docs(self.audit, {"guild_id": guild_id},
                               sort={"at": DESCENDING, "_id": DESCENDING}, limit=limit)

    # --- insights (economy/insights) ---------------------------------------------------------
    # Datetime ranges are filtered with `find`: inside nx-27017 pipelines they are wrong.
    async def disputes_opened_between(self, guild_id: int, start: datetime,
                                      end: datetime) -> list[Doc]:
        """Trades whose dispute was opened in [start, end)."""
        return await self.trades.find({"guild_id": guild_id,
                                       "dispute.opened_at": {"$gte": start, "$lt": end}}).to_list()

    async def created_between(self, guild_id: int, start: datetime, end: datetime) -> list[Doc]:
        """Trades created in [start, end) (the seller dispute rate reads 30 days of them)."""
        return await self.trades.find({"guild_id": guild_id,
                                       "created_at": {"$gte": start, "$lt": end}}).to_list()
