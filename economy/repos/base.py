"""The database handle every repository uses, and the one place writes are serialized.

The embedded nx-27017 server implements a transaction as a SQLite SAVEPOINT on a shared
connection, so concurrent transactions are not isolated (see shared/notes/store-fidelity.md:
a client can be told "failed" for money that moved). In embedded mode this handle therefore holds
one asyncio lock for the whole of every transaction and for every write outside one. Against real
MongoDB no lock is taken: conflicting transactions raise TransientTransactionError and
`with_transaction` retries them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, ReturnDocument, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from economy.core.errors import AlreadyRecorded
from economy.core.observe import NULL_OBSERVER, Observer

T = TypeVar("T")

Doc = dict[str, Any]
MAJORITY = WriteConcern("majority")

#: Error labels after which a transaction's outcome is unknown (it may have committed).
AMBIGUOUS_LABELS = ("UnknownTransactionCommitResult",)


def outcome_unknown(error: BaseException) -> bool:
    """True when `error` leaves it open whether a transaction committed.

    PyMongo labels a failed commit UnknownTransactionCommitResult (the server may have applied
    it); a network error during the commit carries the same label.
    """
    has_label = getattr(error, "has_error_label", None)
    return bool(has_label) and any(has_label(label) for label in AMBIGUOUS_LABELS)


@contextlib.contextmanager
def recorded_once() -> Iterator[None]:
    """Turn the store's duplicate-key error inside the block into the domain's AlreadyRecorded
    (a unique record exists already), so services never handle driver errors."""
    try:
        yield
    except DuplicateKeyError as error:
        raise AlreadyRecorded(str(error)) from error


class Database:
    """A MongoDB database plus the write discipline of the deployment it lives on.

    `write_lock` is given for the embedded server (one bot process per data file) and is None
    for MongoDB. Databases opened from one embedded client must share that client's lock.
    """

    def __init__(
        self, client: AsyncMongoClient, name: str, *, write_lock: asyncio.Lock | None
    ) -> None:
        self.client = client
        self.name = name
        self.raw: AsyncDatabase = client[name]
        self._collections: dict[str, AsyncCollection] = {}
        self._lock = write_lock
        #: Told about retries and store errors (bot.metrics sets it; no-op by default).
        self.observer: Observer = NULL_OBSERVER

    @property
    def serializes_writes(self) -> bool:
        """True when every write is serialized (embedded store)."""
        return self._lock is not None

    async def ping(self) -> None:
        """Raise a PyMongoError unless the deployment answers `ping`."""
        await self.client.admin.command("ping")

    def __getitem__(self, collection: str) -> AsyncCollection:
        # One handle per name: PyMongo builds a new AsyncCollection (codec, read/write concern
        # and preference copied) on every `raw[name]`, and repositories ask per call.
        handle = self._collections.get(collection)
        if handle is None:
            handle = self._collections[collection] = self.raw[collection]
        return handle

    @contextlib.asynccontextmanager
    async def _write_guard(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield

    @contextlib.asynccontextmanager
    async def quiesced(self) -> AsyncIterator[None]:
        """No write of this process runs inside the block (embedded store: holds the write lock).

        The embedded store has no read isolation; a reader that must see no half-done transaction
        (the audit of a running bot) reads inside this block. On MongoDB it is a no-op.
        """
        async with self._write_guard():
            yield

    async def transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run `work(session)` in one multi-document transaction and return its result.

        `work` may be called more than once (transient errors are retried), so it must only
        touch the database through the session and have no other side effects.

        `work` must only write (conditions go in the write filters); do the reads before. The
        embedded server does not start a transaction on an aggregate: a transaction whose first
        command is a read commits its later writes one by one and then fails to commit
        (probed on nx-27017 0.8.1; pinned by tests/core/test_store_fidelity.py).
        """
        attempts = 0

        async def counted(session: AsyncClientSession) -> T:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self.observer.transaction_retry()
            return await work(session)

        async with self._observed("transaction"), self._write_guard(), \
                self.client.start_session() as session:
            # On MongoDB a commit acknowledged by the majority cannot be rolled back by a
            # failover; the embedded server has one node, where the default is the same thing.
            concern = None if self.serializes_writes else MAJORITY
            return await session.with_transaction(counted, write_concern=concern)

    async def write(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a single write (or a bulk write) outside a transaction, serialized when needed.

        A write must not depend on an unlocked read: put the condition in the write's filter.
        """
        async with self._observed("write"), self._write_guard():
            return await work()

    @contextlib.asynccontextmanager
    async def _observed(self, operation: str) -> AsyncIterator[None]:
        # A duplicate key is an expected answer (idempotency), not a store error.
        try:
            yield
        except DuplicateKeyError:
            raise
        except BulkWriteError as error:
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])) or \
                    not error.details.get("writeErrors"):
                self.observer.store_error(operation)
            raise
        except PyMongoError:
            self.observer.store_error(operation)
            raise


async def raw_transaction(raw: AsyncDatabase,
                          work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    """`Database.transaction` for code handed the raw PyMongo database (migrations): the same
    retries of transient errors and the same majority commit on MongoDB.

    Migrations run before the bot serves, in one process, so no write lock is taken.
    """
    return await Database(raw.client, raw.name, write_lock=None).transaction(work)


# Reads go through aggregation pipelines that start with an equality `$match`. On MongoDB this is
# the same index-backed query as `find`; on the embedded nx-27017 server `find`/`find_one` and
# `count_documents` scan the whole collection (measured: 8-10 ms per lookup at 2,000 ledger rows,
# 1.7 s to count 50,000 accounts) while `$match`/`$sort`/`$skip`/`$limit`/`$count` pipelines use
# the indexes (about 1 ms and 8 ms). Do not add `$project` after `$limit` (nx falls back to a scan).
# Range operators on datetimes are wrong inside nx pipelines (`$gt` matches everything, `$lt`
# nothing); `find` compares them correctly. Filter date ranges with `find` or in Python.
# Writing datetimes: nx-27017 stores a top-level (or dotted) datetime written by `$set` as a
# string; inserts, replacements and datetimes inside a `$set` subdocument keep their type. So
# dates that change after insert live in a subdocument written as a whole.
def guild_match(guild_id: int) -> Doc:
    """Every document of one guild: its `guild_id`, or a string `_id` that starts with
    `<guild_id>:` (the per-guild counters and keyed documents carry no guild_id field)."""
    return {"$or": [{"guild_id": guild_id}, {"_id": {"$regex": f"^{guild_id}:"}}]}


async def find_docs(
    collection: AsyncCollection, match: Doc, *, sort: Doc | None = None, skip: int = 0,
    limit: int = 0, session: AsyncClientSession | None = None,
) -> list[Doc]:
    """Documents matching `match`, optionally sorted and paged (index-backed on both stores)."""
    pipeline: list[Doc] = [{"$match": match}]
    if sort:
        pipeline.append({"$sort": sort})
    if skip:
        pipeline.append({"$skip": skip})
    if limit:
        pipeline.append({"$limit": limit})
    cursor = await collection.aggregate(pipeline, session=session)
    return await cursor.to_list()


async def find_first(
    collection: AsyncCollection, match: Doc, *, session: AsyncClientSession | None = None
) -> Doc | None:
    """The first document matching `match`, or None."""
    docs = await find_docs(collection, match, limit=1, session=session)
    return docs[0] if docs else None


async def count(
    collection: AsyncCollection, match: Doc, *, session: AsyncClientSession | None = None
) -> int:
    """How many documents match (index-backed on both stores)."""
    cursor = await collection.aggregate([{"$match": match}, {"$count": "n"}], session=session)
    docs = await cursor.to_list()
    return docs[0]["n"] if docs else 0


async def next_in_sequence(db: Database, counters: AsyncCollection, match: Doc) -> int:
    """Allocate the next number of the counter document `match` (created at 1 on first use).

    A guarded `$inc` (gaps are possible, reuse never). A guild's first two allocations at once
    can both try to insert the counter; the one that loses the unique key is retried once as a
    plain `$inc` (MongoDB retries such an upsert itself only for some filters, the embedded store
    never).
    """

    async def bump() -> Doc:
        return await db.write(lambda: counters.find_one_and_update(
            match, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER))

    try:
        doc = await bump()
    except DuplicateKeyError:
        doc = await bump()
    return int(doc["seq"])
