"""Queries for `command_syncs`: what slash-command tree was last synced to Discord, per scope.

One document per application and scope (`_id` = "<application id>:global" or
"<application id>:guild:<id>"): {hash, commands, synced_at_ms}. Written only after Discord
accepted the sync, so a failed sync leaves the old hash and the next start tries again.
"""

from __future__ import annotations

from economy.repos.base import Database, Doc, find_first


class CommandSyncRepo:
    """Reads and writes of `command_syncs`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["command_syncs"]

    async def get(self, key: str) -> Doc | None:
        """The last successful sync of scope `key`, or None."""
        return await find_first(self._col, {"_id": key})

    async def record(self, key: str, digest: str, commands: int, at_ms: int) -> None:
        """Remember that Discord accepted the tree with hash `digest` for scope `key`."""
        change = {"$set": {"hash": digest, "commands": commands, "synced_at_ms": at_ms}}
        await self._db.write(lambda: self._col.update_one({"_id": key}, change, upsert=True))
