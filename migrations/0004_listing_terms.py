"""Keyword postings (`listing_terms`): indexes, then one posting per (active listing, keyword).

See economy/repos/listing_terms.py. Each search sort has an index whose prefix is (guild_id, term)
and whose next key is the sort key, so a one-word search page is an index walk on both MongoDB and
nx-27017 (which keeps only ascending index keys; SQLite walks them backwards for descending sorts).
The backfill is re-runnable: it replaces the postings of each active listing by `_id`.
"""

from pymongo import ASCENDING, IndexModel

from economy.repos.listing_terms import postings_of

BATCH = 1000


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

    Pages through active listings by `_id` (primary key) and replaces their postings by `_id`, so
    running it again, or after an interruption, converges to the same postings.
    """
    fields = {"guild_id": 1, "listing_id": 1, "status": 1, "keywords": 1,
              "seller_id": 1, "category": 1, "condition": 1, "price_gems": 1,
              "price_usd_cents": 1, "listed_ts": 1, "popularity": 1}
    written, last = 0, None
    while True:
        match: dict = {"status": "active"}
        if last is not None:
            match["_id"] = {"$gt": last}
        cursor = db["listings"].find(match, fields).sort("_id", ASCENDING).limit(batch)
        listings = await cursor.to_list()
        if not listings:
            return written
        last = listings[-1]["_id"]
        postings = [p for doc in listings for p in postings_of(doc)]
        if postings:
            await db["listing_terms"].delete_many({"_id": {"$in": [p["_id"] for p in postings]}})
            await db["listing_terms"].insert_many(postings, ordered=False)
            written += len(postings)


async def up(db) -> None:
    """Create the posting indexes and backfill postings of the listings already active."""
    await create_indexes(db)
    await backfill(db)
