"""Marketplace service against the embedded store: lifecycle, caps, search, sweeps, escrow hooks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.errors import Cooldown, InvalidAmount, InvalidInput, NotFound, NotPermitted
from economy.core.images import process_image
from economy.marketplace.models import ListingQuery, parse_usd
from economy.marketplace.repo import ListingRepo
from economy.repos.base import count
from tests.core.test_images import photo

pytestmark = pytest.mark.timeout(60)

G = 1001
ALICE, BOB, CAROL = 11, 12, 13


async def setting(services, key, value):
    await services.settings.set(G, Actor.system(), key, value)


async def draft(services, seller=ALICE, **over):
    fields = {"category": "rings", "condition": "new", "title": "Blue sapphire ring",
                  "description": "A lovely 2 ct sapphire.", "specs": "metal: platinum\nsize: 6",
                  "tags": "sapphire, vintage", "price_gems": 500}
    fields.update(over)
    return await services.marketplace.listings.create_draft(G, seller, **fields)


async def live(services, seller=ALICE, **over):
    listing = await draft(services, seller, **over)
    return (await services.marketplace.listings.publish(G, seller, listing.listing_id)).listing


async def state(services):
    db = services.db
    return (await count(db["listings"], {"guild_id": G}),
            await count(db["listing_images"], {"guild_id": G}),
            await count(db["listing_quota"], {"guild_id": G}))


async def test_draft_publish_and_read_back(services, clock):
    img = process_image(photo())
    listing = await draft(services, images=[img])
    assert listing.status == "draft" and listing.listing_id == 1
    assert listing.specs == (("metal", "platinum"), ("size", "6"))
    assert listing.tags == ("sapphire", "vintage") and len(listing.images) == 1
    assert await services.marketplace.search.image(G, listing.images[0].image_id) == img.full
    hidden = await services.marketplace.search.search(G, ListingQuery())
    assert hidden.total == 0  # drafts never show
    result = await services.marketplace.listings.publish(G, ALICE, listing.listing_id)
    assert result.listing.status == "active" and not result.needs_approval
    got = await services.marketplace.listings.get(G, listing.listing_id)
    assert got.listed_at == clock.now() and got.expires_at == clock.now() + timedelta(days=30)
    assert got.listed_at.tzinfo is not None
    again = await draft(services)
    assert again.listing_id == 2  # per-guild sequence
    with pytest.raises(InvalidInput, match="already published"):
        await services.marketplace.listings.publish(G, ALICE, listing.listing_id)


async def test_only_the_seller_may_publish_cancel_edit_withdraw(services):
    d = await draft(services)
    before = await state(services)
    for call in (services.marketplace.listings.publish(G, BOB, d.listing_id),
                 services.marketplace.listings.cancel_draft(G, BOB, d.listing_id),
                 services.marketplace.listings.edit(G, BOB, d.listing_id, title="Mine now"),
                 services.marketplace.listings.withdraw(G, BOB, d.listing_id)):
        with pytest.raises(NotPermitted, match="someone else"):
            await call
    assert await state(services) == before
    await services.marketplace.listings.cancel_draft(G, ALICE, d.listing_id)
    assert await state(services) == (0, 0, 0)


@pytest.mark.parametrize("over, error, message", [
    ({"title": "  "}, InvalidInput, "title must be 3-100"),
    ({"title": "x" * 101}, InvalidInput, "title must be 3-100"),
    ({"description": ""}, InvalidInput, "description must be 1-2000"),
    ({"description": "y" * 2001}, InvalidInput, "description must be 1-2000"),
    ({"price_gems": 0}, InvalidAmount, "at least 1"),
    ({"price_gems": -5}, InvalidAmount, "at least 1"),
    ({"price_gems": 10**13}, InvalidAmount, "at most"),
    ({"price_gems": 2.5}, InvalidAmount, "whole number"),
    ({"price_gems": None}, InvalidInput, "Give a price"),
    ({"price_usd": "12.50"}, InvalidInput, "USD prices are turned off"),
    ({"category": "spaceships"}, InvalidInput, "Pick a category"),
    ({"condition": "broken"}, InvalidInput, "Condition is one of"),
    ({"specs": "no colon here"}, InvalidInput, "key: value"),
    ({"tags": "ok, <@123>"}, InvalidInput, "Tags use letters"),
    ({"images": [object()] * 11}, InvalidInput, "at most 10 images"),
])
async def test_bad_input_leaves_nothing_behind(services, over, error, message):
    with pytest.raises(error, match=message):
        await draft(services, **over)
    assert await state(services) == (0, 0, 0)
    assert await count(services.db["listing_counters"], {"guild_id": G}) == 0


def test_usd_parsing_is_integer_cents():
    assert parse_usd("12.50") == 1250 and parse_usd("$12") == 1200 and parse_usd("0,5") == 50
    assert parse_usd("1000000") == 100_000_000 and parse_usd("") is None
    for bad in ("12.505", "-3", "1e3", "abc", "0", "0.00", "1000000.01"):
        with pytest.raises(InvalidAmount):
            parse_usd(bad)


async def test_usd_listing_when_enabled(services):
    await setting(services, "marketplace_usd", "yes")
    listing = await live(services, price_gems=None, price_usd="12.5")
    assert listing.price_gems is None and listing.price_usd_cents == 1250
    page = await services.marketplace.search.search(G, ListingQuery(currency="usd", price_max=1300))
    assert [r.listing_id for r in page.rows] == [listing.listing_id]
    assert (await services.marketplace.search.search(G, ListingQuery(price_max=1300))).total == 0


async def test_markup_is_stored_verbatim_for_the_renderer_to_escape(services):
    listing = await live(services, title="@everyone **FREE** <@&1>", description="[x](http://e)")
    assert listing.title == "@everyone **FREE** <@&1>"


async def test_open_cap_and_daily_quota(services, clock):
    await setting(services, "max_active_listings", "2")
    await setting(services, "listings_per_day", "3")
    await live(services)
    await live(services)
    with pytest.raises(InvalidInput, match="2 open listings"):
        await draft(services)
    withdrawn = await live(services, seller=BOB)
    await services.marketplace.listings.withdraw(G, BOB, withdrawn.listing_id)
    await live(services, seller=BOB)
    d = await draft(services, seller=BOB)
    with pytest.raises(InvalidInput, match="drafts included"):  # the draft holds a slot
        await draft(services, seller=BOB)
    await setting(services, "max_active_listings", "3")
    await live(services, seller=BOB)
    await setting(services, "max_active_listings", "10")
    with pytest.raises(Cooldown, match="3 listing"):  # 3 published today already
        await services.marketplace.listings.publish(G, BOB, d.listing_id)
    assert (await services.marketplace.listings.get(G, d.listing_id)).status == "draft"
    clock.advance(days=1)
    assert (await services.marketplace.listings.publish(G, BOB, d.listing_id)).listing.status == "active"


async def test_concurrent_publishes_respect_the_daily_quota(services):
    await setting(services, "listings_per_day", "2")
    drafts = [await draft(services) for _ in range(5)]
    results = await asyncio.gather(
        *[services.marketplace.listings.publish(G, ALICE, d.listing_id) for d in drafts],
        return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 2
    assert all(isinstance(r, Cooldown) for r in results if isinstance(r, Exception))


async def test_concurrent_publishes_respect_the_open_listing_cap(services):
    drafts = [await draft(services) for _ in range(5)]
    await setting(services, "max_active_listings", "2")
    results = await asyncio.gather(
        *[services.marketplace.listings.publish(G, ALICE, d.listing_id) for d in drafts],
        return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 2, results
    assert all(isinstance(r, InvalidInput) for r in results if isinstance(r, Exception))
    assert len([r for r in await services.marketplace.listings.mine(G, ALICE) if r.status == "active"]) == 2


async def test_approval_flow(services, clock):
    await setting(services, "marketplace_approval", "on")
    await services.marketplace.watch.add_alert(G, CAROL, keywords="sapphire", category=None,
                                         max_price_gems=None)
    result = await services.marketplace.listings.publish(G, ALICE, (await draft(services)).listing_id)
    assert result.needs_approval and result.listing.status == "pending" and not result.notices
    assert (await services.marketplace.search.search(G, ListingQuery())).total == 0
    approved = await services.marketplace.listings.approve(G, Actor(99, is_moderator=True), result.listing.listing_id)
    assert approved.listing.status == "active"
    assert [(n.user_id, n.kind) for n in approved.notices] == [(ALICE, "approved")]
    clock.advance(minutes=5)  # alert matches arrive as a digest once their window closes
    assert [(n.user_id, n.kind) for n in await services.marketplace.sweeps.sweep()] == [(CAROL, "alert")]
    with pytest.raises(InvalidInput, match="no longer waiting"):
        await services.marketplace.listings.approve(G, Actor(99, is_moderator=True), result.listing.listing_id)
    second = await services.marketplace.listings.publish(G, ALICE, (await draft(services)).listing_id)
    with pytest.raises(InvalidInput, match="reason"):
        await services.marketplace.listings.reject(G, Actor(99, is_moderator=True), second.listing.listing_id, " ")
    notice = await services.marketplace.listings.reject(G, Actor(99, is_moderator=True), second.listing.listing_id, "blurry photos")
    assert notice.kind == "rejected" and notice.detail == "blurry photos"


async def test_two_moderators_racing_approve_only_once(services):
    await setting(services, "marketplace_approval", "on")
    pending = (await services.marketplace.listings.publish(G, ALICE, (await draft(services)).listing_id)).listing
    results = await asyncio.gather(
        *[services.marketplace.listings.approve(G, Actor(m, is_moderator=True), pending.listing_id) for m in range(5)],
        return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1


async def test_search_filters_sorts_and_pages(services, clock):
    rows = [("rings", "new", 300, "Ruby ring vintage"), ("rings", "good", 100, "Sapphire ring"),
            ("necklaces", "new", 900, "Pearl necklace"), ("rings", "fair", 50, "Opal rings set"),
            ("watches", "like_new", 5000, "Gold watch")]
    ids = []
    for category, condition, price, title in rows:
        clock.advance(minutes=1)
        ids.append((await live(services, category=category, condition=condition,
                               price_gems=price, title=title, tags="")).listing_id)
    ms = services.marketplace

    async def found(**q):
        return [r.listing_id for r in (await ms.search.search(G, ListingQuery(**q))).rows]

    assert await found() == ids[::-1]
    assert await found(category="rings", sort="price_asc") == [ids[3], ids[1], ids[0]]
    assert await found(sort="price_desc", price_min=100, price_max=900) == [ids[2], ids[0], ids[1]]
    assert await found(keywords=("ring",)) == [ids[3], ids[1], ids[0]]  # "rings" matches "ring"
    assert await found(keywords=("ring", "vintage")) == [ids[0]]
    assert await found(condition="new") == [ids[2], ids[0]]
    assert await found(seller_id=BOB) == []
    await ms.search.view(G, ids[2], Actor(BOB))
    await ms.sweeps.flush_views()
    await ms.watch.wish(G, CAROL, ids[4])
    await ms.watch.wish(G, BOB, ids[4])
    assert (await found(sort="popular"))[:2] == [ids[4], ids[2]]
    page = await ms.search.search(G, ListingQuery(), page=3, page_size=2)
    assert page.page == 3 and page.pages == 3 and [r.listing_id for r in page.rows] == [ids[0]]
    assert (await ms.search.search(G, ListingQuery(), page=99, page_size=2)).page == 3


async def test_query_tokens_inline_or_saved(services):
    ms = services.marketplace
    small = ListingQuery(category="rings")
    assert await ms.search.query_token(G, small) == '{"category":"rings"}'
    big = ListingQuery(keywords=("sapphire", "platinum", "vintage", "cushion"), category="rings",
                       price_min=100, price_max=999999, sort="price_desc", tags=("art-deco",))
    token = await ms.search.query_token(G, big)
    assert token.startswith("~") and len(token) == 13
    assert await ms.search.query_from_token(G, token) == big
    assert await ms.search.query_token(G, big) == token  # idempotent
    with pytest.raises(NotFound):
        await ms.search.query_from_token(G, "~nope")


async def test_edit_price_drop_notifies_wishlisters(services):
    listing = await live(services)
    await services.marketplace.watch.wish(G, BOB, listing.listing_id)
    with pytest.raises(InvalidInput, match="own listing"):
        await services.marketplace.watch.wish(G, ALICE, listing.listing_id)
    assert not await services.marketplace.watch.wish(G, BOB, listing.listing_id)
    updated, notices = await services.marketplace.listings.edit(G, ALICE, listing.listing_id,
                                                       title="Blue sapphire ring (reduced)")
    assert notices == [] and updated.title.endswith("(reduced)")
    updated, notices = await services.marketplace.listings.edit(G, ALICE, listing.listing_id, price_gems=400)
    assert [(n.user_id, n.kind, n.detail) for n in notices] == [(BOB, "price_drop", "gems:500:400")]
    _, notices = await services.marketplace.listings.edit(G, ALICE, listing.listing_id, price_gems=450)
    assert notices == []
    with pytest.raises(InvalidAmount):
        await services.marketplace.listings.edit(G, ALICE, listing.listing_id, price_gems=0)
    assert (await services.marketplace.listings.get(G, listing.listing_id)).price_gems == 450


async def test_withdraw_and_relist(services):
    listing = await live(services)
    gone = await services.marketplace.listings.withdraw(G, ALICE, listing.listing_id)
    assert gone.status == "withdrawn"
    with pytest.raises(InvalidInput):
        await services.marketplace.listings.withdraw(G, ALICE, listing.listing_id)
    back = await services.marketplace.listings.relist(G, ALICE, listing.listing_id)
    assert back.listing.status == "active"


async def test_sweep_reminds_then_expires_once(services, clock):
    listing = await live(services)
    await services.marketplace.watch.wish(G, BOB, listing.listing_id)
    assert await services.marketplace.sweeps.sweep() == []
    clock.advance(days=28, seconds=1)
    notices = await asyncio.gather(services.marketplace.sweeps.sweep(), services.marketplace.sweeps.sweep())
    kinds = sorted((n.user_id, n.kind) for batch in notices for n in batch)
    assert kinds == [(ALICE, "expiring"), (BOB, "wish_expiring")]
    clock.advance(days=2)
    notices = await asyncio.gather(services.marketplace.sweeps.sweep(), services.marketplace.sweeps.sweep())
    assert [(n.user_id, n.kind) for batch in notices for n in batch] == [(ALICE, "expired")]
    assert (await services.marketplace.listings.get(G, listing.listing_id)).status == "expired"


async def test_sweep_deletes_abandoned_drafts(services, clock):
    await draft(services, images=[process_image(photo())])
    clock.advance(hours=25)
    await services.marketplace.sweeps.sweep()
    assert await state(services) == (0, 0, 0)


async def test_escrow_interface_guards_each_transition(services, clock):
    repo, db = ListingRepo(services.db), services.db
    listing = await live(services)
    lid = listing.listing_id

    async def tx(fn):
        return await db.transaction(fn)

    assert not await tx(lambda s: repo.reserve(G, lid, ALICE, 0, clock.now(), session=s))
    assert await tx(lambda s: repo.reserve(G, lid, BOB, 1, clock.now(), session=s))
    assert not await tx(lambda s: repo.reserve(G, lid, CAROL, 2, clock.now(), session=s))
    assert (await services.marketplace.search.search(G, ListingQuery())).total == 0
    assert not await tx(lambda s: repo.unreserve(G, lid, clock.now(), trade_id=2, session=s))
    assert await tx(lambda s: repo.unreserve(G, lid, clock.now(), trade_id=1, session=s))
    assert not await tx(lambda s: repo.unreserve(G, lid, clock.now(), trade_id=1, session=s))
    assert not await tx(lambda s: repo.mark_sold(G, lid, BOB, 500, clock.now(), trade_id=1, session=s))
    assert await tx(lambda s: repo.reserve(G, lid, BOB, 3, clock.now(), session=s))
    assert not await tx(lambda s: repo.mark_sold(G, lid, BOB, 480, clock.now(), trade_id=1, session=s))
    assert await tx(lambda s: repo.mark_sold(G, lid, BOB, 480, clock.now(), trade_id=3, session=s))
    sold = await repo.get(G, lid)
    assert sold["status"] == "sold" and sold["buyer_id"] == BOB and sold["sold_price_gems"] == 480


async def test_price_hint_needs_five_comparable_sales(services, clock):
    repo, db = ListingRepo(services.db), services.db
    prices = [100, 300, 200, 500, 400]
    for i, price in enumerate(prices):
        lid = (await live(services, seller=ALICE + 100 + i, condition="like_new" if i else "new",
                          price_gems=price)).listing_id
        await db.transaction(lambda s, lid=lid: repo.reserve(G, lid, BOB, 9, clock.now(), session=s))
        await db.transaction(lambda s, lid=lid, p=price: repo.mark_sold(G, lid, BOB, p, clock.now(), trade_id=9, session=s))
        if i == 3:
            assert await services.marketplace.search.price_hint(G, "rings", "new") is None
    hint = await services.marketplace.search.price_hint(G, "rings", "new")
    assert (hint.sales, hint.median, hint.low, hint.high) == (5, 300, 100, 500)
    assert await services.marketplace.search.price_hint(G, "rings", "fair") is None
    assert await services.marketplace.search.price_hint(G, "watches", "new") is None


async def test_alerts_match_keywords_category_and_price(services, clock):
    ms = services.marketplace
    await ms.watch.add_alert(G, BOB, keywords="Sapphires", category=None, max_price_gems=600)
    await ms.watch.add_alert(G, CAROL, keywords=None, category="necklaces", max_price_gems=None)
    await ms.watch.add_alert(G, ALICE, keywords="sapphire", category=None, max_price_gems=None)  # own
    with pytest.raises(InvalidInput, match="at least"):
        await ms.watch.add_alert(G, BOB, keywords=" ", category=None, max_price_gems=None)
    result = await ms.listings.publish(G, ALICE, (await draft(services)).listing_id)
    pricey = await ms.listings.publish(G, ALICE, (await draft(services, price_gems=700)).listing_id)
    assert result.notices == [] and pricey.notices == []  # queued for the digest
    clock.advance(minutes=4)
    assert await ms.sweeps.sweep() == []
    clock.advance(minutes=1)
    digests = await ms.sweeps.sweep()
    assert [(n.user_id, n.kind, n.listing.listing_id) for n in digests] == [
        (BOB, "alert", result.listing.listing_id)]
    assert await ms.sweeps.sweep() == []  # sent once
    assert [a.alert_id for a in await ms.watch.alerts(G, BOB)] == [1]
    await ms.watch.remove_alert(G, BOB, 1)
    with pytest.raises(NotFound):
        await ms.watch.remove_alert(G, BOB, 1)


async def test_guilds_are_isolated(services):
    await live(services)
    assert (await services.marketplace.search.search(G + 1, ListingQuery())).total == 0
    with pytest.raises(NotFound):
        await services.marketplace.listings.get(G + 1, 1)


async def test_seller_filter_sorts_in_every_order(services, clock):
    prices = [300, 100, 200]
    for price in prices:
        clock.advance(minutes=1)
        await live(services, seller=BOB, price_gems=price)
    await live(services, seller=ALICE, price_gems=50)
    ms = services.marketplace

    async def prices_of(**q):
        return [r.price_gems for r in (await ms.search.search(G, ListingQuery(seller_id=BOB, **q))).rows]

    assert await prices_of() == [200, 100, 300]
    assert await prices_of(sort="price_asc") == [100, 200, 300]
    assert await prices_of(sort="price_desc", price_max=250) == [200, 100]
    page = await ms.search.search(G, ListingQuery(seller_id=BOB, sort="price_asc"), page=2, page_size=2)
    assert [r.price_gems for r in page.rows] == [300] and page.pages == 2


async def test_concurrent_drafts_cannot_overshoot_the_open_cap(services):
    await setting(services, "max_active_listings", "3")
    results = await asyncio.gather(*[draft(services) for _ in range(8)], return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 3, results
    assert all(isinstance(r, InvalidInput) for r in results if isinstance(r, Exception))
    assert await services.db["listings"].count_documents({"guild_id": G, "seller_id": ALICE}) == 3
    # Refused drafts left no images behind either.
    assert await services.db["listing_images"].count_documents(
        {"guild_id": G, "listing_id": {"$nin": [r.listing_id for r in results
                                                 if not isinstance(r, Exception)]}}) == 0


async def test_a_moderator_cannot_approve_their_own_listing(services):
    from economy.core.errors import NotPermitted
    await setting(services, "marketplace_approval", "on")
    pending = await draft(services, seller=BOB)
    await services.marketplace.listings.publish(G, BOB, pending.listing_id)
    with pytest.raises(NotPermitted, match="your own listing"):
        await services.marketplace.listings.approve(G, Actor(BOB, is_moderator=True), pending.listing_id)
    assert (await services.marketplace.listings.get(G, pending.listing_id)).status == "pending"
    approved = await services.marketplace.listings.approve(G, Actor(CAROL, is_moderator=True), pending.listing_id)
    assert approved.listing.status == "active"


async def test_several_matches_within_minutes_arrive_as_one_digest(services, clock):
    ms = services.marketplace
    await ms.watch.add_alert(G, BOB, keywords="ring", category=None, max_price_gems=None)
    ids = []
    for i in range(4):
        ids.append((await ms.listings.publish(G, ALICE, (await draft(
            services, title=f"Ring number {i}")).listing_id)).listing.listing_id)
        clock.advance(minutes=1)
    clock.advance(minutes=2)
    notices, again = await asyncio.gather(ms.sweeps.sweep(), ms.sweeps.sweep())  # two processes sweeping
    digests = [n for n in notices + again if n.kind == "alert"]
    assert len(digests) == 1
    digest = digests[0]
    assert [digest.listing.listing_id, *[x.listing_id for x in digest.more]] == ids


async def test_price_drop_dms_are_throttled_per_listing_and_member(services, clock):
    ms = services.marketplace
    listing = await live(services, price_gems=1000)
    await ms.watch.wish(G, BOB, listing.listing_id)
    _, first = await ms.listings.edit(G, ALICE, listing.listing_id, price_gems=900)
    _, second = await ms.listings.edit(G, ALICE, listing.listing_id, price_gems=800)
    assert [n.kind for n in first] == ["price_drop"] and second == []
    clock.advance(hours=12)
    _, third = await ms.listings.edit(G, ALICE, listing.listing_id, price_gems=700)
    assert [n.user_id for n in third] == [BOB]
