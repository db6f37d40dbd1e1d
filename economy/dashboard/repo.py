"""Every query of the dashboard: `dashboard_sessions`, `dashboard_login_states`, its audit
entries (`audit_log`) and the health counts of the overview (read-only counts over accounts,
trades and listings).

Sessions and login states are stored by the SHA-256 of their secret, never the secret itself:
a copy of the database opens no browser session. Both expire through a TTL index on
`expires_at` (migration 0020); reads also compare `expires_at`, since TTL deletion is lazy.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import DESCENDING

from economy.repos.base import Database, Doc, count, find_docs, find_first

#: The audit actions the dashboard writes (its page shows the latest).
ACTIONS = ["dashboard.settings", "dashboard.listing.approve", "dashboard.listing.reject",
           "dashboard.export"]


class DashboardRepo:
    """The dashboard's collections and its read-only counts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sessions = db["dashboard_sessions"]
        self.states = db["dashboard_login_states"]
        self.audit = db["audit_log"]
        self._accounts = db["accounts"]
        self._trades = db["trades"]
        self._listings = db["listings"]
        self._quotas = db["member_quotas"]

    # --- login states -----------------------------------------------------------------------
    async def add_state(self, digest: str, at: datetime, expires_at: datetime) -> None:
        """Remember a login state (by its digest) until it is used or expires."""
        await self.db.write(lambda: self.states.insert_one(
            {"_id": digest, "created_at": at, "expires_at": expires_at}))

    async def take_state(self, digest: str, now: datetime) -> bool:
        """Delete a login state; True when it existed and had not expired (single use: one
        caller wins the delete)."""
        doc = await self.db.write(lambda: self.states.find_one_and_delete({"_id": digest}))
        # Compared here, not in the filter: the embedded store's lookup by `_id` ignores the
        # filter's other conditions (see /work/shared/notes/store-fidelity.md).
        return doc is not None and _aware(doc["expires_at"]) > now

    # --- sessions ---------------------------------------------------------------------------
    async def add_session(self, doc: Doc) -> None:
        """Store a new session."""
        await self.db.write(lambda: self.sessions.insert_one(dict(doc)))

    async def session(self, digest: str, now: datetime) -> Doc | None:
        """A live session by its digest (None: unknown or expired)."""
        doc = await find_first(self.sessions, {"_id": digest})
        # Compared here, not in the filter: the embedded store's lookup by `_id` ignores the
        # filter's other conditions.
        return doc if doc is not None and _aware(doc["expires_at"]) > now else None

    async def delete_session(self, digest: str) -> None:
        """End one session."""
        await self.db.write(lambda: self.sessions.delete_one({"_id": digest}))

    async def delete_sessions_of(self, user_id: int) -> int:
        """End every session of a user; how many there were."""
        result = await self.db.write(lambda: self.sessions.delete_many({"user_id": user_id}))
        return int(result.deleted_count)

    async def delete_expired(self, now: datetime) -> int:
        """Forget expired sessions and login states; how many documents went."""
        gone = 0
        for collection in (self.sessions, self.states):
            result = await self.db.write(
                lambda c=collection: c.delete_many({"expires_at": {"$lte": now}}))
            gone += int(result.deleted_count)
        return gone

    # --- audit ------------------------------------------------------------------------------
    async def log(self, entry: Doc) -> None:
        """Append an action taken on the dashboard to the audit log."""
        await self.db.write(lambda: self.audit.insert_one(dict(entry)))

    async def recent_log(self, guild_id: int, *, limit: int = 20) -> list[Doc]:
        """The guild's latest dashboard audit entries, newest first."""
        return await find_docs(self.audit, {"guild_id": guild_id, "action": {"$in": ACTIONS}},
                               sort={"at": DESCENDING}, limit=limit)

    # --- health counts ----------------------------------------------------------------------
    async def member_totals(self, guild_id: int) -> tuple[int, int, int]:
        """(members with a balance, GEMS they hold spendable, GEMS held in escrow)."""
        members = await count(self._accounts, {"guild_id": guild_id, "system": False,
                                               "balance": {"$gt": 0}})
        cursor = await self._accounts.aggregate([
            {"$match": {"guild_id": guild_id, "system": False}},
            {"$group": {"_id": None, "balance": {"$sum": "$balance"}, "held": {"$sum": "$held"}}}])
        docs = await cursor.to_list()
        if not docs:
            return members, 0, 0
        return members, int(docs[0].get("balance") or 0), int(docs[0].get("held") or 0)

    async def count_trades(self, guild_id: int, statuses: list[str]) -> int:
        """Trades of the guild in these statuses."""
        return await count(self._trades, {"guild_id": guild_id, "status": {"$in": statuses}})

    async def recent_flags(self, guild_id: int, buckets: list[str], *, limit: int) -> list[Doc]:
        """The latest stored moderator flags of the guild (`member_quotas` buckets claimed
        when a flag was raised), newest first."""
        return await find_docs(self._quotas, {"guild_id": guild_id, "bucket": {"$in": buckets}},
                               sort={"last_ms": DESCENDING, "user_id": DESCENDING}, limit=limit)

    async def count_listings(self, guild_id: int, status: str) -> int:
        """Listings of the guild in this status."""
        return await count(self._listings, {"guild_id": guild_id, "status": status})


def _aware(at: datetime) -> datetime:
    """MongoDB hands dates back naive (UTC); the embedded store aware."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
