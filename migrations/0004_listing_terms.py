"""Keyword postings (`listing_terms`): indexes, then one posting per (active listing, keyword).

See economy/marketplace/terms_repo.py. Each search sort has an index whose prefix is (guild_id, term)
and whose next key is the sort key, so a one-word search page is an index walk on both MongoDB and
nx-27017 (which keeps only ascending index keys; SQLite walks them backwards for descending sorts).
The backfill is re-runnable: it replaces the postings of each active listing by `_id`. The
postings are built by the frozen copy in migrations/_frozen/listing_terms.py, so this migration
writes the same postings whatever the live repository does later.
"""

from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError

from economy.repos.base import find_first, raw_transaction
from economy.repos.paging import pages
from migrations._frozen.listing_terms import postings_of

BATCH = 1000
ACTIVE = {"status": "active"}
#: Postings written per transaction (a listing has at most 64 keywords, so a page of listings
#: can hold 64,000 postings, each carrying the listing's keyword set).
POSTINGS_PER_WRITE = 5000


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def create_indexes(db) -> None:
    """The posting indexes (re-runnable)."""
    await db["listing_terms"].create_indexes([
        _ix("guild_id", "term", "listed_ts", "listing_id", name="term_newest"),
        _ix("guild_id", "term", "price_gems", "listing_id", name="term_price_gems"),
        _ix("guild_id", "term", "price_usd_cents", "listing_id", name="term_price_usd"),
        _ix("guild_id", "term", "popularity", "listing_id", name="term_popular"),
    ])


async def backfill(db, *, batch: int = BATCH) -> int:
    """Write the postings of every active listing (all guilds); returns how many were written.

    One linear pass (economy/repos/paging.py: index-backed pages by guild and listing id, a
    progress line every 10,000 listings); each page's postings are replaced by `_id`, so running
    it again, or after an interruption, converges to the same postings.
    """
    written = 0
    # Into an empty collection (the first backfill) nothing needs replacing: plain inserts.
    fresh = await find_first(db["listing_terms"], {}) is None
    postings: list = []
    # Only active listings have postings: the others are never sent.
    async for listings in pages(db["listings"], "listing_id", batch=batch, where=ACTIVE,
                                label="postings backfill: active listings read"):
        for doc in listings:
            postings += postings_of(doc)
            # Bounded memory and transaction size even when listings have many keywords.
            if len(postings) >= POSTINGS_PER_WRITE:
                written += await _write(db, postings, fresh=fresh)
                postings = []
    if postings:
        written += await _write(db, postings, fresh=fresh)
    return written


async def _write(db, postings: list, *, fresh: bool) -> int:
    try:
        await _replace(db, postings, delete=not fresh)
    except BulkWriteError:  # a posting appeared meanwhile: replace these by `_id`
        await _replace(db, postings, delete=True)
    return len(postings)


async def _replace(db, postings: list, *, delete: bool) -> None:
    """Replace these postings by `_id`, in one transaction per page.

    One commit per page instead of one per document: about half the time on the on-disk
    embedded store, where each autocommitted insert is its own SQLite commit.
    """
    col = db["listing_terms"]

    async def work(session) -> None:
        if delete:
            await col.delete_many({"_id": {"$in": [p["_id"] for p in postings]}},
                                  session=session)
        await col.insert_many(postings, ordered=False, session=session)

    # The same helper as every other transaction: retries, and a majority commit on MongoDB.
    await raw_transaction(db, work)


async def up(db) -> None:
    """Backfill the postings of the listings already active, and create the posting indexes.

    Into an empty collection the postings are written first and indexed after: one sorted build
    per index instead of four index inserts per posting (measured at 300,000 postings on the
    embedded store: 0.084 against 0.106 ms per posting; MongoDB likewise recommends building
    indexes after a bulk load). An interrupted run finds postings, so it indexes first and lets the
    backfill replace them by `_id` (the `_id` index exists with the collection).
    """
    if await find_first(db["listing_terms"], {}) is None:
        await backfill(db)
        await create_indexes(db)
    else:
        await create_indexes(db)
        await backfill(db)
