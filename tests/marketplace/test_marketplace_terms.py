"""Keyword postings (`listing_terms`) stay in step with listings through every transition.

After each step the postings must equal what the active listings imply, and keyword searches
through the postings must return what the `keywords: {$all}` walk over `listings` returns.
"""

from __future__ import annotations

import importlib
import random

import pytest

from economy.core.actor import Actor
from economy.marketplace import search as mp
from economy.marketplace.models import ListingQuery
from economy.marketplace.repo import ListingRepo
from economy.marketplace.terms_repo import postings_of
from economy.repos.base import find_docs
from economy.services import build_services

pytestmark = pytest.mark.timeout(120)

G = 2001
ALICE, BOB, CAROL = 21, 22, 23
terms_migration = importlib.import_module("migrations.0004_listing_terms")


async def postings(services) -> list[dict]:
    docs = await find_docs(services.db["listing_terms"], {"guild_id": G},
                           sort={"listing_id": 1, "term": 1})
    return docs


async def expected(services) -> list[dict]:
    listings = await find_docs(services.db["listings"], {"guild_id": G, "status": "active"})
    want = [p for doc in listings for p in postings_of(doc)]
    return sorted(want, key=lambda p: (p["listing_id"], p["term"]))


async def assert_in_step(services) -> None:
    assert await postings(services) == await expected(services)


async def reference(services, query: ListingQuery, page: int = 1):
    """(total, ids) of the pre-postings plan: `$all` over `listings` in sort order."""
    ms = services.marketplace
    match, sort = ms.search._plan(G, query)
    total = await ListingRepo(services.db).count_capped(match, mp.COUNT_CAP)
    docs = await ListingRepo(services.db).search(match, sort, skip=(page - 1) * mp.PAGE_SIZE,
                                              limit=mp.PAGE_SIZE)
    return total, [d["listing_id"] for d in docs]


async def found(services, *words: str, **options) -> list[int]:
    query = ListingQuery(keywords=words, **options)
    page = await services.marketplace.search.search(G, query)
    assert (page.total, [r.listing_id for r in page.rows]) == await reference(services, query)
    return [r.listing_id for r in page.rows]


async def fund(services, user, amount):
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}")


async def publish(services, seller=ALICE, **over) -> int:
    fields = {"category": "rings", "condition": "new", "title": "Blue sapphire ring",
              "description": "A lovely sapphire.", "tags": "vintage", "price_gems": 500}
    fields.update(over)
    draft = await services.marketplace.listings.create_draft(G, seller, **fields)
    await services.marketplace.listings.publish(G, seller, draft.listing_id)
    return draft.listing_id


async def roomy(services):
    for key in ("listings_per_day", "max_active_listings"):
        await services.settings.set(G, Actor.system(), key, "500")


async def test_postings_follow_publish_edit_withdraw_relist_expire(services, clock):
    ms = services.marketplace
    draft = await ms.listings.create_draft(G, ALICE, category="rings", condition="new",
                                  title="Blue sapphire ring", description="Lovely.",
                                  tags="vintage", price_gems=500)
    assert await postings(services) == [] and await found(services, "sapphire") == []
    await ms.listings.publish(G, ALICE, draft.listing_id)
    lid = draft.listing_id
    await assert_in_step(services)
    assert await found(services, "sapphire") == [lid]
    assert await found(services, "vintage") == [lid]
    # Edit the title: the old word disappears, the new one is found.
    await ms.listings.edit(G, ALICE, lid, title="Green emerald ring")
    await assert_in_step(services)
    assert await found(services, "sapphire") == [] and await found(services, "emerald") == [lid]
    # Edit the tags.
    await ms.listings.edit(G, ALICE, lid, tags="antique, deco")
    await assert_in_step(services)
    assert await found(services, "vintage") == [] and await found(services, "deco") == [lid]
    # Edit the price: price filters and sorts on the postings follow.
    assert await found(services, "emerald", price_max=400) == []
    await ms.listings.edit(G, ALICE, lid, price_gems=300)
    await assert_in_step(services)
    assert await found(services, "emerald", price_max=400, sort="price_asc") == [lid]
    # Withdraw and relist.
    await ms.listings.withdraw(G, ALICE, lid)
    await assert_in_step(services)
    assert await postings(services) == [] and await found(services, "emerald") == []
    await ms.listings.relist(G, ALICE, lid)
    await assert_in_step(services)
    assert await found(services, "emerald") == [lid]
    # Expire through the sweep, then relist again.
    clock.advance(days=31)
    notices = await ms.sweeps.sweep()
    assert any(n.kind == "expired" for n in notices)
    await assert_in_step(services)
    assert await found(services, "emerald") == []
    await ms.listings.relist(G, ALICE, lid)
    await assert_in_step(services)
    assert await found(services, "emerald") == [lid]
    # The reminder sweep (no posted field changes) leaves the postings as they are.
    clock.advance(days=29)
    await ms.sweeps.sweep()
    await assert_in_step(services)


