"""Every query on `accounts` and `ledger`. Writes take the session of the caller's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from bson.codec_options import TypeDecoder, TypeRegistry
from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from economy.core.errors import AlreadyRecorded, OutcomeUnknown
from economy.repos.base import Database, Doc, count, find_docs, find_first, outcome_unknown
from economy.repos.paging import guild_ids as paging_guild_ids
from economy.repos.paging import guild_pages

#: The leg fields `leg_columns_between` returns, with what a missing or null one reads as.
LEG_COLUMNS: dict[str, Any] = {"kind": None, "user_id": None, "delta": 0, "held_delta": 0,
                               "at_ms": None, "mint": False, "multiplier_bps": None,
                               "counterparty_id": None}
#: Legs per grouped read: about 120 bytes of columns a leg (Discord ids are 8-byte integers),
#: so the document of a slice stays near 2.4 MB (MongoDB refuses documents over 16 MB).
LEG_COLUMNS_CHUNK = 20_000


class _PlainInt64(TypeDecoder):
    """Decodes 8-byte integers as plain ints. PyMongo returns them as Int64, an int subclass the
    garbage collector tracks (a plain int it does not): a day's columns hold 11,000-33,000 of
    them (at_ms, Discord ids), enough to set off full collections of the bot's heap."""

    bson_type = Int64

    def transform_bson(self, value: Int64) -> int:
        return int(value)


