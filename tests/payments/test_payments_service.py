"""Card payments through the real stripe library against the local API double: checkout,
verified webhooks (forged, stale, replayed, out of order, other guild), escrow outcomes, packs."""

from __future__ import annotations

import asyncio
import time

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotPermitted
from economy.marketplace.repo import ListingRepo
from economy.payments.repo import PaymentRepo
from economy.payments.stripe_gateway import PaymentsUnavailable, WebhookRejected
from economy.trades.models import QuoteChanged, TradeUnavailable
from tests.payments.conftest import (
    BUYER,
    MOD,
    SELLER,
    G,
    post_event,
    quote,
    usd_listing,
)

pytestmark = pytest.mark.timeout(60)

OTHER_BUYER = 3


async def listing_status(services, listing_id):
    return (await ListingRepo(services.db).get(G, listing_id))["status"]


async def buy(services, listing_id, buyer=BUYER):
    return await services.payments.checkout.for_listing(G, buyer, listing_id,
                                                    **await quote(services, listing_id))


def session_id_of(link) -> str:
    return link.url.rsplit("/", 1)[1]


async def paid_trade(services, double, listing_id=None):
    listing_id = listing_id or await usd_listing(services)
    link = await buy(services, listing_id)
    outcome = await post_event(services, double.complete(session_id_of(link)))
    assert outcome.result == "trade_paid", outcome
    return outcome.trade, link


async def test_checkout_reserves_listing_and_sends_stripe_the_quote(pay, double):
    listing_id = await usd_listing(pay, "12.50")
    link = await buy(pay, listing_id)
    assert link.url.startswith(double.url) and link.amount == 1250
    assert await listing_status(pay, listing_id) == "reserved"
    [call] = double.calls_to("POST", "/v1/checkout/sessions")
    item = call.params["line_items"][0]["price_data"]
    assert (item["unit_amount"], item["currency"]) == ("1250", "usd")
    assert call.params["mode"] == "payment"
    assert call.params["metadata"]["guild_id"] == str(G)
    assert call.params["metadata"]["buyer_id"] == str(BUYER)
    assert call.params["success_url"].startswith("http://gems.test/stripe/")
    assert call.idempotency_key and f"buyer-{BUYER}" in call.idempotency_key
    # Pressing again hands out the same session; another buyer is refused.
    again = await buy(pay, listing_id)
    assert again.url == link.url and again.reused
    assert len(double.calls_to("POST", "/v1/checkout/sessions")) == 1
    with pytest.raises(TradeUnavailable):
        await buy(pay, listing_id, buyer=OTHER_BUYER)


async def test_completed_opens_a_paid_trade_and_confirm_transfers_once(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_payout_mode", "connect")
    url, ready = await pay.payments.payouts.connect(G, SELLER)
    assert url.startswith(double.url) and not ready
    listing_id = await usd_listing(pay)
    with pytest.raises(PaymentsUnavailable, match="finished connecting"):
        await buy(pay, listing_id)  # onboarding not finished: no card sales yet
    double.onboard(url.rsplit("/", 1)[1])
    trade, _ = await paid_trade(pay, double, listing_id)
    assert (trade.status, trade.currency, trade.price, trade.fee_bps) == ("reserved", "usd", 1250, 500)
    await pay.trades.mark_delivered(G, trade.trade_id, SELLER)
    result = await pay.trades.confirm(G, trade.trade_id, BUYER)
    assert result.trade.status == "completed"
    [transfer] = double.transfers
    assert transfer["amount"] == 1250 - 62 and transfer["currency"] == "usd"
    [call] = double.calls_to("POST", "/v1/transfers")
    assert call.idempotency_key == f"gems-{G}-trade:{trade.trade_id}:payout"
    assert (await ListingRepo(pay.db).get(G, trade.listing_id))["status"] == "sold"
    exported = (await pay.trade_export.to_csv(G, Actor(MOD, is_admin=True))).splitlines()
    assert exported[0].endswith(",currency") and exported[1].endswith(",usd")
    # GEMS never moved for the USD part.
    assert await pay.db["ledger"].count_documents({"guild_id": G}) == 0
    with pytest.raises(TradeUnavailable):
        await pay.trades.confirm(G, trade.trade_id, BUYER)
    assert len(double.transfers) == 1


async def test_dispute_outcomes_refund_through_stripe_once(pay, double):
    trade, _ = await paid_trade(pay, double)
    await pay.disputes.open(G, trade.trade_id, BUYER, "It never arrived at all")
    await asyncio.gather(*[pay.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "refund")
                           for _ in range(5)], return_exceptions=True)
    [refund] = double.refunds
    assert refund["amount"] == 1250
    keys = {c.idempotency_key for c in double.calls_to("POST", "/v1/refunds")}
    assert keys == {f"gems-{G}-trade:{trade.trade_id}:refund"}
    assert (await ListingRepo(pay.db).get(G, trade.listing_id))["status"] == "active"


