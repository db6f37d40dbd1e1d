"""Limited and paged reads stay exact when many documents share their sort key.

MongoDB does not define the order of documents with equal sort keys, and may return them in a
different order on every query, so paging with skip/limit can repeat or skip documents. The
embedded store happens to return ties in insertion order, which hides it. So these tests run the
repositories against a store that orders ties at random on every query (`ties_shuffled`: the
`$match` runs on the store, the `$sort`/`$skip`/`$limit` in Python with ties shuffled first),
and need every sort that pages or limits to end with a unique key (`_id`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from economy.boosts.repo import MultiplierRepo
from economy.marketplace.member_repo import MarketMemberRepo
from economy.marketplace.repo import ListingRepo
from economy.payments.repo import PaymentRepo
from economy.repos.ledger_repo import LedgerRepo
from economy.repos.outbox_repo import OutboxRepo
from economy.repos.settings_repo import SettingsRepo
from economy.seasons.repo import SeasonRepo
from economy.trades.repo import TradeRepo

#: Equal dates (a tie) of the type the bot writes.
AT = datetime(2026, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.timeout(120)

G, USER = 4242, 7
N = 30


class _Docs:
    def __init__(self, docs: list) -> None:
        self._docs = docs

    async def to_list(self, length: int | None = None) -> list:
        return self._docs


def _sorted(docs: list, spec: dict) -> list:
    docs = list(docs)
    random.shuffle(docs)  # ties in a new order on every query
    for field, direction in reversed(list(spec.items())):  # stable sorts, last key first
        docs.sort(key=lambda d, f=field: (d.get(f) is not None, d.get(f)), reverse=direction < 0)
    return docs


@pytest.fixture
def ties_shuffled(monkeypatch):
    """Pipelines `$match, $sort[, $skip][, $limit]` with ties in random order, as MongoDB may."""
    original = AsyncCollection.aggregate

    async def aggregate(self, pipeline, *args, **kwargs):
        stages = [next(iter(stage)) for stage in pipeline]
        if len(stages) < 2 or stages[0] != "$match" or stages[1] != "$sort" or \
                not set(stages[2:]) <= {"$skip", "$limit"}:
            return await original(self, pipeline, *args, **kwargs)
        docs = await (await original(self, pipeline[:1], *args, **kwargs)).to_list()
        docs = _sorted(docs, pipeline[1]["$sort"])
        for stage in pipeline[2:]:
            docs = docs[stage["$skip"]:] if "$skip" in stage else docs[:stage["$limit"]]
        return _Docs(docs)

    monkeypatch.setattr(AsyncCollection, "aggregate", aggregate)


async def test_the_shuffling_store_really_reorders_ties(store, ties_shuffled):
    col = store.db["probe"]
    await col.insert_many([{"guild_id": G, "k": 1, "i": i} for i in range(N)])
    orders = set()
    for _ in range(5):
        cursor = await col.aggregate([{"$match": {"guild_id": G}}, {"$sort": {"k": 1}}])
        orders.add(tuple(d["i"] for d in await cursor.to_list()))
    assert len(orders) > 1


async def test_paging_through_equal_keys_sees_each_document_once(store, ties_shuffled):
    ledger = LedgerRepo(store.db)
    await store.db["ledger"].insert_many(
        [{"guild_id": G, "user_id": USER, "at": AT, "delta": i} for i in range(N)])
    seen = []
    for page in range(0, N, 7):
        seen += [d["delta"] for d in await ledger.history(G, USER, skip=page, limit=7)]
    assert sorted(seen) == list(range(N))

    listings = ListingRepo(store.db)
    await store.db["listings"].insert_many(
        [{"guild_id": G, "listing_id": i, "seller_id": USER, "status": "expired",
          "created_ts": 5, "sold_ts": 5, "expires_ts": 5, "category": "rings",
          "condition": "new", "sold_price_gems": 1} for i in range(N)])
    pages = []
    for _ in range(3):  # a sweep that re-reads its first batch gets the same batch
        pages.append([d["listing_id"] for d in await listings.due("expired", "expires_ts", 10,
                                                                   limit=10)])
    assert pages[0] == pages[1] == pages[2]


@pytest.mark.planted_documents  # partial documents: only the sort keys matter here
async def test_every_limited_read_is_the_same_on_every_query(store, ties_shuffled):
    db = store.db
    await db["listings"].insert_many(
        [{"guild_id": G, "listing_id": i, "seller_id": USER, "status": "sold",
          "created_ts": 5, "sold_ts": 5, "category": "rings", "condition": "new",
          "sold_price_gems": 100 + i} for i in range(N)])
    await db["wishlists"].insert_many(
        [{"guild_id": G, "user_id": USER, "listing_id": i, "added_at": 1} for i in range(N)])
    await db["market_alert_outbox"].insert_many(
        [{"guild_id": G, "user_id": 1000 + i, "listing_id": i, "due_ms": 1} for i in range(N)])
    await db["settings_history"].insert_many(
        [{"guild_id": G, "at": AT, "key": f"k{i}"} for i in range(N)])
    await db["trade_ratings"].insert_many(
        [{"guild_id": G, "ratee_id": USER, "trade_id": i, "rater_id": i, "at": AT}
         for i in range(N)])
    await db["audit_log"].insert_many([{"guild_id": G, "at": AT, "n": i} for i in range(N)])
    await db["outbox"].insert_many(
        [{"guild_id": G, "status": "pending", "shard": 0, "created_ms": 1, "n": i}
         for i in range(N)])
    await db["multipliers"].insert_many(
        [{"_id": f"{G}:b{i}", "guild_id": G, "ends_ms": 10, "n": i} for i in range(N)])
    await db["season_results"].insert_many(
        [{"guild_id": G, "ends_ms": 10, "n": i} for i in range(N)])
    await db["pay_events"].insert_many(
        [{"guild_id": G, "received_ms": 10, "n": i} for i in range(N)])

    listings, members = ListingRepo(db), MarketMemberRepo(db, ListingRepo(db))
    trades, payments = TradeRepo(db), PaymentRepo(db)
    reads = {
        "listings by seller": lambda: listings.by_seller(G, USER, ("sold",), limit=10),
        "sold prices": lambda: listings.sold_prices(G, "rings", ("new",), limit=10),
        "wishlist": lambda: members.wishes_of(G, USER, limit=10),
        "alert digests due": lambda: members.due_alert_members(5, limit=10),
        "settings history": lambda: SettingsRepo(db).history(G, limit=10),
        "reviews": lambda: trades.reviews_for(G, USER, limit=10),
        "audit log": lambda: trades.audit_entries(G, limit=10),
        "outbox": lambda: OutboxRepo(db).pending(0, limit=10),
        "boosts": lambda: MultiplierRepo(db).recent(G, 0, limit=10),
        "season results": lambda: SeasonRepo(db).results_of(G, limit=10),
        "last payment event": lambda: payments.last_event(G),
    }
    unstable = []
    for name, read in reads.items():
        first = await read()
        for _ in range(4):
            if await read() != first:
                unstable.append(name)  # a different page on another query
                break
    assert unstable == []
