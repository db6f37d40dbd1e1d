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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

T = TypeVar("T")

Doc = dict[str, Any]


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
        self._lock = write_lock

    @property
    def serializes_writes(self) -> bool:
        """True when every write is serialized (embedded store)."""
        return self._lock is not None

    def __getitem__(self, collection: str) -> AsyncCollection:
        return self.raw[collection]

    @contextlib.asynccontextmanager
    async def _write_guard(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield

    async def transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run `work(session)` in one multi-document transaction and return its result.

        `work` may be called more than once (transient errors are retried), so it must only
        touch the database through the session and have no other side effects.
        """
        async with self._write_guard(), self.client.start_session() as session:
            return await session.with_transaction(work)

    async def write(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a single write (or a bulk write) outside a transaction, serialized when needed.

        A write must not depend on an unlocked read: put the condition in the write's filter.
        """
        async with self._write_guard():
            return await work()
