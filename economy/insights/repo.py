"""Every query on the insights collections (the rollups and what they are computed from).

- `insights_daily`: one rollup per guild-local day, `_id` "<guild>:<day>", replaced whole.
- `insights_active`: the members active on a day, `_id` "<guild>:<day>" (WAU, cohorts).
- `insights_snapshots`: every account's GEMS (balance + held), held GEMS and first activity
  at the end of a rolled-up day, in chunks `_id` "<guild>:<as_of_ms>:<chunk>", so the next day
  starts from it instead of re-reading the whole ledger.
- `insights_state`: `_id` "<guild>": `snapshot_ms` (the snapshot that is complete), `last_day`.
- `insights_flags`: one per anomaly, `_id` "<guild>:<key>", inserted once, posted once.

Every write is idempotent: rollups and snapshots are replaced with the same content when
recomputed, flags are inserted under their key (a second insert is a duplicate), state only
moves forward (guarded in the write filter).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from economy.core.errors import Conflict
from economy.repos.base import Database, Doc, find_docs, find_first

CHUNK = 20_000  # accounts per snapshot document (3 x 20k integers: far below 16 MB)


class InsightsRepo:
    """The rollups, active sets, snapshots, state and flags."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.daily = db["insights_daily"]
        self.active = db["insights_active"]
        self.snapshots = db["insights_snapshots"]
        self.state = db["insights_state"]
        self.flags = db["insights_flags"]

    # --- rollups -----------------------------------------------------------------------------
    async def save_day(self, doc: Doc, active_users: list[int]) -> None:
        """Replace the rollup and the active set of one day (same content when recomputed)."""
        key = f"{doc['guild_id']}:{doc['day']}"
        await self.db.write(lambda: self.daily.replace_one({"_id": key}, {"_id": key, **doc},
                                                           upsert=True))
        active = {"_id": key, "guild_id": doc["guild_id"], "day": doc["day"],
                  "users": sorted(active_users)}
        await self.db.write(lambda: self.active.replace_one({"_id": key}, active, upsert=True))

    async def days(self, guild_id: int, first_day: str, last_day: str) -> list[Doc]:
        """Rollups of days in [first_day, last_day], oldest first."""
        return await find_docs(self.daily, {"guild_id": guild_id,
                                            "day": {"$gte": first_day, "$lte": last_day}},
                               sort={"day": ASCENDING})

    async def latest_day(self, guild_id: int) -> Doc | None:
        """The newest rollup of a guild."""
        docs = await find_docs(self.daily, {"guild_id": guild_id}, sort={"day": DESCENDING},
                               limit=1)
        return docs[0] if docs else None

    async def active_sets(self, guild_id: int, first_day: str, last_day: str) -> dict[str, list[int]]:
        """day -> members active that day, for the stored days in [first_day, last_day]."""
        docs = await find_docs(self.active, {"guild_id": guild_id,
                                             "day": {"$gte": first_day, "$lte": last_day}})
        return {d["day"]: list(d.get("users") or []) for d in docs}

    # --- snapshots and state -----------------------------------------------------------------
    async def state_of(self, guild_id: int) -> Doc | None:
        """The guild's rollup state (None before its first rollup)."""
        return await find_first(self.state, {"_id": str(guild_id)})

    async def load_snapshot(self, guild_id: int, as_of_ms: int) -> dict[int, tuple[int, int, int]]:
        """user -> (GEMS, held, first activity ms) at `as_of_ms` ({} for as_of_ms 0).

        Raises Conflict when the snapshot is incomplete (pruned while read)."""
        found: dict[int, tuple[int, int, int]] = {}
        docs = await find_docs(self.snapshots, {"guild_id": guild_id, "as_of_ms": as_of_ms})
        if as_of_ms and (not docs or len(docs) != int(docs[0]["chunks"])):
            # Pruned by a run that moved two days ahead meanwhile: start again from the state.
            raise Conflict("The rollup snapshot changed while it was read; try again.")
        for doc in docs:
            for user, wealth, held, first in zip(doc["users"], doc["wealth"], doc["held"],
                                                 doc["first_ms"], strict=True):
                found[user] = (wealth, held, first)
        return found

    async def save_snapshot(self, guild_id: int, as_of_ms: int, last_day: str,
                            accounts: dict[int, tuple[int, int, int]]) -> None:
        """Store the snapshot in chunks, then point the state at it (only forward), then drop
        snapshots older than the previous one (a reader may still be on the previous one)."""
        users = sorted(accounts)
        chunks = [users[i:i + CHUNK] for i in range(0, len(users), CHUNK)] or [[]]
        for number, part in enumerate(chunks):
            key = f"{guild_id}:{as_of_ms}:{number}"
            body = {"_id": key, "guild_id": guild_id, "as_of_ms": as_of_ms, "chunk": number,
                    "chunks": len(chunks), "users": part,
                    "wealth": [accounts[u][0] for u in part],
                    "held": [accounts[u][1] for u in part],
                    "first_ms": [accounts[u][2] for u in part]}
            await self.db.write(lambda key=key, body=body: self.snapshots.replace_one(
                {"_id": key}, body, upsert=True))
        previous = await self.state_of(guild_id)
        await self._advance_state(guild_id, as_of_ms, last_day)
        keep = min(as_of_ms, int((previous or {}).get("snapshot_ms") or as_of_ms))
        await self.db.write(lambda: self.snapshots.delete_many(
            {"guild_id": guild_id, "as_of_ms": {"$lt": keep}}))

    async def _advance_state(self, guild_id: int, as_of_ms: int, last_day: str) -> None:
        key = str(guild_id)
        try:
            await self.db.write(lambda: self.state.insert_one(
                {"_id": key, "guild_id": guild_id, "snapshot_ms": as_of_ms, "last_day": last_day}))
            return
        except DuplicateKeyError:
            pass
        # Only forward: a slower run that finished an older day never moves the state back.
        await self.db.write(lambda: self.state.update_one(
            {"_id": key, "snapshot_ms": {"$lt": as_of_ms}},
            {"$set": {"snapshot_ms": as_of_ms, "last_day": last_day}}))

    # --- flags -------------------------------------------------------------------------------
    async def add_flag(self, doc: Doc) -> bool:
        """Record an anomaly once; False when it was recorded before (by any process)."""
        try:
            await self.db.write(lambda: self.flags.insert_one(
                {**doc, "_id": f"{doc['guild_id']}:{doc['key']}"}))
        except DuplicateKeyError:
            return False
        return True

    async def pending_flags(self, guild_id: int, limit: int = 25) -> list[Doc]:
        """Flags not posted yet, oldest first."""
        return await find_docs(self.flags, {"guild_id": guild_id, "status": "pending"},
                               sort={"at_ms": ASCENDING, "_id": ASCENDING}, limit=limit)

    async def claim_flag(self, flag_id: str, now_ms: int) -> bool:
        """Take a pending flag for posting; True for exactly one caller (at most once)."""
        result = await self.db.write(lambda: self.flags.update_one(
            {"_id": flag_id, "status": "pending"},
            {"$set": {"status": "posted", "posted_ms": now_ms}}))
        return result.modified_count == 1

    async def flags_of(self, guild_id: int, limit: int = 100) -> list[Doc]:
        """The newest flags of a guild (any status)."""
        return await find_docs(self.flags, {"guild_id": guild_id},
                               sort={"at_ms": DESCENDING, "_id": DESCENDING}, limit=limit)

    async def guilds_with_state(self) -> list[int]:
        """Guilds that have rollups."""
        docs: list[Any] = await find_docs(self.state, {"guild_id": {"$gt": -(2**63)}})
        return sorted(int(d["guild_id"]) for d in docs)
