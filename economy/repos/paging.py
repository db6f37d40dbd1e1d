"""Linear passes over a whole collection: index-backed pages, a bounded batch in memory at a time.

Migrations, backfills and audits must not load a collection at once (memory) nor page in a way
that re-sorts the collection per page (time). On the embedded nx-27017 store `find(...).sort(_id)`
sorts in Python on every page (quadratic: 587 s to backfill 100,000 listings), `_id` range
filters inside pipelines are wrong for ObjectIds, and a streamed `find` is materialized whole in
the server before its first batch. So a pass walks the collection guild by guild through a unique
(guild_id, key) index: each page is an equality `$match` on guild_id plus a `$gt` on the key,
`$sort` on the key and `$limit` -- an index range read on both MongoDB and nx-27017. The guilds
themselves are found the same way (the next guild_id above the last one, one index probe each).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from economy.repos.base import Doc, find_docs

log = logging.getLogger(__name__)

BATCH = 1000
#: A progress line is logged every this many documents.
PROGRESS_EVERY = 10_000


async def guild_ids(collection: AsyncCollection) -> AsyncIterator[int]:
    """Every distinct guild_id of `collection`, ascending (one index probe per guild)."""
    last: Any = -(2**63)  # below every int64: documents without a guild_id are not walked
    while True:
        match: Doc = {"guild_id": {"$gt": last}}
        docs = await find_docs(collection, match, sort={"guild_id": 1}, limit=1)
        if not docs:
            return
        last = docs[0]["guild_id"]
        yield last


async def pages(collection: AsyncCollection, key: str, *, batch: int = BATCH,
                label: str = "", progress_every: int | None = None, where: Doc | None = None,
                ) -> AsyncIterator[list[Doc]]:
    """Every document of `collection` in pages of at most `batch`, guild by guild in `key` order.

    `collection` needs an index on (guild_id, key) and `key` must be unique within a guild
    (listing_id, trade_id, ...). `where` narrows the pass to the documents it matches, evaluated
    by the store during the same walk, so the others are never sent. Keep it to equality filters:
    nx-27017 evaluates `$exists` in Python (5 s per walk of 120,000 listings) and drops the keys
    after a leading `$or` (tests/core/test_store_fidelity.py). Documents written to other collections
    meanwhile are fine; documents of this collection inserted behind the walk are not revisited.
    Logs a progress line (`label`) every `progress_every` documents.
    """
    progress_every = progress_every or PROGRESS_EVERY
    seen = 0
    next_report = progress_every
    async for guild_id in guild_ids(collection):
        async for docs in guild_pages(collection, guild_id, key, batch=batch, where=where):
            seen += len(docs)
            if seen >= next_report:
                log.info("%s: %d documents", label or collection.name, seen)
                next_report = (seen // progress_every + 1) * progress_every
            yield docs
    log.info("%s: done, %d documents", label or collection.name, seen)


async def guild_pages(collection: AsyncCollection, guild_id: int, key: str, *,
                      batch: int = BATCH, where: Doc | None = None,
                      ) -> AsyncIterator[list[Doc]]:
    """One guild's documents (those `where` matches) in `key` order, in pages of at most
    `batch`: index range reads on (guild_id, `key`), `key` unique within the guild."""
    last: Any = None
    while True:
        match: Doc = {**(where or {}), "guild_id": guild_id}
        if last is not None:
            match[key] = {"$gt": last}
        docs = await find_docs(collection, match, sort={key: 1}, limit=batch)
        if not docs:
            return
        last = docs[-1][key]
        yield docs
        if len(docs) < batch:
            return
