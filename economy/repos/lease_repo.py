"""The `leases` collection: one document per named lease (`_id` = the lease name).

A lease is {owner, token, expires_at (epoch-ms), acquired_at (epoch-ms)}. Every change is one
guarded write on `_id` plus the exact values read, so two processes racing for an expired lease
cannot both win, and a stale holder cannot renew after someone else took over (the fencing
token changed).
"""

from __future__ import annotations

import contextlib

from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs, find_first


class LeaseRepo:
    """Reads and guarded writes on lease documents."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["leases"]

    async def get(self, name: str) -> Doc | None:
        """The lease document, or None when nobody ever held it."""
        return await find_first(self._col, {"_id": name})

    async def create(self, name: str, owner: str, now_ms: int, expires_ms: int) -> bool:
        """Take a lease nobody held before (token 1); False when another process was first."""
        doc = {"_id": name, "owner": owner, "token": 1, "expires_at": expires_ms,
               "acquired_at": now_ms, "renewed_at": now_ms, "released": False}
        try:
            await self._db.write(lambda: self._col.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    async def take_over(self, seen: Doc, owner: str, now_ms: int, expires_ms: int) -> int | None:
        """Take the expired lease `seen` (as read); returns the new token, None if lost.

        Guarded by the token and expiry read, so a holder that renewed meanwhile keeps it and
        only one of several racing processes wins.
        """
        guard = {"_id": seen["_id"], "token": seen["token"], "expires_at": seen["expires_at"]}
        # The previous term is kept for operators (and tests): who led, until when, and
        # whether it handed over cleanly or was waited out.
        change = {"$set": {"owner": owner, "expires_at": expires_ms, "acquired_at": now_ms,
                           "renewed_at": now_ms, "released": False,
                           "previous": {"owner": seen.get("owner"), "token": seen["token"],
                                        "expires_at": seen["expires_at"],
                                        "released": bool(seen.get("released"))}},
                  "$inc": {"token": 1}}
        result = await self._db.write(lambda: self._col.update_one(guard, change))
        return seen["token"] + 1 if result.modified_count == 1 else None

    async def record_term(self, name: str, token: int, doc: Doc) -> None:
        """Keep a history line per leadership term (`lease_terms`, `_id` = name:token): who led
        from when, and how the previous term ended. For operators and the multi-process tests."""
        term = {"_id": f"{name}:{token}", "name": name, "token": token, **doc}
        with contextlib.suppress(DuplicateKeyError):  # already recorded
            await self._db.write(lambda: self._db["lease_terms"].insert_one(term))

    async def terms(self, name: str) -> list[Doc]:
        """The recorded terms of a lease, oldest first."""
        return await find_docs(self._db["lease_terms"], {"name": name}, sort={"token": 1})

    async def renew(self, name: str, owner: str, token: int, now_ms: int, expires_ms: int) -> bool:
        """Extend the lease held by (`owner`, `token`); False when it was taken over."""
        guard = {"_id": name, "owner": owner, "token": token}
        change = {"$set": {"expires_at": expires_ms, "renewed_at": now_ms, "released": False}}
        result = await self._db.write(lambda: self._col.update_one(guard, change))
        # matched, not modified: with a clock that did not move the values are unchanged.
        return result.matched_count == 1

    async def release(self, name: str, owner: str, token: int, now_ms: int) -> bool:
        """Give the lease up (clean shutdown) so another process takes over at once."""
        guard = {"_id": name, "owner": owner, "token": token}
        result = await self._db.write(
            lambda: self._col.update_one(guard, {"$set": {"expires_at": now_ms, "released": True}}))
        return result.matched_count == 1