async def test_split_refunds_the_buyer_share_and_records_a_manual_payout(pay, double):
    trade, _ = await paid_trade(pay, double)
    await pay.disputes.open(G, trade.trade_id, SELLER, "Buyer says half is missing")
    await pay.disputes.resolve(G, trade.trade_id, Actor(MOD, is_moderator=True), "split", percent=40)
    assert [r["amount"] for r in double.refunds] == [750]
    assert double.transfers == []  # manual mode: the guild pays the seller itself
    status = await pay.payments.reports.status(G, Actor.system())
    [due] = status["manual_due"]
    assert due["amount"] == 500 - 25 and due["user_id"] == SELLER
    await pay.payments.payouts.record_manual_payout(G, trade.trade_id, Actor.system(), note="paypal")
    with pytest.raises(Exception, match="no manual payout due"):
        await pay.payments.payouts.record_manual_payout(G, trade.trade_id, Actor.system())


async def test_expired_releases_and_late_events_are_no_ops(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    sid = session_id_of(link)
    assert (await post_event(pay, double.expire(sid))).result == "released"
    assert await listing_status(pay, listing_id) == "active"
    # Stripe may deliver the same expiry twice, or with a new id: nothing more happens.
    assert (await post_event(pay, double.expire(sid))).result == "ignored"


async def test_expired_after_completed_is_a_no_op(pay, double):
    trade, link = await paid_trade(pay, double)
    sid = session_id_of(link)
    assert (await post_event(pay, double.event("checkout.session.expired",
                                               double.sessions[sid]))).result == "ignored"
    fresh = await pay.trades.get(G, trade.trade_id, Actor(BUYER))
    assert fresh.status == "reserved"
    assert await listing_status(pay, trade.listing_id) == "reserved"


async def test_replayed_and_concurrent_completed_events_open_one_trade(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    event = double.complete(session_id_of(link))
    outcomes = await asyncio.gather(*[post_event(pay, event) for _ in range(5)])
    assert sorted(o.result for o in outcomes).count("trade_paid") == 1
    other_id = dict(event, id="evt_other")  # same session, another event id
    assert (await post_event(pay, other_id)).result == "duplicate"
    assert await pay.db["trades"].count_documents({"guild_id": G}) == 1


async def test_forged_stale_and_non_json_webhooks_are_rejected(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    event = double.complete(session_id_of(link))
    with pytest.raises(WebhookRejected):
        await post_event(pay, event, secret="whsec_somebodyelse0000000")
    with pytest.raises(WebhookRejected):
        await post_event(pay, event, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookRejected):
        await pay.payments.settlement.handle_webhook(b"{not json", "t=1,v1=00")
    body, header = double.signed("this is not json", "whsec_gemstestsecret000000")
    with pytest.raises(WebhookRejected):
        await pay.payments.settlement.handle_webhook(body.encode(), header)
    with pytest.raises(WebhookRejected):
        await pay.payments.settlement.handle_webhook(b"{}", None)
    assert await listing_status(pay, listing_id) == "reserved"
    assert await pay.db["trades"].count_documents({}) == 0
    assert await pay.db["pay_events"].count_documents({}) == 0


async def test_event_naming_another_guild_changes_nothing(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    sid = session_id_of(link)
    double.complete(sid)
    forged = dict(double.sessions[sid], metadata={**double.sessions[sid]["metadata"],
                                                    "guild_id": str(G + 1)})
    assert (await post_event(pay, double.event("checkout.session.completed", forged))).result \
        == "ignored"
    wrong_buyer = dict(double.sessions[sid], metadata={**double.sessions[sid]["metadata"],
                                                         "buyer_id": "777"})
    assert (await post_event(pay, double.event("checkout.session.completed",
                                               wrong_buyer))).result == "ignored"
    assert await pay.db["trades"].count_documents({}) == 0


async def test_sweep_releases_when_no_webhook_comes_once_with_two_processes(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    pay.clock.advance(minutes=36)
    outcomes = await asyncio.gather(pay.payments.settlement.sweep(), pay.payments.settlement.sweep())
    assert sum(len(o) for o in outcomes) == 1
    assert await listing_status(pay, listing_id) == "active"
    assert double.sessions[session_id_of(link)]["status"] == "expired"


async def test_sweep_finds_a_payment_whose_webhook_was_lost(pay, double):
    listing_id = await usd_listing(pay)
    link = await buy(pay, listing_id)
    double.complete(session_id_of(link))  # paid, but the webhook never arrives
    pay.clock.advance(minutes=36)
    [outcome] = await pay.payments.settlement.sweep()
    assert outcome.result == "trade_paid" and outcome.trade.status == "reserved"


async def test_failed_refund_stays_pending_and_the_sweep_retries(pay, double):
    trade, _ = await paid_trade(pay, double)
    double.fail_next = 10  # Stripe is down (the library retries twice per call)
    await pay.trades.cancel(G, trade.trade_id, SELLER)
    assert double.refunds == []
    double.fail_next = 0
    await pay.payments.settlement.sweep()
    await pay.payments.settlement.sweep()
    assert [r["amount"] for r in double.refunds] == [1250]


async def test_bad_input_is_refused_with_nothing_reserved(pay, double, services):
    listing_id = await usd_listing(pay, "0.40")
    with pytest.raises(InvalidInput, match="at least"):
        await buy(pay, listing_id)
    assert await listing_status(pay, listing_id) == "active"
    listing_id = await usd_listing(pay, "20.00", title="Ruby ring")
    with pytest.raises(QuoteChanged):
        await pay.payments.checkout.for_listing(G, BUYER, listing_id, expected_cents=1000,
                                            expected_version=(await quote(pay, listing_id))["expected_version"])
    await pay.settings.set(G, Actor.system(), "payments_currency", "eur")
    with pytest.raises(InvalidInput, match="priced in USD"):
        await buy(pay, listing_id)
    await pay.settings.set(G, Actor.system(), "payments_currency", "usd")
    await pay.settings.set(G, Actor.system(), "payments_usd", "no")
    with pytest.raises(PaymentsUnavailable, match="turned off"):
        await buy(pay, listing_id)
    await pay.settings.set(G, Actor.system(), "payments_usd", "yes")
    pay.payments.stripe.configure(None, lambda: "http://gems.test")
    with pytest.raises(PaymentsUnavailable, match="not set up"):
        await buy(pay, listing_id)
    assert await listing_status(pay, listing_id) == "active"
    assert double.calls_to("POST", "/v1/checkout/sessions") == []


async def test_connect_required_before_card_sales_in_connect_mode(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_payout_mode", "connect")
    listing_id = await usd_listing(pay)
    with pytest.raises(PaymentsUnavailable, match="payout account"):
        await buy(pay, listing_id)
    assert await listing_status(pay, listing_id) == "active"


async def test_stripe_down_at_checkout_releases_the_reservation(pay, double):
    listing_id = await usd_listing(pay)
    double.fail_next = 10
    with pytest.raises(PaymentsUnavailable):
        await buy(pay, listing_id)
    assert await listing_status(pay, listing_id) == "active"


async def test_pack_minted_once_under_ten_concurrent_deliveries(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_packs", "yes")
    pack = await pay.payments.packs.add(G, Actor.system(), 1000, "4.99")
    link = await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    event = double.complete(session_id_of(link))
    outcomes = await asyncio.gather(*[post_event(pay, event) for _ in range(10)])
    assert [o.result for o in outcomes].count("pack_minted") == 1
    assert await pay.ledger.balance(G, BUYER) == 1000
    renamed = dict(event, id="evt_redelivered")
    assert (await post_event(pay, renamed)).result == "duplicate"
    assert await pay.ledger.balance(G, BUYER) == 1000
    [entry] = await pay.db["ledger"].find({"guild_id": G}).to_list()
    assert entry["kind"] == "purchase" and entry["mint"] is True
    assert (await pay.ledger.account(G, BUYER)).lifetime_earned == 0
    report = await audit(pay.db)
    assert report.ok, report.render()


async def test_pack_admin_checks_and_minimum(pay, double):
    with pytest.raises(NotPermitted):
        await pay.payments.packs.add(G, Actor(5), 1000, "4.99")
    with pytest.raises(InvalidInput, match="at least"):
        await pay.payments.packs.add(G, Actor.system(), 1000, "0.10")
    pack = await pay.payments.packs.add(G, Actor.system(), 1000, "4.99")
    with pytest.raises(PaymentsUnavailable, match="packs"):
        await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    assert await pay.payments.reports.history(G, Actor.system()) == []
    csv_text = await pay.payments.reports.history_csv(G, Actor.system())
    assert csv_text.startswith("when_utc,")


async def test_charge_notices_reach_moderators_by_payment_intent(pay, double):
    trade, link = await paid_trade(pay, double)
    sid = session_id_of(link)
    outcome = await post_event(pay, double.charge_event("charge.dispute.created", sid))
    assert outcome.result == "notice" and f"trade #{trade.trade_id}" in outcome.notice
    outcome = await post_event(pay, double.charge_event("charge.refunded", sid))
    assert outcome.result == "notice" and "refunded $12.50" in outcome.notice


async def test_payout_failing_for_a_day_is_marked_stuck_not_retried(pay, double):
    trade, _ = await paid_trade(pay, double)
    double.fail_next = 100
    await pay.trades.cancel(G, trade.trade_id, SELLER)
    double.fail_next = 0
    pay.clock.advance(hours=24)
    outcomes = await pay.payments.settlement.sweep()
    assert [o.result for o in outcomes] == ["notice"] and "no longer retried" in outcomes[0].notice
    assert double.refunds == []
    assert await pay.payments.settlement.sweep() == []
    status = await pay.payments.reports.status(G, Actor.system())
    assert [p["payout_id"] for p in status["stuck_payouts"]] == [f"trade:{trade.trade_id}:refund"]


async def test_two_sweeps_retrying_one_refund_refund_once(pay, double):
    trade, _ = await paid_trade(pay, double)
    double.fail_next = 100
    await pay.trades.cancel(G, trade.trade_id, SELLER)
    double.fail_next = 0
    await asyncio.gather(pay.payments.settlement.sweep(), pay.payments.settlement.sweep())
    assert [r["amount"] for r in double.refunds] == [1250]
    [payout] = await PaymentRepo(pay.db).payouts_for_trade(G, trade.trade_id)
    assert payout["status"] == "done"


async def test_a_buyer_can_hold_at_most_two_card_reservations_even_racing(pay, double):
    listings = [await usd_listing(pay, title=f"Ring {i}") for i in range(4)]
    outcomes = await asyncio.gather(*[buy(pay, lid) for lid in listings], return_exceptions=True)
    links = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(links) == 2, outcomes
    assert all(isinstance(o, NotPermitted | TradeUnavailable) for o in outcomes
               if isinstance(o, BaseException)), outcomes
    statuses = [await listing_status(pay, lid) for lid in listings]
    assert statuses.count("reserved") == len(links)
    assert await pay.db["pay_checkouts"].count_documents(
        {"status": {"$in": ["open", "creating"]}}) == len(links)
    # A reservation that ends frees its slot.
    await post_event(pay, double.expire(session_id_of(links[0])))
    third = next(lid for lid, st in zip(listings, statuses, strict=True) if st == "active")
    assert (await buy(pay, third)).amount == 1250
