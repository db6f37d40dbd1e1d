"""Queries for NFT role rules (`nft_rules`), per-guild sync state (`nft_sync`) and report-once
markers for role problems (`nft_problems`)."""

from __future__ import annotations

from typing import Any

from bson import Binary
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs, find_first
from economy.repos.slot_repo import SlotHeld, SlotRepo, SlotsBusy, SlotsFull

#: The `cap_slots` kind of an NFT rule (repos/slot_repo.py): owner 0 (the guild), ref rule_id.
RULE_SLOT = "nft_rule"


class RulesFull(Exception):
    """The guild has as many NFT rules as allowed (nothing was stored)."""


class NftRepo:
    """`nft_rules`: {guild_id, rule_id, role_id, chain_id, contract, standard, ranges, min_count,
    max_count, group, created_by, created_ms}.

    `nft_sync`: {_id: guild_id, guild_id, next_due_ms, last: {...written whole}}.
    `nft_problems`: {_id: "guild:key", guild_id, key, text}.
    `nft_media`: {guild_id, key: "chain:contract:id", status: ok|none, thumb, fetched_ms}.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rules = db["nft_rules"]
        self.sync = db["nft_sync"]
        self.problems = db["nft_problems"]
        self.media = db["nft_media"]
        self.slots = SlotRepo(db)

    async def rules_of(self, guild_id: int) -> list[Doc]:
        """A guild's rules, in creation order."""
        return await find_docs(self.rules, {"guild_id": guild_id}, sort={"rule_id": 1})

    async def insert_rule(self, rule: Doc, *, cap: int) -> int:
        """Store a rule under the next free per-guild number with one of the guild's `cap` rule
        places (repos/slot_repo.py: two admins adding at once race on the place, so the cap
        holds on MongoDB too); returns that number. Raises RulesFull (nothing stored)."""
        guild_id = rule["guild_id"]
        for _ in range(cap + 20):  # each lost number is another admin's new rule
            existing = await find_docs(self.rules, {"guild_id": guild_id},
                                       sort={"rule_id": -1}, limit=1)
            rule_id = (existing[0]["rule_id"] + 1) if existing else 1
            doc = dict(rule, rule_id=rule_id)

            async def work(session: Any, d: Doc = doc) -> None:
                await self.rules.insert_one(d, session=session)

            try:
                await self.slots.claim(guild_id, RULE_SLOT, 0, rule_id, cap, work)
                return rule_id
            except (SlotsFull, SlotsBusy):
                raise RulesFull from None
            except (DuplicateKeyError, SlotHeld):
                continue  # another admin took that number at the same moment
        raise RuntimeError("could not allocate a rule number")

    async def delete_rule(self, guild_id: int, rule_id: int) -> Doc | None:
        """Remove a rule and free its place; returns it (None when there was none)."""
        async def work(session: Any) -> Doc | None:
            doc = await self.rules.find_one_and_delete(
                {"guild_id": guild_id, "rule_id": rule_id}, session=session)
            if doc is not None:
                await self.slots.release(guild_id, RULE_SLOT, rule_id, session=session)
            return doc

        return await self.db.transaction(work)

    async def status(self, guild_id: int) -> Doc | None:
        """The guild's sync state."""
        return await find_first(self.sync, {"_id": guild_id})

    async def record_sync(self, guild_id: int, last: Doc) -> None:
        """Store the summary of the latest sync (a subdocument written whole)."""
        await self.db.write(lambda: self.sync.update_one(
            {"_id": guild_id}, {"$set": {"guild_id": guild_id, "last": last}}, upsert=True))

    async def claim_due(self, guild_id: int, seen_due_ms: int | None, next_due_ms: int) -> bool:
        """Move the guild's next periodic sync from `seen_due_ms` to `next_due_ms`.

        Guarded by the value read, so of two processes sweeping at once only one wins.
        """
        if seen_due_ms is None:
            try:
                await self.db.write(lambda: self.sync.insert_one(
                    {"_id": guild_id, "guild_id": guild_id, "next_due_ms": next_due_ms}))
                return True
            except DuplicateKeyError:
                # The document exists (a manual sync recorded its summary) without a due date.
                result = await self.db.write(lambda: self.sync.update_one(
                    {"_id": guild_id, "next_due_ms": {"$exists": False}},
                    {"$set": {"next_due_ms": next_due_ms}}))
                return result.modified_count == 1
        result = await self.db.write(lambda: self.sync.update_one(
            {"_id": guild_id, "next_due_ms": seen_due_ms}, {"$set": {"next_due_ms": next_due_ms}}))
        return result.modified_count == 1

    async def move_log_cursors(self, guild_id: int, seen_version: int | None,
                               cursors: dict[str, int]) -> bool:
        """Store how far Transfer logs were followed per chain (`{"<chain id>": block}`).

        Guarded by the `log_version` read with the old cursors: of two processes following the
        same logs, one moves the cursor (both re-checked the same members: harmless).
        """
        if seen_version is None:
            try:
                await self.db.write(lambda: self.sync.insert_one(
                    {"_id": guild_id, "guild_id": guild_id, "log_cursors": cursors,
                     "log_version": 1}))
                return True
            except DuplicateKeyError:
                result = await self.db.write(lambda: self.sync.update_one(
                    {"_id": guild_id, "log_version": {"$exists": False}},
                    {"$set": {"log_cursors": cursors, "log_version": 1}}))
                return result.modified_count == 1
        result = await self.db.write(lambda: self.sync.update_one(
            {"_id": guild_id, "log_version": seen_version},
            {"$set": {"log_cursors": cursors, "log_version": seen_version + 1}}))
        return result.modified_count == 1

    async def first_report(self, guild_id: int, key: str, text: str) -> bool:
        """Record a problem; True only the first time it is seen (so it is reported once)."""
        try:
            await self.db.write(lambda: self.problems.insert_one(
                {"_id": f"{guild_id}:{key}", "guild_id": guild_id, "key": key, "text": text}))
            return True
        except DuplicateKeyError:
            return False

    async def clear_problem(self, guild_id: int, key: str) -> None:
        """Forget a problem that went away (it is reported again if it comes back)."""
        await self.db.write(lambda: self.problems.delete_one({"_id": f"{guild_id}:{key}"}))

    async def open_problems(self, guild_id: int) -> list[Doc]:
        """Problems seen and not yet resolved."""
        return await find_docs(self.problems, {"guild_id": guild_id})

    async def cached_media(self, guild_id: int, key: str) -> Doc | None:
        """A cached token image (or the note that it has none)."""
        return await find_first(self.media, {"guild_id": guild_id, "key": key})

    async def cache_media(self, guild_id: int, key: str, doc: Doc) -> None:
        """Store (or refresh) a cached token image, replaced whole (`thumb`: JPEG bytes or None)."""
        full = dict(doc, guild_id=guild_id, key=key)
        if full.get("thumb") is not None:
            full["thumb"] = Binary(full["thumb"])
        await self.db.write(lambda: self.media.replace_one(
            {"guild_id": guild_id, "key": key}, full, upsert=True))
