"""Buying marketplace listings through escrow: races, refusals, listing states."""

from __future__ import annotations

import asyncio
import time

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InsufficientFunds, InvalidInput, NotFound
from economy.marketplace.repo import ListingRepo
from economy.trades.models import TradeUnavailable

G = 31
SELLER = 1


async def active_listing(services, price=500, title="Emerald ring"):
    draft = await services.marketplace.listings.create_draft(
        G, SELLER, category="rings", condition="new", title=title,
        description="A lovely emerald ring in 18k gold.", price_gems=price)
    await services.marketplace.listings.publish(G, SELLER, draft.listing_id)
    return draft.listing_id


async def fund(services, user, amount):
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}")


async def status_of(services, listing_id):
    return (await ListingRepo(services.db).get(G, listing_id))["status"]


async def test_twenty_buyers_race_one_wins(services):
    listing_id = await active_listing(services)
    buyers = list(range(100, 120))
    for buyer in buyers:
        await fund(services, buyer, 1000)
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *[services.trades.buy_listing(G, b, listing_id) for b in buyers], return_exceptions=True)
    elapsed = time.perf_counter() - started
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, TradeUnavailable) for o in outcomes if isinstance(o, BaseException))
    winner = winners[0].trade.buyer_id
    for buyer in buyers:
        account = await services.ledger.account(G, buyer)
        expected = (500, 500) if buyer == winner else (1000, 0)
        assert (account.balance, account.held) == expected
    assert await status_of(services, listing_id) == "reserved"
    assert await services.db["trades"].count_documents({}) == 1
    report = await audit(services.db)
    assert report.ok, report.render()
    assert elapsed < 30  # sanity only; the timing goes in the closing note


async def test_listing_lifecycle_through_escrow(services):
    listing_id = await active_listing(services)
    await fund(services, 2, 1000)
    quote = await services.trades.purchase_quote(G, 2, listing_id)
    assert (quote.price, quote.fee, quote.balance) == (500, 12, 1000)
    trade = (await services.trades.buy_listing(G, 2, listing_id)).trade
    assert trade.kind == "listing" and trade.listing_id == listing_id
    with pytest.raises(TradeUnavailable):
        await services.trades.buy_listing(G, 3, listing_id)  # reserved
    await services.trades.cancel(G, trade.trade_id, SELLER)
    assert await status_of(services, listing_id) == "active"  # back on the market
    trade = (await services.trades.buy_listing(G, 2, listing_id)).trade
    await services.trades.confirm(G, trade.trade_id, 2)
    listing = await ListingRepo(services.db).get(G, listing_id)
    assert listing["status"] == "sold" and listing["buyer_id"] == 2
    assert await services.ledger.balance(G, SELLER) == 488
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_refusals_leave_money_and_listing_alone(services):
    listing_id = await active_listing(services)
    await fund(services, 2, 100)
    with pytest.raises(InvalidInput):
        await services.trades.buy_listing(G, SELLER, listing_id)
    with pytest.raises(InsufficientFunds):
        await services.trades.buy_listing(G, 2, listing_id)
    with pytest.raises(NotFound):
        await services.trades.buy_listing(G, 2, 999)
    assert await status_of(services, listing_id) == "active"
    assert (await services.ledger.account(G, 2)).held == 0
    await services.marketplace.listings.withdraw(G, SELLER, listing_id)
    await fund(services, 3, 1000)
    with pytest.raises(TradeUnavailable):
        await services.trades.buy_listing(G, 3, listing_id)
    assert await services.ledger.balance(G, 3) == 1000
    assert await services.db["trades"].count_documents({}) == 0


async def test_dispute_refund_puts_the_listing_back_and_release_sells_it(services):
    first = await active_listing(services, title="Opal")
    second = await active_listing(services, title="Pearl")
    await fund(services, 2, 2000)
    t1 = (await services.trades.buy_listing(G, 2, first)).trade
    t2 = (await services.trades.buy_listing(G, 2, second)).trade
    for trade in (t1, t2):
        await services.disputes.open(G, trade.trade_id, 2, "Not as described")
    await services.disputes.resolve(G, t1.trade_id, Actor(50, is_moderator=True), "refund")
    await services.disputes.resolve(G, t2.trade_id, Actor(50, is_moderator=True), "split", percent=50)
    assert await status_of(services, first) == "active"
    assert await status_of(services, second) == "sold"
    report = await audit(services.db)
    assert report.ok, report.render()