class LedgerRepo:
    """Accounts (balances) and the append-only ledger."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = db["accounts"]
        self.ledger = db["ledger"]
        self._ledger_plain_ints = self.ledger.with_options(
            codec_options=self.ledger.codec_options.with_options(
                type_registry=TypeRegistry([_PlainInt64()])))

    # --- reads -------------------------------------------------------------------------------
    async def account(self, guild_id: int, user_id: int, *, session: Any = None) -> Doc | None:
        """The account document, or None when the member never held GEMS."""
        return await find_first(
            self.accounts, {"guild_id": guild_id, "user_id": user_id}, session=session
        )

    async def entries_for_key(self, guild_id: int, key: str, *, session: Any = None) -> list[Doc]:
        """The legs recorded under an idempotency key, in leg order."""
        return await find_docs(
            self.ledger, {"guild_id": guild_id, "idempotency_key": key}, sort={"leg": ASCENDING},
            session=session,
        )

    async def sum_balances(self, guild_id: int, user_ids: tuple[int, ...]) -> int:
        """Sum of the balances of the given accounts (e.g. the treasury and its shards)."""
        docs = await find_docs(self.accounts, {"guild_id": guild_id,
                                               "user_id": {"$in": list(user_ids)}})
        return sum(int(doc.get("balance", 0)) for doc in docs)

    async def history(self, guild_id: int, user_id: int, *, skip: int, limit: int) -> list[Doc]:
        """A member's entries, newest first."""
        return await find_docs(
            self.ledger, {"guild_id": guild_id, "user_id": user_id},
            sort={"at": DESCENDING, "_id": DESCENDING}, skip=skip, limit=limit,
        )

    async def count_history(self, guild_id: int, user_id: int) -> int:
        """How many entries a member has."""
        return await count(self.ledger, {"guild_id": guild_id, "user_id": user_id})

    async def top_accounts(self, guild_id: int, *, skip: int, limit: int) -> list[Doc]:
        """Member accounts by balance, richest first (ties by user id); no system accounts."""
        return await find_docs(
            self.accounts, {"guild_id": guild_id, "system": False},
            sort={"balance": DESCENDING, "user_id": ASCENDING}, skip=skip, limit=limit,
        )

    async def count_accounts(self, guild_id: int) -> int:
        """Number of member accounts in a guild."""
        return await count(self.accounts, {"guild_id": guild_id, "system": False})

    async def count_richer(self, guild_id: int, balance: int) -> int:
        """How many member accounts hold more than `balance` (rank - 1)."""
        return await count(
            self.accounts, {"guild_id": guild_id, "system": False, "balance": {"$gt": balance}}
        )

    async def has_member_balances(self, guild_id: int) -> bool:
        """True when any member (not a system account) of the guild holds or has held-back GEMS."""
        return await find_first(self.accounts, {"guild_id": guild_id, "system": False,
                                                "$or": [{"balance": {"$gt": 0}},
                                                        {"held": {"$gt": 0}}]}) is not None

    async def recorded_keys(self, guild_id: int, keys: list[str]) -> set[str]:
        """Which of `keys` have ledger entries in the guild (asked in chunks of 500)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            docs = await find_docs(self.ledger, {"guild_id": guild_id, "idempotency_key":
                                                 {"$in": keys[start:start + 500]}})
            found.update(doc["idempotency_key"] for doc in docs)
        return found

    # --- writes (inside a transaction) -------------------------------------------------------
    async def move(
        self, guild_id: int, user_id: int, *, balance: int, held: int, earned: int,
        at: datetime, session: Any,
    ) -> Doc | None:
        """Change an account's balance and held amount by the given deltas, guarded.

        A negative delta only applies while the account covers it (`balance >= -balance`,
        `held >= -held`); then None is returned and nothing changes. A move with no negative
        delta creates the account on first use.
        """
        guard: Doc = {"guild_id": guild_id, "user_id": user_id}
        if balance < 0:
            guard["balance"] = {"$gte": -balance}
        if held < 0:
            guard["held"] = {"$gte": -held}
        creates = balance >= 0 and held >= 0
        update: Doc = {
            "$inc": {"balance": balance, "held": held, "lifetime_earned": earned},
        }
        if creates:
            update["$set"] = {"system": user_id <= 0}
        return await self.accounts.find_one_and_update(
            guard, update, upsert=creates, return_document=ReturnDocument.AFTER, session=session
        )

    async def move_exact(
        self, guild_id: int, user_id: int, *, expected: int, delta: int, earned: int,
        session: Any,
    ) -> Doc | None:
        """Change an account's balance by `delta` only while it is exactly `expected` (the value
        the caller computed `delta` from); None when it moved meanwhile, nothing changed.

        An account that does not exist yet counts as balance 0: it is created, and one that
        another writer created meanwhile hits the unique (guild, user) index (also None).
        """
        update: Doc = {"$inc": {"balance": delta, "held": 0, "lifetime_earned": earned}}
        doc = await self.accounts.find_one_and_update(
            {"guild_id": guild_id, "user_id": user_id, "balance": expected}, update,
            return_document=ReturnDocument.AFTER, session=session)
        if doc is not None or expected != 0 or delta < 0:
            return doc
        try:
            return await self.accounts.find_one_and_update(
                {"guild_id": guild_id, "user_id": user_id, "balance": {"$exists": False}},
                {**update, "$set": {"system": user_id <= 0}}, upsert=True,
                return_document=ReturnDocument.AFTER, session=session)
        except DuplicateKeyError:
            return None

    async def set_daily(
        self, guild_id: int, user_id: int, *, expected_last_day: str | None, day: str,
        streak: int, session: Any,
    ) -> bool:
        """Record a daily claim if nobody recorded one since `expected_last_day` was read."""
        result = await self.accounts.update_one(
            {"guild_id": guild_id, "user_id": user_id, "daily_last_day": expected_last_day},
            {"$set": {"daily_last_day": day, "daily_streak": streak}},
            session=session,
        )
        return result.modified_count == 1

    async def commit(self, guild_id: int, key: str,
                     work: Callable[[Any], Awaitable[list[Doc]]]) -> list[Doc]:
        """Run `work` in a transaction; settle an ambiguous commit by the idempotency key.

        Transient errors are retried by `with_transaction`. When the commit's outcome stays
        unknown, the ledger entries under `key` tell whether it happened: found -> it committed
        (our own result); not found -> one more attempt under the same key, which the unique
        index keeps from applying twice. Still unknown -> OutcomeUnknown for the member. A
        duplicate key anywhere in the transaction (the operation's key, or a unique record that
        `work` writes) -> AlreadyRecorded.
        """
        for _ in range(2):
            try:
                return await self.db.transaction(work)
            except DuplicateKeyError as error:
                raise AlreadyRecorded(str(error)) from error
            except PyMongoError as error:
                if not outcome_unknown(error):
                    raise
                committed = await self.entries_for_key(guild_id, key)
                if committed:
                    return committed
        raise OutcomeUnknown(
            "The database didn't confirm this in time, so it may have gone through. "
            "Check `/gems history` before trying again."
        )

    async def insert_entries(self, entries: list[Doc], *, session: Any) -> None:
        """Append ledger legs; DuplicateKeyError when the operation's key was recorded already."""
        try:
            await self.ledger.insert_many(entries, ordered=True, session=session)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if errors and errors[0].get("code") == 11000:
                raise DuplicateKeyError(errors[0].get("errmsg", "duplicate key"), 11000) from exc
            raise

    async def credit_many(
        self, guild_id: int, amounts: dict[int, int], at: datetime, *, session: Any
    ) -> None:
        """Add earned GEMS to many accounts in one bulk write."""
        ops = [
            UpdateOne(
                {"guild_id": guild_id, "user_id": user_id},
                {"$inc": {"balance": amount, "held": 0, "lifetime_earned": amount},
                 "$set": {"system": False}},
                upsert=True,
            )
            for user_id, amount in amounts.items()
        ]
        if ops:
            await self.accounts.bulk_write(ops, ordered=False, session=session)

    # --- audit -------------------------------------------------------------------------------
    # Grouping is per guild with a single-field `_id`: nx-27017 does not evaluate a compound
    # `_id: {g: "$guild_id", u: "$user_id"}` (it returns the literal), and this form is valid
    # MongoDB too.
    async def guild_ids(self) -> list[int]:
        """Every guild that has accounts or ledger entries."""
        ids = set(await self.accounts.distinct("guild_id")) | set(await self.ledger.distinct("guild_id"))
        return sorted(ids)

    async def ledger_sums(self, guild_id: int) -> dict[int, tuple[int, int]]:
        """(sum of deltas, sum of held deltas) per user of a guild."""
        cursor = await self.ledger.aggregate(
            [{"$match": {"guild_id": guild_id}},
             {"$group": {"_id": "$user_id", "sum": {"$sum": "$delta"},
                         "held": {"$sum": "$held_delta"}}}]
        )
        return {doc["_id"]: (doc["sum"], doc["held"]) async for doc in cursor}

    def guild_account_pages(self, guild_id: int) -> AsyncIterator[list[Doc]]:
        """Every account of a guild, in pages by user id (bounded memory at any guild size)."""
        return guild_pages(self.accounts, guild_id, "user_id")

    async def minted(self, guild_id: int) -> int:
        """Sum of mint/burn legs of a guild (its supply according to the ledger)."""
        cursor = await self.ledger.aggregate(
            [{"$match": {"guild_id": guild_id, "mint": True}},
             {"$group": {"_id": None, "sum": {"$sum": "$delta"}}}]
        )
        docs = await cursor.to_list()
        return docs[0]["sum"] if docs else 0

    async def unbalanced_operations(self, guild_id: int, limit: int = 50) -> list[Doc]:
        """Operations whose account-to-account legs do not sum to zero."""
        cursor = await self.ledger.aggregate(
            [{"$match": {"guild_id": guild_id, "mint": False}},
             {"$group": {"_id": "$idempotency_key", "sum": {"$sum": "$delta"}}},
             {"$match": {"sum": {"$ne": 0}}},
             {"$limit": limit}]
        )
        return await cursor.to_list()

    # --- insights (economy/insights): day ranges through the (guild_id, at_ms) index ----------
    async def leg_columns_between(self, guild_id: int, start_ms: int, end_ms: int) -> list[Doc]:
        """The legs with `at_ms` in [start_ms, end_ms) as columns: one document per slice of
        the range (none when it has no leg), `{"_id": None, "kind": [...], "user_id": [...],
        ...}` with the fields of LEG_COLUMNS (a missing or null field read as its default); the
        n-th values of a document's columns are one leg's, in no particular leg order.

        One grouped read instead of one document per leg: the embedded store runs the `$group`
        in SQL and returns one document, a fraction of the cost of returning every leg (and
        grouped by nothing, SQLite needs no sorter). Each column is pushed through `$ifNull`, so
        no leg is skipped and the columns stay aligned (`$push` of a missing field adds nothing
        on MongoDB).
        """
        match = {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}
        if end_ms - start_ms > 1 and await count(self.ledger, match) > LEG_COLUMNS_CHUNK:
            # The columns must stay far below MongoDB's 16 MB per document.
            middle = (start_ms + end_ms) // 2
            return (await self.leg_columns_between(guild_id, start_ms, middle)
                    + await self.leg_columns_between(guild_id, middle, end_ms))
        cursor = await self._ledger_plain_ints.aggregate(
            [{"$match": match},
             {"$group": {"_id": None, **{
                 name: {"$push": {"$ifNull": [f"${name}", default]}}
                 for name, default in LEG_COLUMNS.items()}}}]
        )
        return await cursor.to_list()

    async def sums_between(self, guild_id: int, start_ms: int,
                           end_ms: int) -> dict[int, tuple[int, int, int]]:
        """(sum of deltas, sum of held deltas, first `at_ms`) per account over the legs with
        `at_ms` in [start_ms, end_ms)."""
        cursor = await self.ledger.aggregate(
            [{"$match": {"guild_id": guild_id, "at_ms": {"$gte": start_ms, "$lt": end_ms}}},
             {"$group": {"_id": "$user_id", "sum": {"$sum": "$delta"},
                         "held": {"$sum": "$held_delta"}, "first": {"$min": "$at_ms"}}}]
        )
        return {doc["_id"]: (doc["sum"], doc["held"], doc["first"]) async for doc in cursor}

    async def member_entries_between(self, guild_id: int, user_id: int, start_ms: int,
                                     end_ms: int) -> list[Doc]:
        """One member's legs with `at_ms` in [start_ms, end_ms) (their /stats)."""
        return await find_docs(self.ledger, {"guild_id": guild_id, "user_id": user_id,
                                             "at_ms": {"$gte": start_ms, "$lt": end_ms}})

    async def account_guild_ids(self) -> list[int]:
        """Every guild with accounts (one index probe per guild, unlike a `distinct`)."""
        return [guild_id async for guild_id in paging_guild_ids(self.accounts)]

    async def first_entry_ms(self, guild_id: int) -> int | None:
        """When the guild's first leg was written (None: no ledger yet)."""
        docs = await find_docs(self.ledger, {"guild_id": guild_id}, sort={"at_ms": ASCENDING},
                               limit=1)
        return int(docs[0]["at_ms"]) if docs and docs[0].get("at_ms") is not None else None
