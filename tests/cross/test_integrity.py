"""Money and trade integrity (issue 8): quotes that bind, no lost updates, complete settlements.

Each test here failed before the fix it names.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.marketplace.models import listing_keywords
from economy.marketplace.repo import ListingRepo
from economy.repos.ledger_repo import LedgerRepo
from economy.trades.models import ListingOutOfStep, QuoteChanged, TradeUnavailable
from tests.conftest import relax_offer_limits

pytestmark = pytest.mark.timeout(60)

G = 77


@pytest.fixture(autouse=True)
async def _many_offers(services):
    await relax_offer_limits(services, G)
SELLER, BUYER, MOD = 1, 2, 9


async def listing(services, price=100, title="Emerald ring"):
    draft = await services.marketplace.listings.create_draft(
        G, SELLER, category="rings", condition="new", title=title,
        description="A lovely emerald ring in 18k gold.", price_gems=price)
    await services.marketplace.listings.publish(G, SELLER, draft.listing_id)
    return draft.listing_id


_seeds = iter(range(10**9))


async def fund(services, user, amount):
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{next(_seeds)}")


async def held(services, user):
    account = await services.ledger.account(G, user)
    return account.balance, account.held


async def assert_audit_ok(services):
    report = await audit(services.db)
    assert report.ok, report.render()


# --- 1. a purchase is at the price the buyer saw ------------------------------------------------
async def test_price_edited_between_quote_and_confirm_is_refused(services):
    lid = await listing(services, price=1)
    await fund(services, BUYER, 5_000)
    quote = await services.trades.purchase_quote(G, BUYER, lid)
    await services.marketplace.listings.edit(G, SELLER, lid, price_gems=900)
    with pytest.raises(QuoteChanged) as info:
        await services.trades.buy_listing(G, BUYER, lid, expected_price=quote.price,
                                          expected_version=quote.version)
    assert "changed from 1 to 900" in info.value.message and "Buy" in info.value.message
    assert await held(services, BUYER) == (5_000, 0)
    assert (await ListingRepo(services.db).get(G, lid))["status"] == "active"
    # A fresh quote buys at the new price.
    quote = await services.trades.purchase_quote(G, BUYER, lid)
    result = await services.trades.buy_listing(G, BUYER, lid, expected_price=quote.price,
                                               expected_version=quote.version)
    assert result.trade.price == 900 and await held(services, BUYER) == (4_100, 900)
    await assert_audit_ok(services)


async def test_other_edits_between_quote_and_confirm_are_refused_too(services):
    lid = await listing(services, price=100)
    await fund(services, BUYER, 500)
    quote = await services.trades.purchase_quote(G, BUYER, lid)
    await services.marketplace.listings.edit(G, SELLER, lid, title="Emerald ring (chipped)")
    with pytest.raises(QuoteChanged, match="changed since you pressed"):
        await services.trades.buy_listing(G, BUYER, lid, expected_price=quote.price,
                                          expected_version=quote.version)
    assert await held(services, BUYER) == (500, 0)


async def test_forged_lower_price_is_refused(services):
    lid = await listing(services, price=400)
    await fund(services, BUYER, 500)
    quote = await services.trades.purchase_quote(G, BUYER, lid)
    with pytest.raises(QuoteChanged):
        await services.trades.buy_listing(G, BUYER, lid, expected_price=1,
                                          expected_version=quote.version)
    assert await held(services, BUYER) == (500, 0)


@pytest.mark.parametrize("new_price", [5, 4_900])
async def test_edit_racing_confirm_never_charges_a_changed_price(services, new_price):
    for round_ in range(8):
        lid = await listing(services, price=100, title=f"Ruby ring {round_}")
        buyer = 100 + round_
        await fund(services, buyer, 10_000)
        quote = await services.trades.purchase_quote(G, buyer, lid)
        outcomes = await asyncio.gather(
            services.trades.buy_listing(G, buyer, lid, expected_price=quote.price,
                                        expected_version=quote.version),
            services.marketplace.listings.edit(G, SELLER, lid, price_gems=new_price),
            return_exceptions=True)
        bought, edited = outcomes
        balance, on_hold = await held(services, buyer)
        if isinstance(bought, BaseException):
            assert isinstance(bought, QuoteChanged | TradeUnavailable), bought
            assert (balance, on_hold) == (10_000, 0)
        else:
            assert bought.trade.price == 100 and (balance, on_hold) == (9_900, 100)
            assert isinstance(edited, BaseException)  # a reserved listing can't be edited
    await assert_audit_ok(services)


async def test_offer_accept_with_a_different_quoted_price_is_refused(services):
    await fund(services, BUYER, 1_000)
    trade = await services.trades.offer(G, SELLER, BUYER, 300, "a loupe")
    with pytest.raises(QuoteChanged):
        await services.trades.accept(G, trade.trade_id, BUYER, expected_price=30)
    assert await held(services, BUYER) == (1_000, 0)
    await services.trades.accept(G, trade.trade_id, BUYER, expected_price=300)
    assert await held(services, BUYER) == (700, 300)


# --- 2. no lost updates on documents written whole ----------------------------------------------
async def test_dispute_racing_delivery_keeps_the_delivery_dates(services):
    for round_ in range(10):
        await fund(services, BUYER, 100)
        trade = await services.trades.offer(G, SELLER, BUYER, 100, f"item {round_}")
        await services.trades.accept(G, trade.trade_id, BUYER)
        await asyncio.gather(
            services.trades.mark_delivered(G, trade.trade_id, SELLER, "tracked"),
            services.disputes.open(G, trade.trade_id, BUYER, "it never arrived at all"),
            return_exceptions=True)
        fresh = await services.trades.get(G, trade.trade_id, Actor(BUYER))
        events = [e.event for e in fresh.timeline]
        if "delivered" in events:
            assert fresh.delivered_at is not None and fresh.release_at is not None, fresh
        assert fresh.status in ("delivered", "disputed")
        if fresh.status == "disputed" and "delivered" in events:
            # The dispute was applied on top of the delivery, not over a stale read.
            assert events.index("delivered") < events.index("disputed")


async def test_confirm_racing_mutual_cancel_vote_settles_once(services):
    for round_ in range(6):
        await fund(services, BUYER, 100)
        trade = await services.trades.offer(G, SELLER, BUYER, 100, f"thing {round_}")
        await services.trades.accept(G, trade.trade_id, BUYER)
        await services.trades.mark_delivered(G, trade.trade_id, SELLER)
        await asyncio.gather(
            services.trades.vote_mutual_cancel(G, trade.trade_id, SELLER),
            services.trades.confirm(G, trade.trade_id, BUYER),
            return_exceptions=True)
        fresh = await services.trades.get(G, trade.trade_id, Actor(BUYER))
        assert fresh.status == "completed" and fresh.completed_at is not None
        settle = await LedgerRepo(services.db).entries_for_key(G, f"trade:{trade.trade_id}:settle")
        assert settle and settle[0]["kind"] == "escrow_release"
    await assert_audit_ok(services)


async def test_concurrent_edits_keep_search_words_in_step_with_the_listing(services):
    for round_ in range(6):
        lid = await listing(services, title=f"Plain band {round_}")
        await asyncio.gather(
            services.marketplace.listings.edit(G, SELLER, lid, title=f"Sapphire pendant {round_}"),
            services.marketplace.listings.edit(G, SELLER, lid, tags="vintage, opal"),
            services.marketplace.listings.edit(G, SELLER, lid, description="Tourmaline and platinum."))
        doc = await ListingRepo(services.db).get(G, lid)
        expected = listing_keywords(doc["title"], tuple(doc["tags"]), doc["category"],
                                    tuple(tuple(s) for s in doc.get("specs", [])),
                                    doc["description"])
        assert sorted(doc["keywords"]) == sorted(expected)
        assert doc["title"].startswith("Sapphire") and "opal" in doc["tags"]
        assert doc["description"].startswith("Tourmaline")
        postings = await services.db["listing_terms"].find(
            {"guild_id": G, "listing_id": lid}).to_list()
        assert sorted(p["term"] for p in postings) == sorted(set(expected))


# --- 3. everything a settlement records is in its transaction ------------------------------------
async def _disputed_trade(services):
    await fund(services, BUYER, 200)
    trade = await services.trades.offer(G, SELLER, BUYER, 200, "a gem scale")
    await services.trades.accept(G, trade.trade_id, BUYER)
    await services.disputes.open(G, trade.trade_id, BUYER, "the scale is broken")
    return trade.trade_id


async def test_resolution_and_its_audit_record_commit_together(services, monkeypatch):
    trade_id = await _disputed_trade(services)
    repo = services.disputes._repo
    real_log = repo.log

    async def crash_on_log(entry, *, session=None):
        raise RuntimeError("crash between settlement and audit record")

    monkeypatch.setattr(repo, "log", crash_on_log)
    with pytest.raises(RuntimeError):
        await services.disputes.resolve(G, trade_id, Actor(MOD, is_moderator=True), "refund")
    assert (await services.trades.get(G, trade_id, Actor(BUYER))).status == "disputed"
    assert await held(services, BUYER) == (0, 200)
    monkeypatch.setattr(repo, "log", real_log)
    await services.disputes.resolve(G, trade_id, Actor(MOD, is_moderator=True), "refund")
    records = await repo.audit_entries(G)
    assert [r["action"] for r in records] == ["dispute.resolve"]
    assert await held(services, BUYER) == (200, 0)
    await assert_audit_ok(services)


async def test_settlement_aborts_when_the_listing_is_out_of_step(services):
    lid = await listing(services, price=100)
    await fund(services, BUYER, 100)
    quote = await services.trades.purchase_quote(G, BUYER, lid)
    result = await services.trades.buy_listing(G, BUYER, lid, expected_price=quote.price,
                                               expected_version=quote.version)
    # Corrupt the listing's reservation (as a bug or a manual edit could).
    await services.db["listings"].update_one({"guild_id": G, "listing_id": lid},
                                             {"$set": {"trade_id": 999}})
    with pytest.raises(ListingOutOfStep):
        await services.trades.confirm(G, result.trade.trade_id, BUYER)
    assert (await services.trades.get(G, result.trade.trade_id, Actor(BUYER))).status == "reserved"
    assert await held(services, BUYER) == (0, 100)
    await assert_audit_ok(services)


# --- 7. dates keep one type on both stores ------------------------------------------------------
async def test_listing_dates_are_epoch_ms_only(services, clock):
    lid = await listing(services)
    await services.marketplace.listings.edit(G, SELLER, lid, price_gems=150)
    doc = await ListingRepo(services.db).get(G, lid)
    assert not [k for k in doc if k.endswith("_at")], doc
    assert all(isinstance(doc[k], int) for k in ("created_ts", "listed_ts", "updated_ts"))
    got = await services.marketplace.listings.get(G, lid)
    assert got.listed_at == clock.now() and got.updated_at.tzinfo is not None


async def test_migration_0005_converts_old_listing_dates_and_adds_versions(store):
    from economy.core.migrations import discover
    up = next(m.module.up for m in discover() if m.version == "0005")
    db = store.db.raw
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    await db["listings"].insert_one({
        "guild_id": G, "listing_id": 1, "status": "active", "created_at": when,
        "created_ts": int(when.timestamp() * 1000), "updated_at": "2026-03-02 08:30:00",
        "listed_at": "2026-03-01 12:00:00", "listed_ts": int(when.timestamp() * 1000)})
    await db["trades"].insert_one({"guild_id": G, "trade_id": 1, "status": "reserved"})
    await up(db)
    await up(db)  # re-runnable
    doc = await db["listings"].find_one({"listing_id": 1})
    assert doc["version"] == 0 and not [k for k in doc if k.endswith("_at")]
    assert doc["updated_ts"] == int(datetime(2026, 3, 2, 8, 30, tzinfo=UTC).timestamp() * 1000)
    assert (await db["trades"].find_one({"trade_id": 1}))["version"] == 0


# --- 5. the treasury is not one hot document ----------------------------------------------------
@pytest.mark.slow
async def test_fees_spread_over_treasury_shards_and_sum_exactly(services):
    from economy.core.ledger import TREASURY_IDS
    await fund(services, BUYER, 100_000)
    trades = []
    for i in range(40):
        offer = await services.trades.offer(G, SELLER, BUYER, 1_000, f"lot {i}")
        trades.append((await services.trades.accept(G, offer.trade_id, BUYER)).trade)
    await asyncio.gather(*[services.trades.confirm(G, t.trade_id, BUYER) for t in trades])
    accounts = await services.db["accounts"].find(
        {"guild_id": G, "user_id": {"$in": list(TREASURY_IDS)}}).to_list()
    assert len(accounts) >= 8  # 40 settlements wrote many shard documents, not one
    assert all(a["system"] for a in accounts)
    assert await services.ledger.treasury_balance(G) == 40 * 25
    board = await services.ledger.leaderboard(G, page_size=50)
    assert not set(TREASURY_IDS) & {row[1] for row in board.rows}
    await assert_audit_ok(services)


# --- 6. views do not queue behind money ---------------------------------------------------------
async def test_views_are_counted_in_memory_and_flushed_in_one_transaction(services, store):
    lids = [await listing(services, title=f"Garnet brooch {i}") for i in range(3)]
    writes_before = store.db.raw  # the flush is the only writer below
    calls = []
    real = services.db.transaction

    async def counting(work):
        calls.append(work)
        return await real(work)

    services.db.transaction = counting  # type: ignore[method-assign]
    try:
        for i in range(60):
            await services.marketplace.search.view(G, lids[i % 3], Actor(1000 + i))
        await services.marketplace.search.view(G, lids[0], Actor(SELLER))  # the seller's own views don't count
        assert calls == []  # no transaction per view
        assert await services.marketplace.sweeps.flush_views() == 60
        assert len(calls) == 1
        assert await services.marketplace.sweeps.flush_views() == 0
    finally:
        del services.db.transaction
    views = [(await ListingRepo(services.db).get(G, lid))["views"] for lid in lids]
    assert views == [20, 20, 20] and writes_before is store.db.raw
    postings = await services.db["listing_terms"].find({"guild_id": G, "listing_id": lids[0]}).to_list()
    assert postings and all(p["popularity"] == 20 for p in postings)


async def test_a_failed_view_flush_keeps_the_counts(services, monkeypatch):
    lid = await listing(services)
    await services.marketplace.search.view(G, lid, Actor(500))

    async def down(counts):
        raise ConnectionError("store down")

    monkeypatch.setattr(services.marketplace.sweeps._repo, "add_views", down)
    with pytest.raises(ConnectionError):
        await services.marketplace.sweeps.flush_views()
    monkeypatch.undo()
    assert await services.marketplace.sweeps.flush_views() == 1
    assert (await ListingRepo(services.db).get(G, lid))["views"] == 1
