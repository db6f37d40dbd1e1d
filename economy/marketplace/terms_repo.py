"""`listing_terms`: one posting per (active listing, keyword), the index behind keyword search.

Why a collection: the embedded nx-27017 store does not index array fields, so `keywords: {$all}`
on `listings` walks the guild in sort order and a rare word scans every active listing (measured
~600 ms at 100,000 listings). A posting carries the listing's filter and sort fields, so a
one-word search is an equality `$match` on (guild_id, term) + an index-backed `$sort`/`$skip`/
`$limit`, and its count is a capped `$count` over the same index range, on both stores. A posting
also carries the listing's whole keyword set (`w`, see `words_filter`), so a multi-word search is
the same two reads over the rarest word's postings with the other words as equality filters
(before: when every word was common, a `$all` walk over `listings`, 391/423 ms p50/p99 at 100,000
listings). Cost: a posting grows by the listing's keyword set (at most KEYWORDS_MAX words).

Invariant: the postings of a guild are exactly {(listing, word) : listing is active, word in its
keywords}, with the listing's current filter/sort fields. Every write that changes a listing's
status or one of those fields calls `sync` (or `set_popularity`) in the SAME transaction, including
escrow's reserve/mark_sold/unreserve. Postings exist only while a listing is active, so the
collection stays as small as the live market (sold/expired history does not grow it).

nx-27017 notes (each form below is also the ordinary MongoDB form):
- Writes with a filter (`update_*`, `delete_*`, `find_one_and_*`) are translated to SQL that
  cannot use an index (`x = v OR EXISTS(json_each ...)` for array semantics), so they scan the
  collection (measured ~1 s per `delete_many` at 700,000 postings). Filters on `_id` use the
  primary-key column. So a posting's `_id` is deterministic, "guild:listing:word", and postings are
  only ever written and checked by `_id`.
- `$in` inside a pipeline `$match` is a per-row json_each test, never an index lookup, so the
  listings behind a page of postings are a `find` on `_id: {$in: [...]}` (primary key on both
  stores, `ListingRepo.by_postings`).
- Every aggregate first counts the whole collection (to estimate its result size), so each
  pipeline on postings costs a fixed ~15 ms at 700,000 postings; the search keeps their number low.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from economy.repos.base import Database, Doc, find_docs

#: Listing fields copied onto each posting (filters and sort keys of a search).
#: (Not seller_id: a search by seller reads that seller's listings, never postings.)
POSTING_FIELDS = ("category", "condition", "price_gems", "price_usd_cents", "listed_ts",
                  "popularity")


#: Each posting carries the set of ALL its listing's keywords as a subdocument {word: 1}, so "the
#: postings of word A whose listing also has words B and C" is an equality filter
#: (`w.B: 1, w.C: 1`) that the store evaluates while it walks A's (guild_id, term, sort key)
#: index range: the count is a capped `$count` and a page is `$sort`/`$skip`/`$limit`, exactly
#: like a one-word search, on both stores. (nx-27017 cannot evaluate `$all` on arrays or
#: `$bitsAllSet` in SQL: both fall back to Python over the whole collection.) Keywords are
#: tokens of `[a-z0-9]`, so they are safe field names on both stores.
WORDS_FIELD = "w"


def words_filter(terms: Iterable[str]) -> dict[str, Any]:
    """Posting filter: the posting's listing has every one of `terms` (exact)."""
    return {f"{WORDS_FIELD}.{term}": 1 for term in terms}


def posting_id(guild_id: int, listing_id: int, term: str) -> str:
    """The deterministic `_id` of a posting."""
    return f"{guild_id}:{listing_id}:{term}"


def postings_of(listing: Doc | None) -> list[Doc]:
    """The postings a listing document should have (none unless it is active)."""
    if not listing or listing.get("status") != "active":
        return []
    guild_id, listing_id = listing["guild_id"], listing["listing_id"]
    terms = list(dict.fromkeys(listing.get("keywords") or ()))
    base = {**{f: listing.get(f) for f in POSTING_FIELDS}, WORDS_FIELD: dict.fromkeys(terms, 1)}
    return [{"_id": posting_id(guild_id, listing_id, term), "guild_id": guild_id, "term": term,
             "listing_id": listing_id, "lid": listing["_id"], **base}
            for term in terms]


class ListingTerms:
    """Reads and writes of `listing_terms`; writes always run inside the caller's session."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.col = db["listing_terms"]

    # --- keeping postings in step with listings ------------------------------------------------
    async def sync(self, before: Doc | None, after: Doc | None, *, session: Any) -> None:
        """Make the postings of one listing match `after` (it was `before`), inside `session`."""
        old, new = postings_of(before), postings_of(after)
        if old == new:
            return
        ids = list(dict.fromkeys([d["_id"] for d in old] + [d["_id"] for d in new]))
        await self.col.delete_many({"_id": {"$in": ids}}, session=session)
        if new:
            await self.col.insert_many(new, ordered=True, session=session)

    async def set_popularity(self, listing: Doc | None, *, session: Any) -> None:
        """Copy an active listing's new popularity onto its postings."""
        postings = postings_of(listing)
        if postings:
            await self.col.update_many({"_id": {"$in": [d["_id"] for d in postings]}},
                                       {"$set": {"popularity": listing["popularity"]}},
                                       session=session)

    # --- search --------------------------------------------------------------------------------
    def _match(self, guild_id: int, term: str, filters: Doc) -> Doc:
        return {"guild_id": guild_id, "term": term, **filters}

    async def count(self, guild_id: int, term: str, filters: Doc, cap: int) -> int:
        """Active listings with `term` matching `filters`, counting at most `cap`."""
        cursor = await self.col.aggregate([{"$match": self._match(guild_id, term, filters)},
                                           {"$limit": cap}, {"$count": "n"}])
        docs = await cursor.to_list()
        return docs[0]["n"] if docs else 0

    async def word_count(self, guild_id: int, term: str) -> int:
        """How many active listings of the guild have `term` (exact).

        Deliberately without a `$limit` cap: a bare `$match` + `$count` on (guild_id, term) is an
        index-only count on both stores (nx-27017: one SQL COUNT over the index range; MongoDB: a
        covered scan of the index range), measured at 100,000 listings on the embedded store as 1.6 ms for a word with
        10,904 postings and 6.9 ms for one with 79,770, against 13.8 and 60 ms capped at 20,001
        (a `$limit` makes nx read the documents). With filters the capped count stays faster.
        """
        cursor = await self.col.aggregate([{"$match": {"guild_id": guild_id, "term": term}},
                                           {"$count": "n"}])
        docs = await cursor.to_list()
        return docs[0]["n"] if docs else 0

    async def page(self, guild_id: int, term: str, filters: Doc, sort: dict[str, int], *,
                   skip: int, limit: int) -> list[Doc]:
        """Postings of `term` matching `filters`, in `sort` order, paged (index walk)."""
        return await find_docs(self.col, self._match(guild_id, term, filters), sort=sort,
                               skip=skip, limit=limit)
