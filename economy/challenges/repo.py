"""Every query of the daily-challenges feature.

Collections (indexes in migrations/0007_challenges.py, all starting with guild_id):
- `challenge_defs`: custom challenges of a guild, and retirement markers for shipped ones;
- `challenge_counters`: the per-guild sequence behind custom ids (`c1`, `c2`, ...);
- `challenge_days`: the drawn set of one guild day (unique per guild and day);
- `challenge_progress`: per (guild, day, challenge, member): counted progress, answer attempts and
  a `completed` flag (counts are `$inc`ed in bulk by the progress flush);
- `challenge_completions`: one per (guild, member, day, challenge) - the unique index is the
  "completed once" guard; `paid` turns true after the ledger credited the reward;
- `challenge_streaks`: one per (guild, member), guarded by a `version` integer;
- `challenge_thanks`: one per (guild, day, thanker, helper) - "not the same pair twice a day";
- `challenge_submissions`: creativity entries, one per (guild, day, challenge, member), with a
  `status` (posting -> open -> accepted) and a `votes` counter; `challenge_votes`: one per
  (guild, submission, voter) - "one vote each";
- `challenge_scores`: completions per (guild, period, member) for the leaderboards, where period is
  a day (`2026-01-05`), a week (`2026-W02`) or `all`; set to exact counts (idempotent).
Dates that matter for ranges are epoch-ms integers (see repos/base.py).
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, count, find_docs, find_first, next_in_sequence


def progress_id(guild_id: int, day: str, challenge_id: str, user_id: int) -> str:
    """The `_id` of a progress document (one per guild, day, challenge and member)."""
    return f"{guild_id}:{day}:{challenge_id}:{user_id}"


def _identity(guild_id: int, day: str, challenge_id: str, user_id: int) -> Doc:
    # Written with every upsert ($setOnInsert is ignored by nx-27017); the values never change.
    return {"guild_id": guild_id, "day": day, "challenge_id": challenge_id, "user_id": user_id}


class ChallengeRepo:
    """Definitions, daily draws, progress, completions and streaks."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.defs = db["challenge_defs"]
        self.counters = db["challenge_counters"]
        self.days = db["challenge_days"]
        self.progress = db["challenge_progress"]
        self.completions = db["challenge_completions"]
        self.streaks = db["challenge_streaks"]
        self.thanks = db["challenge_thanks"]
        self.submissions = db["challenge_submissions"]
        self.scores = db["challenge_scores"]
        self.votes = db["challenge_votes"]

    # --- definitions -------------------------------------------------------------------------
    async def guild_defs(self, guild_id: int) -> list[Doc]:
        """Custom challenges and retirement markers of a guild."""
        return await find_docs(self.defs, {"guild_id": guild_id})

    async def next_custom_number(self, guild_id: int) -> int:
        """The next number for a custom challenge id (atomic, never reused)."""
        return await next_in_sequence(self.db, self.counters, {"guild_id": guild_id})

    async def insert_def(self, doc: Doc) -> None:
        """Store a custom challenge."""
        await self.db.write(lambda: self.defs.insert_one(doc))

    async def retire_custom(self, guild_id: int, challenge_id: str, *, actor_id: int, at_ms: int) -> bool:
        """Retire an active custom challenge; False when it was not active."""
        result = await self.db.write(lambda: self.defs.update_one(
            {"guild_id": guild_id, "challenge_id": challenge_id, "status": "active"},
            {"$set": {"status": "retired", "retired": {"by": actor_id, "at_ms": at_ms}}}))
        return result.modified_count == 1

    async def retire_shipped(self, guild_id: int, challenge_id: str, *, actor_id: int, at_ms: int) -> bool:
        """Mark a shipped challenge retired in this guild; False when it already was."""
        doc = {"guild_id": guild_id, "challenge_id": challenge_id, "shipped": True,
               "status": "retired", "retired": {"by": actor_id, "at_ms": at_ms}}
        try:
            await self.db.write(lambda: self.defs.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    # --- daily draws -------------------------------------------------------------------------
    async def day(self, guild_id: int, day: str) -> Doc | None:
        """The drawn set of a guild day."""
        return await find_first(self.days, {"guild_id": guild_id, "day": day})

    async def recent_days(self, guild_id: int, limit: int) -> list[Doc]:
        """The latest draws of a guild, newest first."""
        return await find_docs(self.days, {"guild_id": guild_id}, sort={"day": DESCENDING},
                               limit=limit)

    async def insert_day(self, doc: Doc) -> bool:
        """Store a draw; False when another process stored the day first."""
        try:
            await self.db.write(lambda: self.days.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def mark_announced(self, guild_id: int, day: str) -> bool:
        """Claim the announcement of a day (guarded run-once flag)."""
        result = await self.db.write(lambda: self.days.update_one(
            {"guild_id": guild_id, "day": day, "announced": False}, {"$set": {"announced": True}}))
        return result.modified_count == 1

    # --- progress ----------------------------------------------------------------------------
    async def add_progress(self, guild_id: int, day: str, increments: dict[tuple[str, int], int],
                           *, known: set[tuple[str, int]] | frozenset = frozenset()) -> None:
        """`$inc` many progress counters in one bulk write (upserting missing ones).

        Progress documents have a deterministic `_id`: writes filtered by `_id` use the primary
        index on both stores (nx-27017 scans the collection for any other write filter). Keys in
        `known` were written before by this process, so their identity fields are not re-sent.
        """
        ops = []
        for (cid, uid), n in sorted(increments.items()):
            update: Doc = {"$inc": {"count": n}}
            if (cid, uid) not in known:
                update["$set"] = _identity(guild_id, day, cid, uid)
            ops.append(UpdateOne({"_id": progress_id(guild_id, day, cid, uid)}, update, upsert=True))
        if ops:
            await self.db.write(lambda: self.progress.bulk_write(ops, ordered=False))

    async def due_progress(self, guild_id: int, day: str, challenge_id: str, target: int) -> list[Doc]:
        """Progress documents that reached `target` and are not marked completed yet."""
        return await find_docs(self.progress, {
            "guild_id": guild_id, "day": day, "challenge_id": challenge_id,
            "count": {"$gte": target}, "completed": {"$ne": True}})

    async def member_progress(self, guild_id: int, day: str, user_id: int) -> list[Doc]:
        """A member's progress documents of one day."""
        return await find_docs(self.progress, {"guild_id": guild_id, "day": day, "user_id": user_id})

    async def claim_attempt(self, guild_id: int, day: str, challenge_id: str, user_id: int,
                            limit: int) -> int | None:
        """Use one answer attempt; returns the attempts used, or None when none were left.

        Guarded in the write filter (`attempts < limit`): with no matching document the upsert
        inserts one, which the primary index refuses when a document with all attempts used
        already exists.
        """
        try:
            doc = await self.db.write(lambda: self.progress.find_one_and_update(
                {"_id": progress_id(guild_id, day, challenge_id, user_id),
                 "attempts": {"$lt": limit}},
                {"$inc": {"attempts": 1}, "$set": _identity(guild_id, day, challenge_id, user_id)},
                upsert=True, return_document=ReturnDocument.AFTER))
        except DuplicateKeyError:
            return None
        # nx-27017 answers such a refused upsert with no document instead of a duplicate-key error.
        return int(doc["attempts"]) if doc is not None else None

    async def mark_progress_completed(self, guild_id: int, day: str, challenge_id: str, user_id: int) -> None:
        """Flag a member's progress as completed (so the due sweep skips it)."""
        await self.db.write(lambda: self.progress.update_one(
            {"_id": progress_id(guild_id, day, challenge_id, user_id)},
            {"$set": {"completed": True, **_identity(guild_id, day, challenge_id, user_id)}},
            upsert=True))

    # --- completions -------------------------------------------------------------------------
    async def insert_completion(self, doc: Doc) -> bool:
        """Record a completion; False when the member already completed it that day."""
        try:
            await self.db.write(lambda: self.completions.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def completion(self, guild_id: int, user_id: int, day: str, challenge_id: str) -> Doc | None:
        """One completion, or None."""
        return await find_first(self.completions, {"guild_id": guild_id, "user_id": user_id,
                                                   "day": day, "challenge_id": challenge_id})

    async def member_day_completions(self, guild_id: int, user_id: int, day: str) -> list[Doc]:
        """A member's completions of one guild day."""
        return await find_docs(self.completions, {"guild_id": guild_id, "user_id": user_id, "day": day})

    async def unpaid(self, guild_id: int, *, limit: int = 500) -> list[Doc]:
        """Completions whose reward was not confirmed yet (a crash between record and payment)."""
        return await find_docs(self.completions, {"guild_id": guild_id, "paid": False}, limit=limit)

    async def mark_paid(self, doc_id: Any, paid: int) -> None:
        """Confirm a completion's reward (with the amount actually credited)."""
        await self.db.write(lambda: self.completions.update_one(
            {"_id": doc_id, "paid": False}, {"$set": {"paid": True, "paid_amount": paid}}))

    async def history(self, guild_id: int, user_id: int, *, skip: int, limit: int) -> list[Doc]:
        """A member's completions, newest first."""
        return await find_docs(self.completions, {"guild_id": guild_id, "user_id": user_id},
                               sort={"at_ms": DESCENDING, "_id": DESCENDING}, skip=skip, limit=limit)

    async def count_history(self, guild_id: int, user_id: int) -> int:
        """How many completions a member has."""
        return await count(self.completions, {"guild_id": guild_id, "user_id": user_id})

    async def count_week(self, guild_id: int, user_id: int, week: str) -> int:
        """A member's completions in one challenge week."""
        return await count(self.completions, {"guild_id": guild_id, "user_id": user_id, "week": week})

    # --- community ---------------------------------------------------------------------------
    async def insert_thanks(self, doc: Doc) -> bool:
        """Record a thank-you; False when this member already thanked that helper that day."""
        try:
            await self.db.write(lambda: self.thanks.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    # --- creativity --------------------------------------------------------------------------
    async def insert_submission(self, doc: Doc) -> bool:
        """Record a submission; False when the member already submitted for it that day."""
        try:
            await self.db.write(lambda: self.submissions.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def submission(self, guild_id: int, submission_id: str) -> Doc | None:
        """One submission by its id."""
        return await find_first(self.submissions, {"guild_id": guild_id, "submission_id": submission_id})

    async def member_submission(self, guild_id: int, day: str, challenge_id: str, user_id: int) -> Doc | None:
        """A member's submission for a challenge on a day."""
        return await find_first(self.submissions, {"guild_id": guild_id, "day": day,
                                                   "challenge_id": challenge_id, "user_id": user_id})

    async def publish_submission(self, doc_id: Any, channel_id: int, message_id: int) -> None:
        """Attach the gallery message and open the submission for votes."""
        await self.db.write(lambda: self.submissions.update_one(
            {"_id": doc_id, "status": "posting"},
            {"$set": {"status": "open", "post": {"channel_id": channel_id, "message_id": message_id}}}))

    async def drop_submission(self, doc_id: Any) -> None:
        """Forget a submission whose gallery post failed."""
        await self.db.write(lambda: self.submissions.delete_one({"_id": doc_id, "status": "posting"}))

    async def insert_vote(self, doc: Doc) -> bool:
        """Record a vote; False when this member already voted for that submission."""
        try:
            await self.db.write(lambda: self.votes.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def add_vote(self, doc_id: Any) -> Doc | None:
        """Count one vote on an open or accepted submission; the document after, or None."""
        return await self.db.write(lambda: self.submissions.find_one_and_update(
            {"_id": doc_id, "status": {"$in": ["open", "accepted"]}}, {"$inc": {"votes": 1}},
            return_document=ReturnDocument.AFTER))

    async def accept_submission(self, doc_id: Any, *, by: int, at_ms: int) -> bool:
        """open -> accepted (guarded: exactly one caller wins)."""
        result = await self.db.write(lambda: self.submissions.update_one(
            {"_id": doc_id, "status": "open"},
            {"$set": {"status": "accepted", "accepted": {"by": by, "at_ms": at_ms}}}))
        return result.modified_count == 1

    # --- streaks -----------------------------------------------------------------------------
    async def streak(self, guild_id: int, user_id: int) -> Doc | None:
        """A member's streak document."""
        return await find_first(self.streaks, {"guild_id": guild_id, "user_id": user_id})

    async def save_streak(self, guild_id: int, user_id: int, *, version: int | None, state: Doc,
                          streak: int, last_n: int) -> bool:
        """Write a streak state guarded by the version read; False when someone else wrote first.

        `streak` and `last_n` (the last day as `date.toordinal()`) are kept at top level for
        the streak leaderboard's index.
        """
        if version is None:
            try:
                await self.db.write(lambda: self.streaks.insert_one(
                    {"guild_id": guild_id, "user_id": user_id, "version": 1, "state": state,
                     "streak": streak, "last_n": last_n}))
            except DuplicateKeyError:
                return False
            return True
        result = await self.db.write(lambda: self.streaks.update_one(
            {"guild_id": guild_id, "user_id": user_id, "version": version},
            {"$set": {"state": state, "version": version + 1, "streak": streak, "last_n": last_n}}))
        return result.modified_count == 1

    async def top_streaks(self, guild_id: int, *, min_last_n: int, skip: int, limit: int) -> list[Doc]:
        """Longest streaks still alive (last completion on or after `min_last_n`)."""
        docs = await find_docs(self.streaks, {"guild_id": guild_id, "last_n": {"$gte": min_last_n}},
                               sort={"streak": DESCENDING, "user_id": 1}, skip=skip, limit=limit)
        return docs

    async def count_streaks(self, guild_id: int, *, min_last_n: int) -> int:
        """How many streaks are still alive."""
        return await count(self.streaks, {"guild_id": guild_id, "last_n": {"$gte": min_last_n}})

    # --- leaderboards ------------------------------------------------------------------------
    async def set_scores(self, guild_id: int, user_id: int, counts: dict[str, int]) -> None:
        """Store a member's exact completion counts per period (one bulk write by `_id`)."""
        ops = [UpdateOne({"_id": f"{guild_id}:{period}:{user_id}"},
                         {"$set": {"guild_id": guild_id, "period": period, "user_id": user_id,
                                   "n": n}}, upsert=True)
               for period, n in sorted(counts.items())]
        await self.db.write(lambda: self.scores.bulk_write(ops, ordered=False))

    async def top_scores(self, guild_id: int, period: str, *, skip: int, limit: int) -> list[Doc]:
        """Most completions in a period first (ties by user id)."""
        return await find_docs(self.scores, {"guild_id": guild_id, "period": period},
                               sort={"n": DESCENDING, "user_id": 1}, skip=skip, limit=limit)

    async def count_scores(self, guild_id: int, period: str) -> int:
        """Members with at least one completion in a period."""
        return await count(self.scores, {"guild_id": guild_id, "period": period})

    # --- insights (economy/insights) ---------------------------------------------------------
    async def completions_between(self, guild_id: int, start_ms: int, end_ms: int) -> int:
        """Challenge completions recorded in [start_ms, end_ms)."""
        return await count(self.completions, {"guild_id": guild_id,
                                              "at_ms": {"$gte": start_ms, "$lt": end_ms}})
