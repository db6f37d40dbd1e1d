"""Queries for mentorship: `mentors`, `mentees`, `mentorships`, `mentor_goals`, `mentor_ratings`.

Dates that change are epoch-ms integers (range filters are correct on both stores). Every
read-modify-write is guarded in its write filter: a status, a proposal id or the mentor's load.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
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


class SlotTaken(Exception):
    """Raised inside a transaction when the mentor has no free slot any more."""


class StateChanged(Exception):
    """Raised inside a transaction when a guarded document moved on meanwhile."""


class MentorshipRepo:
    """Every mentorship query."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.mentors = db["mentors"]
        self.mentees = db["mentees"]
        self.pairs = db["mentorships"]
        self.goals = db["mentor_goals"]
        self.ratings = db["mentor_ratings"]
        self.counters = db["counters"]
        self.verified = db["skill_verifications"]

    async def next_id(self, key: str) -> int:
        """Allocate the next number of a per-guild sequence (`{guild}:mentorships`, ...)."""
        return await next_in_sequence(self.db, self.counters, {"_id": key})

    # --- mentors ------------------------------------------------------------------------------
    async def mentor(self, guild_id: int, user_id: int) -> Doc | None:
        """One mentor profile."""
        return await find_first(self.mentors, {"guild_id": guild_id, "user_id": user_id})

    async def mentors_in(self, guild_id: int, status: str) -> list[Doc]:
        """Mentor profiles with a status."""
        return await find_docs(self.mentors, {"guild_id": guild_id, "status": status})

    async def insert_mentor(self, doc: Doc) -> None:
        """Store a new mentor (AlreadyRecorded when the member registered before)."""
        with recorded_once():
            await self.db.write(lambda: self.mentors.insert_one(doc))

    async def replace_left_mentor(self, doc: Doc, *, status: str, version: int) -> bool:
        """Replace the profile of a mentor who left or was not approved (guarded by the status
        and version read before)."""
        with recorded_once():
            result = await self.db.write(lambda: self.mentors.replace_one(
                {"guild_id": doc["guild_id"], "user_id": doc["user_id"], "status": status,
                 "version": version}, doc))
        return result.modified_count == 1

    async def set_mentor_status(self, guild_id: int, user_id: int, *, from_status: tuple[str, ...],
                                to_status: str, extra: Doc | None = None) -> bool:
        """Guarded status change of a mentor profile; True if applied."""
        result = await self.db.write(lambda: self.mentors.update_one(
            {"guild_id": guild_id, "user_id": user_id, "status": {"$in": list(from_status)}},
            {"$set": {"status": to_status, **(extra or {})}, "$inc": {"version": 1}}))
        return result.modified_count == 1

    # --- mentees ------------------------------------------------------------------------------
    async def mentee(self, guild_id: int, user_id: int) -> Doc | None:
        """One mentee application."""
        return await find_first(self.mentees, {"guild_id": guild_id, "user_id": user_id})

    async def mentees_in(self, guild_id: int, status: str) -> list[Doc]:
        """Applications with a status, oldest first."""
        return await find_docs(self.mentees, {"guild_id": guild_id, "status": status},
                               sort={"created_ms": ASCENDING})

    async def save_application(self, doc: Doc, *, previous_version: int | None) -> bool:
        """Insert a first application or replace a closed one (guarded by its version);
        AlreadyRecorded when another application was stored meanwhile."""
        with recorded_once():
            if previous_version is None:
                await self.db.write(lambda: self.mentees.insert_one(doc))
                return True
            result = await self.db.write(lambda: self.mentees.replace_one(
                {"guild_id": doc["guild_id"], "user_id": doc["user_id"], "status": "closed",
                 "version": previous_version}, doc))
        return result.modified_count == 1

    async def withdraw_application(self, guild_id: int, user_id: int, *, proposal_id: int,
                                   now_ms: int) -> bool:
        """open -> closed (and its pending proposal withdrawn), in one transaction."""
        async def work(session: Any) -> bool:
            result = await self.mentees.update_one(
                {"guild_id": guild_id, "user_id": user_id, "status": "open",
                 "proposal_id": proposal_id},
                {"$set": {"status": "closed", "proposal_id": 0}, "$inc": {"version": 1}},
                session=session)
            if result.modified_count != 1:
                raise StateChanged
            if proposal_id:
                await self.pairs.update_one(
                    {"guild_id": guild_id, "mentorship_id": proposal_id, "status": "proposed"},
                    {"$set": {"status": "withdrawn", "decided_ms": now_ms},
                     "$inc": {"version": 1}}, session=session)
            return True

        try:
            return await self.db.transaction(work)
        except StateChanged:
            return False

    # --- proposals and pairs ------------------------------------------------------------------
    async def pair(self, guild_id: int, mentorship_id: int) -> Doc | None:
        """One proposal or mentorship."""
        return await find_first(self.pairs, {"guild_id": guild_id, "mentorship_id": mentorship_id})

    async def pair_by_thread(self, guild_id: int, thread_id: int) -> Doc | None:
        """The mentorship whose private thread this is."""
        return await find_first(self.pairs, {"guild_id": guild_id, "thread_id": thread_id})

    async def pairs_in(self, guild_id: int, status: str) -> list[Doc]:
        """Proposals or mentorships with a status."""
        return await find_docs(self.pairs, {"guild_id": guild_id, "status": status})

    async def pairs_of(self, guild_id: int, user_id: int, *, role: str) -> list[Doc]:
        """Every proposal/mentorship where the member is the mentee or the mentor, newest first."""
        return await find_docs(self.pairs, {"guild_id": guild_id, f"{role}_id": user_id},
                               sort={"mentorship_id": DESCENDING})

    async def due_pairs(self, guild_id: int, status: str, field: str, now_ms: int) -> list[Doc]:
        """Pairs in `status` whose epoch-ms `field` is due (at most 200 per sweep)."""
        return await find_docs(self.pairs, {"guild_id": guild_id, "status": status,
                                            field: {"$lte": now_ms}}, limit=200)

    async def guild_ids(self) -> list[int]:
        """Guilds with mentors, applications or mentorships (the sweep walks them)."""
        found: set[int] = set()
        for collection in (self.pairs, self.mentors, self.mentees):
            found.update(await collection.distinct("guild_id"))
        return sorted(found)

    async def insert_proposal(self, doc: Doc) -> bool:
        """Store a proposal and mark it as the mentee's pending one, in one transaction.

        Guarded: the application must be open with no pending proposal, so concurrent proposers
        (two processes sweeping, a decline racing a timeout) create at most one.
        """
        async def work(session: Any) -> bool:
            result = await self.mentees.update_one(
                {"guild_id": doc["guild_id"], "user_id": doc["mentee_id"], "status": "open",
                 "proposal_id": 0},
                {"$set": {"proposal_id": doc["mentorship_id"]}}, session=session)
            if result.modified_count != 1:
                raise StateChanged
            await self.pairs.insert_one(doc, session=session)
            return True

        try:
            return await self.db.transaction(work)
        except StateChanged:
            return False

    async def mark_side(self, guild_id: int, mentorship_id: int, side: str, now_ms: int) -> bool:
        """Record one side's acceptance of a pending, unexpired proposal; True if applied."""
        result = await self.db.write(lambda: self.pairs.update_one(
            {"guild_id": guild_id, "mentorship_id": mentorship_id, "status": "proposed",
             f"{side}_ok": False, "expires_ms": {"$gt": now_ms}},
            {"$set": {f"{side}_ok": True}, "$inc": {"version": 1}}))
        return result.modified_count == 1

    async def activate(self, pair: Doc, *, capacity: int, now_ms: int, checkin_ms: int) -> None:
        """Take one of the mentor's slots and start the mentorship, in one transaction.

        The mentor's `load` only grows while below the capacity read before (write filter), so
        two mentees accepting the last slot at once cannot both get it. Raises SlotTaken or
        StateChanged (nothing written).
        """
        g, mid = pair["guild_id"], pair["mentorship_id"]

        async def work(session: Any) -> None:
            taken = await self.mentors.update_one(
                {"guild_id": g, "user_id": pair["mentor_id"], "status": "active",
                 "capacity": capacity, "load": {"$lt": capacity}},
                {"$inc": {"load": 1, "version": 1}}, session=session)
            if taken.modified_count != 1:
                raise SlotTaken
            started = await self.pairs.update_one(
                {"guild_id": g, "mentorship_id": mid, "status": "proposed", "mentee_ok": True,
                 "mentor_ok": True},
                {"$set": {"status": "active", "started_ms": now_ms, "last_activity_ms": now_ms,
                          "checkin_ms": checkin_ms}, "$inc": {"version": 1}}, session=session)
            matched = await self.mentees.update_one(
                {"guild_id": g, "user_id": pair["mentee_id"], "status": "open", "proposal_id": mid},
                {"$set": {"status": "matched", "proposal_id": 0, "mentorship_id": mid}},
                session=session)
            if started.modified_count != 1 or matched.modified_count != 1:
                raise StateChanged

        await self.db.transaction(work)

    async def close_proposal(self, guild_id: int, mentorship_id: int, mentee_id: int, *,
                             to_status: str, fields: Doc) -> bool:
        """End a pending proposal (declined, expired, lapsed) and free the mentee; True if applied."""
        async def work(session: Any) -> bool:
            result = await self.pairs.update_one(
                {"guild_id": guild_id, "mentorship_id": mentorship_id, "status": "proposed"},
                {"$set": {"status": to_status, **fields}, "$inc": {"version": 1}}, session=session)
            if result.modified_count != 1:
                raise StateChanged
            await self.mentees.update_one(
                {"guild_id": guild_id, "user_id": mentee_id, "proposal_id": mentorship_id},
                {"$set": {"proposal_id": 0}}, session=session)
            return True

        try:
            return await self.db.transaction(work)
        except StateChanged:
            return False

    async def end(self, pair: Doc, *, fields: Doc, completed: bool) -> int | None:
        """End an active mentorship: free the mentor's slot, close the application.

        Returns the mentor's completed count after this end (None when the mentorship was not
        active any more), so the level a mentor reaches is seen by exactly one ending.
        """
        g = pair["guild_id"]

        async def work(session: Any) -> int:
            result = await self.pairs.update_one(
                {"guild_id": g, "mentorship_id": pair["mentorship_id"], "status": "active"},
                {"$set": {"status": "ended", **fields}, "$inc": {"version": 1}}, session=session)
            if result.modified_count != 1:
                raise StateChanged
            mentor = await self.mentors.find_one_and_update(
                {"guild_id": g, "user_id": pair["mentor_id"], "load": {"$gt": 0}},
                {"$inc": {"load": -1, "completed": 1 if completed else 0, "version": 1}},
                return_document=ReturnDocument.AFTER, session=session)
            await self.mentees.update_one(
                {"guild_id": g, "user_id": pair["mentee_id"], "status": "matched",
                 "mentorship_id": pair["mentorship_id"]},
                {"$set": {"status": "closed"}, "$inc": {"version": 1}}, session=session)
            return int((mentor or {}).get("completed", 0))

        try:
            return await self.db.transaction(work)
        except StateChanged:
            return None

    async def set_pair_fields(self, guild_id: int, mentorship_id: int, *, guard: Doc,
                              fields: Doc) -> bool:
        """Set fields on a pair when `guard` matches; True if applied."""
        result = await self.db.write(lambda: self.pairs.update_one(
            {"guild_id": guild_id, "mentorship_id": mentorship_id, **guard}, {"$set": fields}))
        return result.modified_count == 1

    # --- goals --------------------------------------------------------------------------------
    async def add_goal(self, doc: Doc, *, cap: int) -> int | None:
        """Store a goal under the next number, at most `cap` per mentorship; returns its number
        (None when the mentorship has `cap` goals; nothing stored).

        The number is the goal's place: goals are never deleted, so the next one is the highest
        plus one, and the unique (guild, mentorship, number) index makes two goals added at once
        race for it (one retries with the next). A count before the insert could let both in on
        MongoDB (write skew).
        """
        g, mid = doc["guild_id"], doc["mentorship_id"]
        for _ in range(cap + 1):
            last = await find_docs(self.goals, {"guild_id": g, "mentorship_id": mid},
                                   sort={"goal_no": DESCENDING}, limit=1)
            goal_no = (int(last[0]["goal_no"]) + 1) if last else 1
            if goal_no > cap:
                return None
            try:
                await self.db.write(lambda n=goal_no: self.goals.insert_one({**doc, "goal_no": n}))
            except DuplicateKeyError:
                continue  # the other side added one at the same moment
            return goal_no
        return None

    async def goals_of(self, guild_id: int, mentorship_id: int) -> list[Doc]:
        """A mentorship's goals in order."""
        return await find_docs(self.goals, {"guild_id": guild_id, "mentorship_id": mentorship_id},
                               sort={"goal_no": ASCENDING})

    async def goal(self, guild_id: int, mentorship_id: int, goal_no: int) -> Doc | None:
        """One goal."""
        return await find_first(self.goals, {"guild_id": guild_id, "mentorship_id": mentorship_id,
                                             "goal_no": goal_no})

    async def complete_goal(self, guild_id: int, mentorship_id: int, goal_no: int, *,
                            by: int, now_ms: int, session: Any = None) -> bool:
        """open -> done (inside the caller's transaction when given a session); True if applied."""
        update = {"$set": {"status": "done", "done_by": by, "done_ms": now_ms}}
        guard = {"guild_id": guild_id, "mentorship_id": mentorship_id, "goal_no": goal_no,
                 "status": "open"}
        if session is not None:
            result = await self.goals.update_one(guard, update, session=session)
        else:
            result = await self.db.write(lambda: self.goals.update_one(guard, update))
        return result.modified_count == 1

    # --- ratings ------------------------------------------------------------------------------
    async def add_rating(self, doc: Doc) -> None:
        """Store a rating (AlreadyRecorded on a second one by the same rater)."""
        with recorded_once():
            await self.db.write(lambda: self.ratings.insert_one(doc))

    async def ratings_between(self, guild_id: int, role: str, start_ms: int, end_ms: int
                              ) -> list[Doc]:
        """Ratings received in `role` within [start_ms, end_ms)."""
        return await find_docs(self.ratings, {"guild_id": guild_id, "ratee_role": role,
                                              "at_ms": {"$gte": start_ms, "$lt": end_ms}})

    async def top_mentors(self, guild_id: int, *, limit: int) -> list[Doc]:
        """Mentors (active or paused) with the most completed mentorships."""
        return await find_docs(self.mentors, {"guild_id": guild_id,
                                              "status": {"$in": ["active", "paused"]}},
                               sort={"completed": DESCENDING, "user_id": ASCENDING}, limit=limit)

    async def claim_once(self, key: str) -> bool:
        """Claim a run-once marker (`{guild}:spotlight:2026-01`); True for the one caller that
        created it (a unique _id, so two processes cannot both claim it)."""
        try:
            await self.db.write(lambda: self.counters.insert_one({"_id": key, "claimed": True}))
        except DuplicateKeyError:
            return False
        return True

    async def rating_summary(self, guild_id: int, user_id: int, role: str) -> tuple[int, int]:
        """(ratings, stars) a member received in `role` ('mentor' or 'mentee')."""
        docs = await find_docs(self.ratings, {"guild_id": guild_id, "ratee_id": user_id,
                                              "ratee_role": role})
        return len(docs), sum(int(d["stars"]) for d in docs)

    # --- skill verification -------------------------------------------------------------------
    async def verify_skill(self, doc: Doc) -> None:
        """Store (or replace) the verified level of one member's skill."""

        async def upsert() -> None:
            await self.db.write(lambda: self.verified.update_one(
                {"guild_id": doc["guild_id"], "user_id": doc["user_id"], "skill": doc["skill"]},
                {"$set": doc}, upsert=True))

        try:
            await upsert()
        except DuplicateKeyError:
            # Two verifiers of the same skill at once lost the unique (guild, user, skill)
            # index: the record exists now, so the second try replaces it (the last one wins,
            # as it would have one moment later).
            await upsert()

    async def verified_levels(self, guild_id: int, user_ids: list[int] | None = None
                              ) -> dict[int, dict[str, int]]:
        """{user: {skill: verified level}} for the guild (or for some members)."""
        match: Doc = {"guild_id": guild_id}
        if user_ids is not None:
            if not user_ids:
                return {}
            match["user_id"] = user_ids[0] if len(user_ids) == 1 else {"$in": user_ids}
        found: dict[int, dict[str, int]] = {}
        for doc in await find_docs(self.verified, match):
            found.setdefault(doc["user_id"], {})[doc["skill"]] = int(doc["level"])
        return found


    # --- insights (economy/insights) ---------------------------------------------------------
    async def matches_between(self, guild_id: int, start_ms: int, end_ms: int) -> int:
        """Mentorships that started in [start_ms, end_ms)."""
        return await count(self.pairs, {"guild_id": guild_id,
                                        "started_ms": {"$gte": start_ms, "$lt": end_ms}})

    async def milestones_between(self, guild_id: int, start_ms: int, end_ms: int) -> int:
        """Mentorship goals marked done in [start_ms, end_ms)."""
        return await count(self.goals, {"guild_id": guild_id,
                                        "done_ms": {"$gte": start_ms, "$lt": end_ms}})


async def load_mismatches(db: Database, guild_id: int) -> list[str]:
    """Mentors whose `load` (the guarded counter that holds their capacity) differs from their
    active mentorships (the audit); empty when every load is exact."""
    problems = []
    for mentor in await find_docs(db["mentors"], {"guild_id": guild_id}):
        active = await count(db["mentorships"], {"guild_id": guild_id, "status": "active",
                                                 "mentor_id": mentor["user_id"]})
        if int(mentor.get("load", 0)) != active:
            problems.append(f"guild {guild_id}: mentor {mentor['user_id']} has load "
                            f"{mentor.get('load', 0)} but {active} active mentorships")
    return problems
