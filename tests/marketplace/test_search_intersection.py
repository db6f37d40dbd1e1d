"""Multi-word keyword search (postings of the rarest word filtered by `w.<word>`) against a
brute-force reference computed in Python from the listing documents.

Listings are written straight into `listings` and `listing_terms` (the shape the service writes),
so hypothesis can try many keyword sets, filters, sorts and pages quickly; the count cap is
lowered so capped totals are exercised with few listings.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from economy.marketplace import search as mp
from economy.marketplace.models import ListingQuery
from economy.marketplace.terms_repo import postings_of, words_filter

pytestmark = pytest.mark.timeout(120)

# Tokens as `tokens()` makes them: [a-z0-9], two characters or more (digits first included).
VOCAB = ["sapphire", "ruby", "gold", "14k", "18", "opal", "a1", "deco"]
SORTS = {"newest": (("listed_ts", "listing_id"), True),
         "popular": (("popularity", "listing_id"), True),
         "price_asc": (("price_gems", "listing_id"), False),
         "price_desc": (("price_gems", "listing_id"), True)}
_guilds = itertools.count(900_000)

listing_st = st.fixed_dictionaries({
    "keywords": st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6, unique=True),
    "status": st.sampled_from(["active", "active", "active", "sold", "expired"]),
    "category": st.sampled_from(["rings", "necklaces"]),
    "condition": st.sampled_from(["new", "good"]),
    "price_gems": st.one_of(st.none(), st.integers(1, 50)),
    "listed_ts": st.integers(0, 20),
    "popularity": st.integers(0, 5),
})
query_st = st.fixed_dictionaries({
    "keywords": st.lists(st.sampled_from(VOCAB), min_size=2, max_size=4, unique=True),
    "sort": st.sampled_from(sorted(SORTS)),
}, optional={
    "category": st.sampled_from(["rings", "necklaces"]),
    "condition": st.sampled_from(["new", "good"]),
    "price_min": st.integers(1, 30),
    "price_max": st.integers(20, 50),
})


def brute_force(listings: list[dict], query: ListingQuery, page: int, page_size: int,
                cap: int) -> tuple[int, int, list[int]]:
    """(total, page, listing ids) the search must return, computed from the documents."""
    rows = [d for d in listings if d["status"] == "active"
            and set(query.keywords) <= set(d["keywords"])
            and (not query.category or d["category"] == query.category)
            and (not query.condition or d["condition"] == query.condition)]
    if query.sort in ("price_asc", "price_desc") or query.price_min or query.price_max:
        low = max(1, query.price_min or 1)
        rows = [d for d in rows if d["price_gems"] is not None and d["price_gems"] >= low
                and (query.price_max is None or d["price_gems"] <= query.price_max)]
    fields, descending = SORTS[query.sort]
    rows.sort(key=lambda d: tuple(d[f] for f in fields), reverse=descending)
    total = min(len(rows), cap)
    page = min(max(1, page), max(1, -(-total // page_size)))
    return total, page, [d["listing_id"] for d in rows[(page - 1) * page_size: page * page_size]]


async def seed(db, guild_id: int, listings: list[dict]) -> list[dict]:
    docs = []
    for i, spec in enumerate(listings, start=1):
        docs.append({"guild_id": guild_id, "listing_id": i, "seller_id": 5, "title": "x",
                     "description": "x", "tags": [], "specs": [], "price_usd_cents": None,
                     "buyer_id": None, "trade_id": None, "images": [], "created_ts": 0,
                     "updated_ts": 0, "version": 0, "expires_ts": 10**13, "remind_ts": 10**13,
                     "reminded": False, "sold_ts": None, "views": 0, "wishlist_count": 0,
                     **spec})
    if docs:
        await db["listings"].insert_many(docs)
    postings = [p for doc in docs for p in postings_of(doc)]
    if postings:
        await db["listing_terms"].insert_many(postings)
    return docs


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(listings=st.lists(listing_st, min_size=0, max_size=25),
       queries=st.lists(query_st, min_size=1, max_size=4),
       page=st.integers(1, 4), cap=st.sampled_from([4, 1000]),
       sparse_read=st.sampled_from([2, 200]))
@pytest.mark.slow
async def test_multi_word_search_equals_brute_force(services, monkeypatch, listings, queries,
                                                    page, cap, sparse_read):
    monkeypatch.setattr(mp, "COUNT_CAP", cap)
    monkeypatch.setattr(mp, "SPARSE_READ", sparse_read)
    guild_id = next(_guilds)
    docs = await seed(services.db.raw, guild_id, listings)
    for q in queries:
        query = ListingQuery(**q)
        got = await services.marketplace.search.search(guild_id, query, page=page, page_size=3)
        want = brute_force(docs, query, page, 3, cap)
        assert (got.total, got.page, [r.listing_id for r in got.rows]) == want, q
        assert got.total_capped == (got.total >= cap)
        assert got.plan.startswith("postings of rarest word")


async def test_the_rarest_word_is_walked_and_the_others_filter(services):
    guild_id = next(_guilds)
    common = [{"keywords": ["gold", "ruby"] + (["sapphire"] if i % 3 == 0 else []),
               "status": "active", "category": "rings", "condition": "new", "price_gems": i + 1,
               "listed_ts": i, "popularity": 0} for i in range(12)]
    docs = await seed(services.db.raw, guild_id, common)
    query = ListingQuery(keywords=("gold", "sapphire", "ruby"))
    got = await services.marketplace.search.search(guild_id, query, page_size=10)
    assert got.plan == ("postings of rarest word 'sapphire' (4) filtered by w.gold, w.ruby, "
                        "one walk")
    assert [r.listing_id for r in got.rows] == brute_force(docs, query, 1, 10, 1000)[2]


def test_words_filter_is_plain_equality():
    """The store must be able to evaluate it in its index walk (no `$all`, no bit operators)."""
    assert words_filter(["14k", "ruby"]) == {"w.14k": 1, "w.ruby": 1}
    posting = postings_of({"_id": 1, "guild_id": 1, "listing_id": 2, "status": "active",
                           "keywords": ["ruby", "14k", "ruby"]})
    assert [p["w"] for p in posting] == [{"ruby": 1, "14k": 1}] * 2
