"""Settlement: verified Stripe webhooks applied once, and the sweep that reconciles what no
webhook told us.

- `checkout.session.completed` turns the checkout into a paid trade (status `reserved`, currency
  usd) in one transaction guarded by the checkout's status; from there the trade follows the
  escrow state machine (economy/trades/trades.py), and what it owes when it settles is paid by
  economy/payments/payouts.py. A GEMS pack's mint is one ledger movement under the key
  `stripe:<session id>:mint`, however often or concurrently its `completed` event arrives.
- A payment whose amount or currency is not the checkout's, or that arrives after the
  reservation ended, is refunded in full (the refund recorded with the guarded status change).
- `expired` (or the sweep, when no webhook comes) releases the listing.
Events are stored by id: a replayed id answers without acting; events for sessions this guild
did not create, or whose metadata disagrees with the checkout, change nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import InvalidInput
from economy.core.ledger import LedgerService
from economy.core.settings import SettingsService
from economy.marketplace.repo import ListingRepo
from economy.payments._shared import Missed, StripeLink, int_or_none, listing_buyer, payout_doc
from economy.payments.checkout import CheckoutService
from economy.payments.currencies import format_amount
from economy.payments.models import PaymentOutcome
from economy.payments.payouts import PayoutService
from economy.payments.repo import PaymentRepo
from economy.payments.stripe_gateway import CheckoutSession, PaymentsUnavailable
from economy.repos.base import Doc
from economy.trades.repo import TradeRepo
from economy.trades.trades import TradeService

log = logging.getLogger(__name__)

SWEEP_GRACE_MINUTES = 5  # the webhook normally releases first; the sweep catches a lost one


class SettlementService:
    """Applies Stripe's events to checkouts (paid, mismatched, late, expired, refunded,
    disputed) and runs the payments sweep."""

    def __init__(self, repo: PaymentRepo, trade_repo: TradeRepo, listings: ListingRepo,
                 escrow: TradeService, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, stripe: StripeLink, checkouts: CheckoutService,
                 payouts: PayoutService) -> None:
        self._repo = repo
        self._trades = trade_repo
        self._listings = listings
        self._escrow = escrow
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._stripe = stripe
        self._checkouts = checkouts
        self._payouts = payouts

    # --- webhooks ----------------------------------------------------------------------------
    async def handle_webhook(self, payload: bytes, signature: str | None) -> PaymentOutcome:
        """Verify and apply one webhook request.

        Raises: PaymentsUnavailable (Stripe not configured); WebhookRejected (a bad signature,
        a stale timestamp or a body that is not an event).
        """
        event = self._stripe.require().verify(payload, signature)
        return await self.apply_event(event)

    async def apply_event(self, event: dict[str, Any]) -> PaymentOutcome:
        """Apply a verified event once (replays of its id do nothing).

        Raises: nothing of its own: an event that does not fit is `ignored`; a Stripe failure
        while refunding leaves the refund pending for the sweep.
        """
        event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
        obj = (event.get("data") or {}).get("object") or {}
        guild_id = int_or_none((obj.get("metadata") or {}).get("guild_id")) or 0
        now = self._clock.now()
        seen = await self._repo.record_event({
            "guild_id": guild_id, "event_id": event_id, "type": kind, "status": "received",
            "received_at": now, "received_ms": to_ms(now), "object_id": obj.get("id")})
        if seen is not None and seen.get("status") == "processed":
            return PaymentOutcome("duplicate", guild_id=guild_id)
        if kind == "checkout.session.completed":
            outcome = await self._completed(guild_id, CheckoutSession.of(obj))
        elif kind == "checkout.session.expired":
            outcome = await self._expired(guild_id, CheckoutSession.of(obj))
        elif kind in ("charge.refunded", "charge.dispute.created"):
            outcome = await self._charge_notice(guild_id, kind, obj)
        else:
            outcome = PaymentOutcome("ignored", guild_id=guild_id)
        await self._repo.finish_event(guild_id, event_id, outcome.result)
        return outcome

    async def _checkout_of(self, guild_id: int, session: CheckoutSession) -> Doc | None:
        """The checkout a session belongs to, when the event's metadata agrees with it."""
        if not guild_id or not session.session_id:
            return None
        checkout = await self._repo.checkout_by_session(guild_id, session.session_id)
        meta = session.metadata
        if checkout is None or int_or_none(meta.get("checkout")) != checkout["checkout_no"] \
                or int_or_none(meta.get("buyer_id")) != checkout["buyer_id"] \
                or meta.get("kind") != checkout["kind"]:
            log.warning("stripe event for unknown session %s in guild %s ignored",
                        session.session_id, guild_id)
            return None
        return checkout

    async def _completed(self, guild_id: int, session: CheckoutSession) -> PaymentOutcome:
        checkout = await self._checkout_of(guild_id, session)
        if checkout is None:
            return PaymentOutcome("ignored", guild_id=guild_id)
        if session.payment_status != "paid":
            return PaymentOutcome("ignored", guild_id=guild_id)
        if session.amount_total != checkout["amount"] \
                or (session.currency or "").lower() != checkout["currency"]:
            return await self._refund_mismatch(checkout, session)
        if checkout["kind"] == "pack":
            return await self._mint_pack(checkout, session)
        return await self._open_paid_trade(checkout, session)

    async def _open_paid_trade(self, checkout: Doc, session: CheckoutSession) -> PaymentOutcome:
        guild_id, trade_id = checkout["guild_id"], checkout["trade_id"]
        listing = await self._listings.get(guild_id, checkout["target"])
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        if listing is not None and checkout["status"] in ("creating", "open"):
            doc = self._escrow.card_trade_doc(
                guild_id, trade_id, listing, checkout["buyer_id"], checkout["amount"],
                checkout["currency"], settings.payments_fee_bps, settings, now)
            doc["payment"] = {"checkout_no": checkout["checkout_no"],
                              "payment_intent": session.payment_intent}
            note = f"paid {format_amount(checkout['amount'], checkout['currency'])} by card"

            async def pay(s: Any) -> None:
                if not await self._repo.move_checkout(
                        guild_id, checkout["checkout_no"], ("creating", "open"), "paid",
                        {"payment_intent": session.payment_intent, "paid_ms": to_ms(now)},
                        session=s):
                    raise Missed
                await self._repo.free_open_slot(guild_id, checkout["checkout_no"], session=s)
                await self._trades.insert(doc, self._escrow.paid_event(
                    now, checkout["buyer_id"], note), session=s)

            try:
                await self._repo.db.transaction(pay)
                trade = await self._escrow.get(guild_id, trade_id, Actor.system())
                return PaymentOutcome("trade_paid", guild_id=guild_id, trade=trade,
                                      buyer_id=checkout["buyer_id"],
                                      channel_id=checkout.get("channel_id"))
            except Missed:
                pass
        fresh = await self._repo.checkout(guild_id, checkout["checkout_no"])
        if fresh is None or fresh["status"] in ("paid", "refund_due", "mismatched"):
            return PaymentOutcome("duplicate", guild_id=guild_id)
        # Paid after the listing was released (expired/failed locally): give the money back.
        return await self._refund_late_payment(fresh, session)

    async def _refund_late_payment(self, checkout: Doc, session: CheckoutSession) -> PaymentOutcome:
        guild_id = checkout["guild_id"]
        payout = payout_doc(self._clock, guild_id, f"checkout:{checkout['checkout_no']}:refund",
                            "refund", checkout["amount"], checkout["currency"],
                            trade_id=checkout.get("trade_id"),
                            payment_intent=session.payment_intent)

        async def mark(s: Any) -> None:
            if not await self._repo.move_checkout(
                    guild_id, checkout["checkout_no"], ("expired", "failed"), "refund_due",
                    {"payment_intent": session.payment_intent}, session=s):
                raise Missed
            await self._repo.insert_payout(payout, session=s)

        try:
            await self._repo.db.transaction(mark)
        except Missed:
            return PaymentOutcome("duplicate", guild_id=guild_id)
        await self._payouts.carry_out(payout)
        return PaymentOutcome(
            "refund_due", guild_id=guild_id, buyer_id=checkout["buyer_id"],
            notice=f"A card payment for checkout #{checkout['checkout_no']} arrived after its "
                   "reservation ended; it is refunded in full.")

    async def _refund_mismatch(self, checkout: Doc, session: CheckoutSession) -> PaymentOutcome:
        """A paid session whose amount or currency is not the checkout's: nothing is applied;
        the checkout ends `mismatched` (its listing released) and the payment is refunded in
        full, in one transaction that also records the refund owed (then asked of Stripe under
        its own idempotency key; the sweep retries it). Moderators hear of it once: a replay
        (or the sweep finding the session again) misses the guarded status change."""
        guild_id, no = checkout["guild_id"], checkout["checkout_no"]
        paid, currency = session.amount_total, (session.currency or "").lower()
        try:
            got = format_amount(paid, currency) if paid is not None else f"? {currency.upper()}"
        except InvalidInput:  # not a currency code: show what Stripe sent
            got = f"{paid} {session.currency}"
        for _ in range(3):  # the status may move under us (sweep, expiry): re-read, retry
            if checkout["status"] not in ("creating", "open", "expired", "failed"):
                return PaymentOutcome("duplicate", guild_id=guild_id)
            payout = payout_doc(self._clock, guild_id, f"checkout:{no}:refund", "refund",
                                paid or 0, currency or checkout["currency"],
                                trade_id=checkout.get("trade_id"),
                                payment_intent=session.payment_intent, full=True)
            if not await self._mark_mismatched(checkout, session, payout):
                fresh = await self._repo.checkout(guild_id, no)
                if fresh is None:
                    return PaymentOutcome("duplicate", guild_id=guild_id)
                checkout = fresh
                continue
            await self._payouts.carry_out(payout)
            what = f"listing #{checkout['target']} was released" if checkout["kind"] == "listing" \
                else f"pack #{checkout['target']} was not credited"
            return PaymentOutcome("mismatch_refunded", guild_id=guild_id,
                                  buyer_id=checkout["buyer_id"], notice=(
                f"⚠️ Card payment for checkout #{no} (buyer <@{checkout['buyer_id']}>) did not "
                f"match: expected {format_amount(checkout['amount'], checkout['currency'])}, got "
                f"{got}. It is refunded in full automatically and the {what}."))
        return PaymentOutcome("duplicate", guild_id=guild_id)

    async def _mark_mismatched(self, checkout: Doc, session: CheckoutSession,
                               payout: Doc) -> bool:
        """checkout (in the status read) -> mismatched, its listing released if it was still
        reserved, the refund recorded: one transaction, guarded by that status."""
        guild_id, status, now = checkout["guild_id"], checkout["status"], self._clock.now()

        async def mark(s: Any) -> None:
            if not await self._repo.move_checkout(
                    guild_id, checkout["checkout_no"], (status,), "mismatched",
                    {"payment_intent": session.payment_intent,
                     "paid_amount": session.amount_total,
                     "paid_currency": (session.currency or "").lower(),
                     "ended_ms": to_ms(now)}, session=s):
                raise Missed
            if checkout["kind"] == "listing" and status in ("creating", "open"):
                await self._repo.free_open_slot(guild_id, checkout["checkout_no"], session=s)
                await self._listings.unreserve(guild_id, checkout["target"], now,
                                               trade_id=checkout["trade_id"], session=s)
            await self._repo.insert_payout(payout, session=s)

        try:
            await self._repo.db.transaction(mark)
            return True
        except Missed:
            return False

    async def _mint_pack(self, checkout: Doc, session: CheckoutSession) -> PaymentOutcome:
        guild_id, now = checkout["guild_id"], self._clock.now()

        async def mark_paid(s: Any) -> None:
            # No raise on a miss: the ledger key already makes the mint happen once.
            await self._repo.move_checkout(
                guild_id, checkout["checkout_no"], ("creating", "open", "expired"), "paid",
                {"payment_intent": session.payment_intent, "paid_ms": to_ms(now)}, session=s)

        movement = await self._ledger.purchase(
            guild_id, checkout["buyer_id"], checkout["gems"],
            key=f"stripe:{session.session_id}:mint", ref=f"checkout:{checkout['checkout_no']}",
            note=f"pack #{checkout['target']} paid by card", also=mark_paid)
        if movement.replayed:
            return PaymentOutcome("duplicate", guild_id=guild_id)
        return PaymentOutcome("pack_minted", guild_id=guild_id, buyer_id=checkout["buyer_id"],
                              gems=checkout["gems"])

    async def _expired(self, guild_id: int, session: CheckoutSession) -> PaymentOutcome:
        checkout = await self._checkout_of(guild_id, session)
        if checkout is None or checkout["status"] not in ("creating", "open"):
            return PaymentOutcome("ignored", guild_id=guild_id)  # e.g. expired after completed
        released = await self._checkouts.release(checkout, "expired")
        return PaymentOutcome("released" if released else "duplicate", guild_id=guild_id,
                              buyer_id=listing_buyer(checkout))

    async def _charge_notice(self, guild_id: int, kind: str, obj: dict[str, Any]) -> PaymentOutcome:
        intent = obj.get("payment_intent")
        checkout = None
        if intent and guild_id:
            checkout = await self._repo.checkout_by_intent(guild_id, str(intent))
        if checkout is None:
            # Disputes carry no metadata: find the guild through the stored payment intent.
            checkout = await self._repo.checkout_by_intent_any(str(intent)) if intent else None
        if checkout is None:
            return PaymentOutcome("ignored", guild_id=guild_id)
        amount = format_amount(int(obj.get("amount_refunded") or obj.get("amount") or 0),
                              checkout["currency"])
        what = (f"refunded {amount}" if kind == "charge.refunded"
                else f"a card dispute was opened for {amount} (reason: {obj.get('reason', '?')})")
        where = f"trade #{checkout['trade_id']}" if checkout.get("trade_id") \
            else f"checkout #{checkout['checkout_no']}"
        return PaymentOutcome("notice", guild_id=checkout["guild_id"],
                              notice=f"💳 Stripe: {what} on {where} (buyer <@{checkout['buyer_id']}>).")

    # --- the sweep ---------------------------------------------------------------------------
    async def sweep(self) -> list[PaymentOutcome]:
        """Release reservations whose session ended without a webhook, and retry payouts.

        Derived from the database; every change is a guarded transition, so two processes
        running the sweep at once apply each once.

        Raises: nothing (a Stripe failure leaves the checkout or payout for the next sweep).
        """
        outcomes: list[PaymentOutcome] = []
        cutoff = self._clock.now() - timedelta(minutes=SWEEP_GRACE_MINUTES)
        for checkout in await self._repo.due_checkouts(to_ms(cutoff)):
            outcome = await self._sweep_checkout(checkout)
            if outcome is not None and outcome.result != "duplicate":  # another got it first
                outcomes.append(outcome)
        outcomes.extend(await self._payouts.retry_due())
        return outcomes

    async def _sweep_checkout(self, checkout: Doc) -> PaymentOutcome | None:
        session_id = checkout.get("session_id")
        gateway = self._stripe.gateway
        if not session_id or gateway is None:
            # The session was never created (or Stripe is gone): nothing can be paid.
            released = await self._checkouts.release(
                checkout, "failed" if not session_id else "expired")
            return PaymentOutcome("released", guild_id=checkout["guild_id"]) if released else None
        try:
            session = await gateway.expire_checkout(session_id)
        except PaymentsUnavailable:
            return None  # the next sweep asks again
        if session.status == "complete":
            return await self._completed(checkout["guild_id"], session)
        released = await self._checkouts.release(checkout, "expired")
        return PaymentOutcome("released", guild_id=checkout["guild_id"],
                              buyer_id=listing_buyer(checkout)) if released else None