async def test_approval_queue_posts_on_approve_only(services):
    ms = services.marketplace
    await services.settings.set(G, Actor.system(), "marketplace_approval", "yes")
    a = await publish(services, title="Opal pendant")
    b = await publish(services, title="Opal brooch")
    await assert_in_step(services)
    assert await found(services, "opal") == []
    await ms.listings.approve(G, Actor(99, is_moderator=True), a)
    await ms.listings.reject(G, Actor(99, is_moderator=True), b, "looks fake")
    await assert_in_step(services)
    assert await found(services, "opal") == [a]


async def test_postings_follow_escrow_reserve_cancel_and_sale(services):
    lid = await publish(services, title="Emerald ring", price_gems=500)
    await fund(services, BOB, 2000)
    trade = (await services.trades.buy_listing(G, BOB, lid)).trade  # reserve
    await assert_in_step(services)
    assert await found(services, "emerald") == []
    await services.trades.cancel(G, trade.trade_id, ALICE)  # unreserve
    await assert_in_step(services)
    assert await found(services, "emerald") == [lid]
    trade = (await services.trades.buy_listing(G, BOB, lid)).trade
    await services.trades.confirm(G, trade.trade_id, BOB)  # mark_sold
    assert (await ListingRepo(services.db).get(G, lid))["status"] == "sold"
    await assert_in_step(services)
    assert await found(services, "emerald") == []


async def test_escrow_methods_keep_their_contract(services, clock):
    repo, db = ListingRepo(services.db), services.db
    lid = await publish(services, title="Ruby ring")

    async def tx(fn):
        return await db.transaction(fn)

    assert not await tx(lambda s: repo.reserve(G, lid, ALICE, 0, clock.now(), session=s))
    await assert_in_step(services)
    assert len(await postings(services)) > 0
    assert await tx(lambda s: repo.reserve(G, lid, BOB, 1, clock.now(), session=s))
    assert await postings(services) == []
    assert not await tx(lambda s: repo.reserve(G, lid, CAROL, 2, clock.now(), session=s))
    assert await tx(lambda s: repo.unreserve(G, lid, clock.now(), trade_id=1, session=s))
    await assert_in_step(services)
    assert not await tx(lambda s: repo.unreserve(G, lid, clock.now(), trade_id=1, session=s))
    assert await tx(lambda s: repo.reserve(G, lid, BOB, 3, clock.now(), session=s))
    assert await tx(lambda s: repo.mark_sold(G, lid, BOB, 480, clock.now(), trade_id=3, session=s))
    assert await postings(services) == []


