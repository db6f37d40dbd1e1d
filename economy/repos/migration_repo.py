"""The `_migrations` record: which numbered migrations are applied (economy/core/migrations.py)."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database

#: Collections that exist before any data does (the record itself, the leases taken to migrate).
_BOOKKEEPING = frozenset({"_migrations", "leases", "lease_terms"})


class MigrationRepo:
    """Reads and writes the migration record; one document per version (`_id`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._col = db["_migrations"]

    async def applied(self) -> dict[str, dict]:
        """Recorded migrations by version."""
        return {doc["_id"]: doc async for doc in self._col.find({})}

    async def holds_data(self) -> bool:
        """True when any collection besides the bookkeeping ones holds a document."""
        for name in await self.db.raw.list_collection_names():
            if name in _BOOKKEEPING or name.startswith("system."):
                continue
            if await self.db[name].find_one({}, projection={"_id": 1}) is not None:
                return True
        return False

    async def claim(self, version: str, name: str, at: datetime) -> dict | None:
        """Record `version` as running; None when claimed now, else the record found."""
        doc = {"_id": version, "name": name, "status": "running", "started_at": at}
        try:
            await self.db.write(lambda: self._col.insert_one(doc))
        except DuplicateKeyError:
            return await self._col.find_one({"_id": version}) or {}
        return None

    async def release(self, version: str) -> None:
        """Forget a claim (its migration failed)."""
        await self.db.write(lambda: self._col.delete_one({"_id": version}))

    async def finish(self, version: str, at: datetime) -> None:
        """Mark a claimed migration done."""
        await self.db.write(lambda: self._col.update_one(
            {"_id": version}, {"$set": {"status": "done", "finished_at": at}}))
