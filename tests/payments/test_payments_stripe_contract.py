"""What Stripe's contract for the pinned API version asks of the payments service: amounts in
each currency's minor unit, transfers out of the buyer's charge, controller-configured connected
accounts ready by their `transfers` capability, and a paid session with another amount or
currency refunded automatically (listing released, recorded, reported once)."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput
from economy.marketplace.repo import ListingRepo
from economy.payments.repo import PaymentRepo
from tests.payments.conftest import BUYER, SELLER, G, post_event, quote, usd_listing

pytestmark = pytest.mark.timeout(60)


def session_id_of(link) -> str:
    return link.url.rsplit("/", 1)[1]


async def buy(services, listing_id):
    return await services.payments.checkout.for_listing(G, BUYER, listing_id,
                                                    **await quote(services, listing_id))


async def test_a_yen_pack_is_sent_and_shown_in_yen(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_currency", "jpy")
    await pay.settings.set(G, Actor.system(), "payments_packs", "yes")
    pack = await pay.payments.packs.add(G, Actor.system(), 1000, "500")
    assert (pack["cents"], pack["currency"]) == (500, "jpy")
    link = await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    assert (link.amount, link.currency) == (500, "jpy")
    [call] = double.calls_to("POST", "/v1/checkout/sessions")
    item = call.params["line_items"][0]["price_data"]
    assert (item["unit_amount"], item["currency"]) == ("500", "jpy")  # ¥500, not ¥50,000
    assert "payment_method_types" not in call.params
    assert call.params["allowed_payment_method_types"] == ["card"]
    outcome = await post_event(pay, double.complete(session_id_of(link)))
    assert outcome.result == "pack_minted" and await pay.ledger.balance(G, BUYER) == 1000
    history = await pay.payments.reports.history(G, Actor.system())
    assert history[0]["amount"] == 500
    for price, message in (("500.5", "no fractions"), ("49", "at least 50 JPY")):
        with pytest.raises(InvalidInput, match=message):
            await pay.payments.packs.add(G, Actor.system(), 1000, price)
    assert [p["pack_id"] for p in await pay.payments.packs.on_sale(G)] == [pack["pack_id"]]


async def test_connected_accounts_use_controller_and_are_ready_by_transfers_capability(pay,
                                                                                       double):
    await pay.settings.set(G, Actor.system(), "payments_payout_mode", "connect")
    url, ready = await pay.payments.payouts.connect(G, SELLER)
    assert not ready
    [call] = double.calls_to("POST", "/v1/accounts")
    assert "type" not in call.params  # deprecated on the pinned version
    assert call.params["controller"]["stripe_dashboard"]["type"] == "express"
    assert call.params["capabilities"]["transfers"]["requested"] == "true"
    account = url.rsplit("/", 1)[1]
    # Details submitted and payouts enabled are not enough: transfers must be active.
    double.accounts[account].update(details_submitted=True, payouts_enabled=True)
    assert not (await pay.payments.payouts.connect(G, SELLER))[1]
    double.onboard(account)
    assert (await pay.payments.payouts.connect(G, SELLER))[1]


async def test_connect_transfer_comes_out_of_the_buyers_charge(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_payout_mode", "connect")
    url, _ = await pay.payments.payouts.connect(G, SELLER)
    double.onboard(url.rsplit("/", 1)[1])
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    outcome = await post_event(pay, double.complete(session_id_of(link)))
    trade = outcome.trade
    await pay.trades.mark_delivered(G, trade.trade_id, SELLER)
    await pay.trades.confirm(G, trade.trade_id, BUYER)
    [transfer] = double.transfers
    intent = double.sessions[session_id_of(link)]["payment_intent"]
    assert transfer["source_transaction"] == double.payment_intents[intent]["latest_charge"]
    assert transfer["amount"] == 1250 - 62
    [payout] = await PaymentRepo(pay.db).payouts_for_trade(G, trade.trade_id)
    assert payout["status"] == "done" and payout["stripe_id"] == transfer["id"]


async def test_a_mismatched_payment_is_refunded_released_recorded_and_reported_once(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    sid = session_id_of(link)
    event = double.complete(sid, amount=999)
    outcomes = await asyncio.gather(*[post_event(pay, event) for _ in range(5)])
    results = [o.result for o in outcomes]
    assert results.count("mismatch_refunded") == 1, results
    notice = next(o.notice for o in outcomes if o.result == "mismatch_refunded")
    assert "expected $12.50, got $9.99" in notice and "refunded in full" in notice
    [refund] = double.refunds
    assert refund["amount"] == 999 and refund["payment_intent"] == double.sessions[sid][
        "payment_intent"]
    [call] = [c for c in double.calls_to("POST", "/v1/refunds") if c.status == 200]
    assert call.idempotency_key == f"gems-{G}-checkout:{link.checkout_no}:refund"
    assert (await ListingRepo(pay.db).get(G, listing_id))["status"] == "active"
    checkout = await PaymentRepo(pay.db).checkout(G, link.checkout_no)
    assert (checkout["status"], checkout["paid_amount"]) == ("mismatched", 999)
    assert await pay.db["trades"].count_documents({"guild_id": G}) == 0
    # Redelivered under a new id, or found again by the sweep: nothing more happens.
    assert (await post_event(pay, dict(event, id="evt_again"))).result == "duplicate"
    pay.clock.advance(minutes=40)
    assert await pay.payments.settlement.sweep() == []
    assert len(double.refunds) == 1
    # The buyer's reservation slot was freed with the listing.
    assert (await buy(pay, listing_id)).amount == 1250


async def test_a_payment_in_another_currency_found_by_the_sweep_is_refunded_once(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_packs", "yes")
    pack = await pay.payments.packs.add(G, Actor.system(), 1000, "4.99")
    link = await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    double.complete(session_id_of(link), currency="eur")  # the webhook never arrives
    pay.clock.advance(minutes=36)
    outcomes = await asyncio.gather(pay.payments.settlement.sweep(), pay.payments.settlement.sweep())
    [outcome] = [o for found in outcomes for o in found]
    assert outcome.result == "mismatch_refunded" and "4.99 EUR" in outcome.notice
    pay.clock.advance(minutes=1)
    assert await pay.payments.settlement.sweep() == []  # the checkout is no longer open: no repeat
    assert [(r["amount"], r["currency"]) for r in double.refunds] == [(499, "eur")]
    assert await pay.ledger.balance(G, BUYER) == 0
    report = await audit(pay.db)
    assert report.ok, report.render()