async def test_popularity_sort_follows_views_and_wishlists(services):
    await roomy(services)
    a = await publish(services, title="Pearl necklace")
    b = await publish(services, title="Pearl earrings")
    assert await found(services, "pearl", sort="popular") == [b, a]  # ties: newest id first
    await services.marketplace.search.view(G, a, Actor(BOB))
    assert await found(services, "pearl", sort="popular") == [b, a]  # counted, not yet written
    assert await services.marketplace.sweeps.flush_views() == 1
    await assert_in_step(services)
    assert await found(services, "pearl", sort="popular") == [a, b]
    await services.marketplace.watch.wish(G, CAROL, b)
    await services.marketplace.watch.wish(G, BOB, b)
    await assert_in_step(services)
    assert await found(services, "pearl", sort="popular") == [b, a]
    await services.marketplace.watch.unwish(G, BOB, b)
    await services.marketplace.watch.unwish(G, CAROL, b)
    await assert_in_step(services)
    assert await found(services, "pearl", sort="popular") == [a, b]


async def test_search_after_a_restart_uses_stored_postings(services, store, clock):
    lid = await publish(services, title="Topaz ring")
    restarted = build_services(store.db, clock)  # a new process over the same database
    page = await restarted.marketplace.search.search(G, ListingQuery(keywords=("topaz",)))
    assert [r.listing_id for r in page.rows] == [lid]
    await restarted.marketplace.listings.withdraw(G, ALICE, lid)
    assert (await services.marketplace.search.search(G, ListingQuery(keywords=("topaz",)))).total == 0


WORDS = ["sapphire", "ruby", "emerald", "gold", "silver", "vintage", "halo", "opal", "rare"]


@pytest.mark.slow
async def test_postings_plans_match_the_listings_plan(services, clock):
    """Random listings and queries: every plan (one word, rarest word, dense fallback) agrees."""
    await roomy(services)
    await services.settings.set(G, Actor.system(), "marketplace_usd", "yes")
    rnd = random.Random(7)
    ms = services.marketplace
    ids = []
    for i in range(60):
        words = rnd.sample(WORDS[:-1], 3) + (["rare"] if i % 17 == 0 else [])
        seller = (ALICE, BOB, CAROL)[i % 3]
        draft = await ms.listings.create_draft(
            G, seller, category=rnd.choice(["rings", "necklaces"]),
            condition=rnd.choice(["new", "good"]), title=" ".join(words[:2]) + " piece",
            description=" ".join(words), tags=words[2],
            price_gems=rnd.choice([None, rnd.randrange(1, 1000)]) or 7,
            price_usd=rnd.choice([None, "12.50", "3.00"]))
        await ms.listings.publish(G, seller, draft.listing_id)
        ids.append(draft.listing_id)
        clock.advance(minutes=1)
    for lid in rnd.sample(ids, 10):
        await ms.search.view(G, lid, Actor(99))
    for lid in rnd.sample(ids, 8):
        seller = (await ms.listings.get(G, lid)).seller_id
        await ms.listings.withdraw(G, seller, lid)
    await assert_in_step(services)
    for _ in range(60):
        words = tuple(rnd.sample(WORDS, rnd.choice([1, 1, 2, 3])))
        options = rnd.choice([{}, {"category": "rings"}, {"condition": "good"},
                              {"price_max": 500}, {"price_min": 100, "sort": "price_desc"},
                              {"sort": "price_asc"}, {"sort": "popular"},
                              {"currency": "usd", "sort": "price_asc"}])
        query = ListingQuery(keywords=words, **options)
        for page in (1, 2):
            got = await ms.search.search(G, query, page=page, page_size=mp.PAGE_SIZE)
            if got.page != page:
                continue
            assert (got.total, [r.listing_id for r in got.rows]) == \
                await reference(services, query, page), (words, options, page)


async def test_migration_backfills_and_is_rerunnable(services):
    await roomy(services)
    kept = [await publish(services, title=f"Garnet ring {i}") for i in range(3)]
    await services.marketplace.listings.withdraw(G, ALICE, kept[1])
    raw = services.db.raw
    await raw["listing_terms"].delete_many({})  # a database from before 0004
    assert await postings(services) == []
    await terms_migration.up(raw)
    await assert_in_step(services)
    assert await found(services, "garnet") == [kept[2], kept[0]]
    await terms_migration.backfill(raw, batch=1)  # again, in tiny batches
    await assert_in_step(services)
