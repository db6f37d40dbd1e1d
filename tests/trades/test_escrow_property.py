"""Randomized interleavings of every escrow action: legal end states, audit after every step."""

from __future__ import annotations

import asyncio
import random

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import GemsError
from economy.marketplace.repo import ListingRepo
from economy.trades.models import FINAL_STATUSES
from economy.trades.repo import TradeRepo
from tests.conftest import relax_offer_limits
from tests.depth import deep

G = 5


@pytest.fixture(autouse=True)
async def _many_offers(services):
    await relax_offer_limits(services, G)
USERS = list(range(1, 9))
MOD = 100

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

LEGAL = {
    "offered": {"offered", "reserved", "declined", "expired"},
    "reserved": {"reserved", "delivered", "completed", "cancelled", "disputed", "resolved"},
}


async def random_action(services, rng, trades, listings, clock):
    escrow = services.trades
    roll = rng.random()
    if roll < 0.12 or not trades:
        seller, buyer = rng.sample(USERS, 2)
        trade = await escrow.offer(G, seller, buyer, rng.randint(1, 400), f"item {rng.random():.5f}")
        trades.append(trade.trade_id)
        return
    if roll < 0.20:
        seller = rng.choice(USERS)
        draft = await services.marketplace.listings.create_draft(
            G, seller, category="rings", condition="good", title=f"Ring {rng.randint(1, 10**6)}",
            description="A ring for the property test.", price_gems=rng.randint(1, 400))
        await services.marketplace.listings.publish(G, seller, draft.listing_id)
        listings.append(draft.listing_id)
        return
    if roll < 0.30 and listings:
        result = await escrow.buy_listing(G, rng.choice(USERS), rng.choice(listings))
        trades.append(result.trade.trade_id)
        return
    open_ids = [d["trade_id"] for d in await TradeRepo(services.db).by_status(
        G, ["offered", "reserved", "delivered", "disputed"], limit=60)]
    tid = rng.choice(open_ids) if open_ids and rng.random() < 0.85 else rng.choice(trades)
    trade = await TradeRepo(services.db).get(G, tid)
    buyer, seller = trade["buyer_id"], trade["seller_id"]
    action = rng.choices(
        ["accept", "decline", "deliver", "confirm", "cancel", "mutual_b", "mutual_s", "dispute",
         "resolve", "sweep", "stranger"],
        weights=[6, 1, 5, 4, 2, 1, 1, 2, 3, 2, 1])[0]
    if action == "accept":
        await escrow.accept(G, tid, buyer)
    elif action == "decline":
        await escrow.decline(G, tid, rng.choice([buyer, seller]))
    elif action == "deliver":
        await escrow.mark_delivered(G, tid, seller, "shipped")
    elif action == "confirm":
        await escrow.confirm(G, tid, buyer)
    elif action == "cancel":
        await escrow.cancel(G, tid, seller)
    elif action == "mutual_b":
        await escrow.vote_mutual_cancel(G, tid, buyer)
    elif action == "mutual_s":
        await escrow.vote_mutual_cancel(G, tid, seller)
    elif action == "dispute":
        await services.disputes.open(G, tid, rng.choice([buyer, seller]), "something went wrong")
    elif action == "resolve":
        outcome = rng.choice(["refund", "release", "split"])
        await services.disputes.resolve(G, tid, Actor(MOD + rng.randint(0, 2), is_moderator=True), outcome, percent=rng.randint(0, 100))
    elif action == "sweep":
        clock.advance(hours=rng.choices([1, 6, 30, 80], weights=[6, 3, 2, 1])[0])
        await escrow.sweep()
    else:
        stranger = next(u for u in USERS if u not in (buyer, seller))
        await escrow.confirm(G, tid, stranger)


@pytest.mark.parametrize(("seed", "batches"), [(1, deep(100, 300)), (2, deep(90, 150))])
async def test_random_interleavings_keep_the_ledger_whole(services, clock, seed, batches):
    rng = random.Random(seed)
    for user in USERS:
        await services.ledger.grant(G, Actor.system(), user, 3000, reason="seed", key=f"seed:{user}")
    await services.settings.set(G, Actor.system(), "escrow_new_member_trades", "0")
    trades: list[int] = []
    listings: list[int] = []
    steps = 0
    refused = 0
    for _ in range(batches):
        batch = [random_action(services, rng, trades, listings, clock)
                 for _ in range(rng.randint(1, 8))]
        for outcome in await asyncio.gather(*batch, return_exceptions=True):
            steps += 1
            if isinstance(outcome, GemsError):
                refused += 1
            elif isinstance(outcome, BaseException):
                raise outcome
        report = await audit(services.db)
        assert report.ok, report.render()
    # Finish everything: the timers settle whatever is still held.
    clock.advance(days=30)
    await services.trades.sweep()
    clock.advance(days=30)
    await services.trades.sweep()
    held_total = 0
    for user in USERS:
        held_total += (await services.ledger.account(G, user)).held
    open_disputes = await services.db["trades"].count_documents({"status": "disputed"})
    for tid in trades:
        trade = await services.trades.get(G, tid, Actor.system())
        assert trade.status in FINAL_STATUSES or trade.status == "disputed", trade.status
        settlements = await services.db["ledger"].count_documents(
            {"idempotency_key": f"trade:{tid}:settle", "leg": 0})
        held = any(e.event in ("accepted", "reserved") for e in trade.timeline)
        assert settlements == (1 if trade.status in ("completed", "cancelled", "resolved")
                               and held else 0)
        if trade.listing_id is not None:
            listing = await ListingRepo(services.db).get(G, trade.listing_id)
            if trade.status == "completed" or (trade.status == "resolved"
                                               and trade.resolution["to_seller"] > 0):
                assert listing["status"] == "sold" and listing["buyer_id"] == trade.buyer_id
    disputed_held = sum(
        d["price"] for d in await services.db["trades"].find({"status": "disputed"}).to_list())
    assert held_total == disputed_held, (held_total, disputed_held, open_disputes)
    total = sum([(await services.ledger.account(G, u)).balance for u in USERS]) + held_total
    treasury = await services.ledger.treasury_balance(G)
    assert total + treasury == 3000 * len(USERS)
    assert steps > 400 * batches / 150 and refused < steps
    statuses = {(await services.trades.get(G, t, Actor.system())).status for t in trades}
    assert {"completed", "cancelled", "resolved"} <= statuses, statuses
    print(f"seed {seed}: {steps} actions, {refused} refused, {len(trades)} trades, "
          f"{len(listings)} listings, end states {sorted(statuses)}")
    report = await audit(services.db)
    assert report.ok, report.render()
