"""Every query on community events: `community_events`, `event_rsvps`, `event_attendance`,
`event_role_grants`.

RSVPs, check-ins and role grants are one document each with a deterministic `_id`
("<guild>:<event>:<user>"), so a double press or a race inserts once (duplicate key) without
arrays on the event. Event times are epoch-ms integers (compared in pipelines; one type on both
stores). Event writes are guarded by the exact status and a `version` integer.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from economy.repos.base import (
    Database,
    Doc,
    count,
    find_docs,
    find_first,
    next_in_sequence,
    recorded_once,
)


def _key(guild_id: int, event_id: int, user_id: int | None = None) -> str:
    return f"{guild_id}:{event_id}" if user_id is None else f"{guild_id}:{event_id}:{user_id}"


class EventRepo:
    """Community events and everything members do with them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.events = db["community_events"]
        self.rsvps = db["event_rsvps"]
        self.attendance = db["event_attendance"]
        self.grants = db["event_role_grants"]
        self._counters = db["counters"]

    # --- reads -------------------------------------------------------------------------------
    async def get(self, guild_id: int, event_id: int) -> Doc | None:
        """One event."""
        return await find_first(self.events, {"_id": _key(guild_id, event_id)})

    async def by_discord_id(self, guild_id: int, discord_event_id: int) -> Doc | None:
        """The event mirrored by a Discord scheduled event."""
        return await find_first(self.events, {"guild_id": guild_id,
                                              "discord_event_id": discord_event_id})

    async def list(self, guild_id: int, statuses: list[str], *, newest_first: bool,
                   limit: int = 25) -> list[Doc]:
        """Events of a guild in some statuses, by start time."""
        docs: list[Doc] = []
        order = DESCENDING if newest_first else ASCENDING
        for status in statuses:
            docs += await find_docs(self.events, {"guild_id": guild_id, "status": status},
                                    sort={"starts_ms": order, "_id": order},
                                    limit=limit)
        docs.sort(key=lambda d: d["starts_ms"], reverse=newest_first)
        return docs[:limit]

    async def guild_ids(self) -> list[int]:
        """Guilds that have events (the sweep walks them)."""
        return sorted(await self.events.distinct("guild_id"))

    async def open_events(self, guild_id: int) -> list[Doc]:
        """Scheduled and live events, and completed ones whose payout is unfinished."""
        docs = []
        for status in ("scheduled", "live"):
            docs += await find_docs(self.events, {"guild_id": guild_id, "status": status})
        docs += await find_docs(self.events, {"guild_id": guild_id, "status": "completed",
                                              "payout_done": False})
        return docs

    async def rsvp_users(self, guild_id: int, event_id: int) -> list[int]:
        """Members who RSVP'd."""
        docs = await find_docs(self.rsvps, {"guild_id": guild_id, "event_id": event_id},
                               sort={"at_ms": ASCENDING})
        return [int(d["user_id"]) for d in docs]

    async def attendees(self, guild_id: int, event_id: int) -> list[int]:
        """Members who checked in, in check-in order."""
        docs = await find_docs(self.attendance, {"guild_id": guild_id, "event_id": event_id},
                               sort={"at_ms": ASCENDING})
        return [int(d["user_id"]) for d in docs]

    async def rsvp(self, guild_id: int, event_id: int, user_id: int) -> Doc | None:
        """The member's RSVP (their place), if any."""
        return await find_first(self.rsvps, {"_id": _key(guild_id, event_id, user_id)})

    async def due_grants(self, guild_id: int, now_ms: int) -> list[Doc]:
        """Reward roles whose time is up."""
        return await find_docs(self.grants, {"guild_id": guild_id, "state": "granted",
                                             "expires_ms": {"$lte": now_ms}}, limit=200)

    async def grant_guild_ids(self) -> list[int]:
        """Guilds with reward-role grants."""
        return sorted(await self.grants.distinct("guild_id"))

    # --- writes ------------------------------------------------------------------------------
    async def next_id(self, guild_id: int) -> int:
        """Allocate the next per-guild event number."""
        return await next_in_sequence(self.db, self._counters, {"_id": f"{guild_id}:events"})

    async def insert(self, doc: Doc) -> None:
        """Store a new event."""
        doc = {**doc, "_id": _key(doc["guild_id"], doc["event_id"])}
        await self.db.write(lambda: self.events.insert_one(doc))

    async def insert_if_absent(self, doc: Doc) -> bool:
        """Store an event by its id; False when it exists (a repeat expanded elsewhere)."""
        doc = {**doc, "_id": _key(doc["guild_id"], doc["event_id"])}
        try:
            await self.db.write(lambda: self.events.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def pending_series(self, guild_id: int) -> list[Doc]:
        """Repeating events whose next occurrence is not expanded yet."""
        return await find_docs(self.events, {"guild_id": guild_id, "next_pending": True})

    async def series_guild_ids(self) -> list[int]:
        """Guilds with repeating events waiting to expand."""
        return sorted(await self.events.distinct("guild_id", {"next_pending": True}))

    async def update(self, guild_id: int, event_id: int, *, guard: Doc, fields: Doc,
                     session: Any = None) -> bool:
        """Guarded `$set` (plus a version bump); True when this call changed the event."""
        flt = {"_id": _key(guild_id, event_id), **guard}

        async def run(s: Any = session) -> bool:
            result = await self.events.update_one(flt, {"$set": fields, "$inc": {"version": 1}},
                                                  session=s)
            return result.modified_count == 1

        if session is not None:
            return await run()
        return await self.db.write(run)

    async def claim_flag(self, guild_id: int, event_id: int, flag: str) -> bool:
        """Set a run-once flag on the event (reminders, announcements); True for the winner."""
        return await self.update(guild_id, event_id, guard={flag: False}, fields={flag: True})

    async def join(self, guild_id: int, event_id: int, user_id: int, *, via: str, at_ms: int,
                   capacity: int | None) -> str:
        """RSVP in one transaction: insert the RSVP and bump the count under the capacity guard.

        Returns "joined", "already" (an RSVP exists) or "refused" (full, or no longer open).
        """
        # The capacity the caller checked is part of the guard: an edit that lowered it in the
        # meantime makes this miss (the caller re-reads), instead of counting against a stale one.
        guard: Doc = {"_id": _key(guild_id, event_id), "status": {"$in": ["scheduled", "live"]},
                      "capacity": capacity}
        if capacity is not None:
            guard["rsvp_count"] = {"$lt": capacity}

        async def work(session: Any) -> str:
            await self.rsvps.insert_one(
                {"_id": _key(guild_id, event_id, user_id), "guild_id": guild_id,
                 "event_id": event_id, "user_id": user_id, "via": via, "at_ms": at_ms,
                 "checked_in": False},
                session=session)
            result = await self.events.update_one(guard, {"$inc": {"rsvp_count": 1}},
                                                  session=session)
            if result.modified_count != 1:
                raise _Refused
            return "joined"

        try:
            return await self.db.transaction(work)
        except DuplicateKeyError:
            return "already"
        except _Refused:
            return "refused"

    async def leave(self, guild_id: int, event_id: int, user_id: int) -> bool:
        """Drop an RSVP and its count in one transaction; False when there was none, or when
        the member checked in (a place that was used is kept: it can't go to someone else)."""

        async def work(session: Any) -> bool:
            result = await self.rsvps.delete_one({"_id": _key(guild_id, event_id, user_id),
                                                  "checked_in": False}, session=session)
            if result.deleted_count != 1:
                return False
            await self.events.update_one({"_id": _key(guild_id, event_id)},
                                         {"$inc": {"rsvp_count": -1}}, session=session)
            return True

        return await self.db.transaction(work)

    async def insert_attendance(self, guild_id: int, event_id: int, user_id: int, *, at_ms: int,
                                session: Any = None) -> None:
        """Record a check-in of a member holding a place (their RSVP), in the caller's
        transaction or one of its own. AlreadyRecorded when the member already checked in;
        NoPlace when they hold no place (the RSVP is gone: they left meanwhile)."""
        key = _key(guild_id, event_id, user_id)
        doc = {"_id": key, "guild_id": guild_id, "event_id": event_id, "user_id": user_id,
               "at_ms": at_ms}

        async def work(s: Any) -> None:
            await self.attendance.insert_one(doc, session=s)
            # The place is marked used in the same transaction: a concurrent leave either
            # deleted it first (this misses: no check-in) or misses itself (the place is kept).
            result = await self.rsvps.update_one({"_id": key, "checked_in": False},
                                                 {"$set": {"checked_in": True}}, session=s)
            if result.matched_count != 1:
                raise NoPlace(key)

        with recorded_once():
            if session is not None:
                await work(session)
            else:
                await self.db.transaction(work)

    async def insert_grant(self, guild_id: int, event_id: int, user_id: int, *, role_id: int,
                           expires_ms: int) -> bool:
        """Record a temporary reward role; False when it was recorded before."""
        doc = {"_id": _key(guild_id, event_id, user_id), "guild_id": guild_id,
               "event_id": event_id, "user_id": user_id, "role_id": role_id,
               "expires_ms": expires_ms, "state": "granted"}
        try:
            await self.db.write(lambda: self.grants.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def claim_grant_removal(self, grant_id: str) -> bool:
        """Mark a due grant removed; True for the one process that should remove the role."""
        result = await self.db.write(lambda: self.grants.update_one(
            {"_id": grant_id, "state": "granted"}, {"$set": {"state": "removed"}}))
        return result.modified_count == 1
    # --- insights (economy/insights) ---------------------------------------------------------
    async def attended_between(self, guild_id: int, start_ms: int, end_ms: int) -> int:
        """Check-ins recorded in [start_ms, end_ms)."""
        return await count(self.attendance, {"guild_id": guild_id,
                                             "at_ms": {"$gte": start_ms, "$lt": end_ms}})


class NoPlace(Exception):
    """A check-in by a member who holds no place (no RSVP): aborts its transaction."""


async def rsvp_count_mismatches(db: Database, guild_id: int) -> list[str]:
    """Open events whose `rsvp_count` (the guarded counter that holds the capacity) differs
    from their RSVPs (the audit); empty when every count is exact."""
    problems = []
    open_events = {"guild_id": guild_id, "status": {"$in": ["scheduled", "live"]}}
    for event in await find_docs(db["community_events"], open_events):
        rsvps = await count(db["event_rsvps"], {"guild_id": guild_id,
                                                "event_id": event["event_id"]})
        if int(event.get("rsvp_count", 0)) != rsvps:
            problems.append(f"guild {guild_id}: event {event['event_id']} counts "
                            f"{event.get('rsvp_count', 0)} RSVPs but has {rsvps}")
    return problems


class _Refused(Exception):
    """Aborts the RSVP transaction when the guarded count update matched nothing."""
