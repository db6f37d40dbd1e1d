"""Card payments (Stripe): USD-priced listings through Checkout into escrow trades, GEMS packs,
verified webhooks, refunds and payouts.

Flows:
- Buying a USD listing reserves the listing for a new trade number and records a checkout in one
  transaction, then creates a Checkout Session (idempotency key per guild, listing, buyer and
  trade number) and hands the buyer its link. The reservation lasts the session's 30 minutes.
- `checkout.session.completed` turns the checkout into a paid trade (status `reserved`, currency
  usd) in one transaction guarded by the checkout's status; from there the trade follows the
  escrow state machine (economy/trades/trades.py). `expired` (or the sweep, when no webhook comes)
  releases the listing.
- When a card trade settles (confirm, auto-release, cancel, dispute outcome), escrow calls
  `settle`: the trade transition and the record of what is owed (refund / transfer / manual
  payout) commit together; the Stripe calls follow, keyed by the payout id, and a sweep retries
  the ones that failed. So each refund or transfer is asked of Stripe under one idempotency key
  and recorded done once.
- A GEMS pack's mint is one ledger movement under the key `stripe:<session id>:mint`, however
  often or concurrently its `completed` event arrives.
Events are stored by id: a replayed id answers without acting; events for sessions this guild
did not create, or whose metadata disagrees with the checkout, change nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService, check_amount
from economy.core.modules import require_on
from economy.core.settings import GuildSettings, SettingsService
from economy.core.text import clean_text
from economy.marketplace.repo import ListingRepo
from economy.payments.currencies import check_amount as check_charge
from economy.payments.currencies import format_amount, parse_amount
from economy.payments.repo import CHECKOUT_SLOT, PaymentRepo
from economy.payments.stripe_gateway import (
    CheckoutSession,
    PaymentsGateway,
    PaymentsUnavailable,
)
from economy.repos.base import Doc
from economy.repos.slot_repo import SlotsBusy, SlotsFull
from economy.trades.models import QuoteChanged, Trade, TradeUnavailable
from economy.trades.repo import TradeRepo
from economy.trades.trades import TradeService

log = logging.getLogger(__name__)

# Stripe's shortest session lifetime is 30 minutes after creation; one more minute keeps the
# request valid however long it takes to arrive. The listing is reserved exactly as long.
CHECKOUT_MINUTES = 31
SWEEP_GRACE_MINUTES = 5  # the webhook normally releases first; the sweep catches a lost one
MAX_PACK_GEMS = 1_000_000_000
PAYOUT_INLINE_SECONDS = 2.0
MAX_OPEN_CHECKOUTS = 2  # listings one buyer may hold reserved for card payment at once
RETRY_HOURS = 23  # within Stripe's 24-hour idempotency window


class _Missed(Exception):
    """A guarded checkout write missed inside a transaction (someone else moved it)."""


@dataclass(frozen=True)
class CheckoutLink:
    """What a buyer gets: the payment page and how long it is valid."""

    url: str
    checkout_no: int
    amount: int
    currency: str
    expires_at: datetime
    reused: bool = False


@dataclass(frozen=True)
class PaymentOutcome:
    """What processing an event (or a sweep) did, for the bot to announce."""

    result: str  # trade_paid | pack_minted | released | refund_due | mismatch_refunded | notice | duplicate | ignored
    guild_id: int | None = None
    trade: Trade | None = None
    buyer_id: int | None = None
    gems: int | None = None
    channel_id: int | None = None
    notice: str | None = None


def _listing_buyer(checkout: Doc) -> int | None:
    """Whom to tell that a reservation ended (listings only; an unpaid pack needs no notice)."""
    return checkout["buyer_id"] if checkout["kind"] == "listing" else None


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


class PaymentsService:
    """Card payments for one bot (one Stripe account, many guilds)."""

    def __init__(self, repo: PaymentRepo, trade_repo: TradeRepo, listings: ListingRepo,
                 escrow: TradeService, ledger: LedgerService, settings: SettingsService,
                 clock: Clock) -> None:
        self._repo = repo
        self._trades = trade_repo
        self._listings = listings
        self._escrow = escrow
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self.gateway: PaymentsGateway | None = None
        self._base_url: Callable[[], str] = lambda: "http://127.0.0.1"

    def configure(self, gateway: PaymentsGateway | None, base_url: Callable[[], str]) -> None:
        """Attach the Stripe gateway (None: not configured) and the web server's public URL."""
        self.gateway = gateway
        self._base_url = base_url

    @property
    def configured(self) -> bool:
        """True when the operator gave Stripe keys."""
        return self.gateway is not None

    def _gateway(self) -> PaymentsGateway:
        if self.gateway is None:
            raise PaymentsUnavailable(
                "Card payments are not set up on this bot yet (the operator has not configured "
                "Stripe keys). Nothing was charged.")
        return self.gateway

    async def _ready(self, guild_id: int) -> tuple[GuildSettings, PaymentsGateway]:
        # New checkouts stop while card payments are switched off (/settings modules); webhooks, refunds
        # and payouts of checkouts already opened still settle (money a member already paid).
        settings = await require_on(self._settings, guild_id, "payments")
        if not settings.payments_usd:
            raise PaymentsUnavailable("Card payments are turned off in this server "
                                      "(an admin can turn on `payments_usd`).")
        return settings, self._gateway()

    # --- buying a listing --------------------------------------------------------------------
    async def checkout_listing(self, guild_id: int, buyer_id: int, listing_id: int, *,
                               expected_cents: int, expected_version: int | None = None,
                               channel_id: int | None = None) -> CheckoutLink:
        """Reserve a USD-priced listing for the buyer and return a Checkout link.

        The quote (the USD price on the button, optionally a listing version) travels with the
        click; a different price is refused with QuoteChanged and nothing is reserved. The
        reservation is guarded by the version read here, so a change between this read and the
        write is refused too. Pressing again while the buyer's session is open hands out the
        same link.
        """
        settings, gateway = await self._ready(guild_id)
        listing = await self._listings.get(guild_id, listing_id)
        if not listing:
            raise NotFound(f"Listing #{listing_id} doesn't exist.")
        if listing["seller_id"] == buyer_id:
            raise InvalidInput("You can't buy your own listing.")
        existing = await self._repo.open_checkout_for(guild_id, buyer_id, kind="listing",
                                                      target=listing_id)
        if existing and listing.get("status") == "reserved" \
                and listing.get("trade_id") == existing["trade_id"] and existing.get("url"):
            if existing["expires_ms"] <= to_ms(self._clock.now()):
                raise TradeUnavailable("Your payment link for this listing just expired; the "
                                       "listing is released within a few minutes.")
            return self._link(existing, reused=True)
        if listing.get("status") != "active":
            raise TradeUnavailable("Sorry, this listing is no longer available.")
        cents = listing.get("price_usd_cents")
        if not cents:
            raise InvalidInput("This listing has no USD price; buy it with GEMS instead.")
        version = int(listing.get("version", 0))
        if cents != expected_cents or expected_version not in (None, version):
            raise QuoteChanged("This listing changed since it was shown to you — open it again "
                               "to see the current price. Nothing was charged.")
        currency = self._currency_for_usd(settings)
        self._check_minimum(cents, currency)
        await self._escrow.check_pair_allowed(guild_id, buyer_id, listing["seller_id"])
        if settings.payments_payout_mode == "connect":
            seller = await self._repo.seller(guild_id, listing["seller_id"])
            if seller and not seller.get("ready") and \
                    await gateway.account_ready(seller["account_id"]):
                await self._repo.mark_seller_ready(guild_id, listing["seller_id"])
                seller = {**seller, "ready": True}
            if not seller or not seller.get("ready"):
                raise PaymentsUnavailable(
                    "The seller hasn't finished connecting a payout account (`/pay connect`), "
                    "so this listing can't be paid by card right now. Nothing was charged.")
        trade_id = await self._trades.next_trade_id(guild_id)
        checkout_no = await self._repo.next_number(guild_id, "checkouts")
        now = self._clock.now()
        expires = now + timedelta(minutes=CHECKOUT_MINUTES)
        doc = self._checkout_doc(guild_id, checkout_no, "listing", listing_id, buyer_id, cents,
                                 currency, expires, now, trade_id=trade_id, channel_id=channel_id,
                                 title=listing.get("title", f"Listing #{listing_id}"))

        async def reserve(session: Any, place: int) -> None:
            if not await self._listings.reserve(guild_id, listing_id, buyer_id, trade_id, now,
                                                 session=session, version=version):
                raise _Missed
            await self._repo.insert_checkout(doc, session=session)
            # One of the buyer's open-checkout places, so concurrent presses can't get around
            # the cap (a buyer could otherwise lock up many listings for 31 minutes).
            await self._repo.take_open_slot(guild_id, buyer_id, checkout_no, place,
                                            session=session)

        async def attempt(place: int) -> None:
            await self._repo.db.transaction(lambda s: reserve(s, place))

        try:
            await self._repo.slots.retrying(guild_id, CHECKOUT_SLOT, buyer_id,
                                            MAX_OPEN_CHECKOUTS, attempt)
        except (SlotsFull, SlotsBusy):
            raise NotPermitted(f"You already have {MAX_OPEN_CHECKOUTS} card payments open; "
                               "finish or cancel one first (links expire after 31 minutes)."
                               ) from None
        except _Missed:
            raise TradeUnavailable("Sorry, someone else just reserved this listing (or it "
                                   "changed). Nothing was charged.") from None
        return await self._create_session(gateway, doc, name=doc["title"])

    # --- GEMS packs --------------------------------------------------------------------------
    async def add_pack(self, guild_id: int, actor_id: int, gems: int, price: str, *,
                       admin: bool) -> Doc:
        """Admins: sell `gems` for `price` (like 4.99, or 500 in JPY) in the guild's payment
        currency; stored in that currency's minor unit as Stripe counts it."""
        self._admin(admin)
        settings = await self._settings.get(guild_id)
        gems = check_amount(gems, limit=MAX_PACK_GEMS)
        cents = parse_amount(price, settings.payments_currency)  # minimum and granularity too
        pack_id = await self._repo.next_number(guild_id, "packs")
        doc = {"guild_id": guild_id, "pack_id": pack_id, "gems": gems, "cents": cents,
               "currency": settings.payments_currency, "active": True,
               "created_by": actor_id, "created_at": self._clock.now()}
        await self._repo.insert_pack(doc)
        return doc

    async def remove_pack(self, guild_id: int, pack_id: int, *, admin: bool) -> None:
        """Admins: stop selling a pack."""
        self._admin(admin)
        if not await self._repo.retire_pack(guild_id, pack_id):
            raise NotFound(f"There is no pack #{pack_id} on sale.")

    async def packs(self, guild_id: int) -> list[Doc]:
        """Packs on sale."""
        return await self._repo.packs_for(guild_id)

    async def checkout_pack(self, guild_id: int, buyer_id: int, pack_id: int, *,
                            expected_cents: int | None = None) -> CheckoutLink:
        """A Checkout link for a GEMS pack (the same link again while one is open)."""
        settings, gateway = await self._ready(guild_id)
        if not settings.payments_packs:
            raise PaymentsUnavailable("GEMS packs are not sold in this server.")
        pack = await self._repo.pack(guild_id, pack_id)
        if not pack or not pack.get("active"):
            raise NotFound(f"There is no pack #{pack_id} on sale.")
        if pack["currency"] != settings.payments_currency:
            raise InvalidInput(f"Pack #{pack_id} is priced in {pack['currency'].upper()} but this "
                               f"server now takes {settings.payments_currency.upper()}; ask an "
                               "admin to re-create it.")
        if expected_cents is not None and expected_cents != pack["cents"]:
            raise QuoteChanged("This pack's price changed; look at `/pay packs` again.")
        existing = await self._repo.open_checkout_for(guild_id, buyer_id, kind="pack",
                                                      target=pack_id)
        if existing and existing.get("url") and existing["expires_ms"] > to_ms(self._clock.now()):
            return self._link(existing, reused=True)
        checkout_no = await self._repo.next_number(guild_id, "checkouts")
        now = self._clock.now()
        doc = self._checkout_doc(guild_id, checkout_no, "pack", pack_id, buyer_id, pack["cents"],
                                 pack["currency"], now + timedelta(minutes=CHECKOUT_MINUTES), now,
                                 gems=pack["gems"], title=f"{pack['gems']:,} {settings.currency_name}")
        await self._repo.db.transaction(lambda s: self._repo.insert_checkout(doc, session=s))
        return await self._create_session(gateway, doc, name=doc["title"])

    # --- webhooks ----------------------------------------------------------------------------
    async def handle_webhook(self, payload: bytes, signature: str | None) -> PaymentOutcome:
        """Verify and apply one webhook request (raises WebhookRejected when it is not valid)."""
        event = self._gateway().verify(payload, signature)
        return await self.apply_event(event)

    async def apply_event(self, event: dict[str, Any]) -> PaymentOutcome:
        """Apply a verified event once (replays of its id do nothing)."""
        event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
        obj = (event.get("data") or {}).get("object") or {}
        guild_id = _int((obj.get("metadata") or {}).get("guild_id")) or 0
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
        if checkout is None or _int(meta.get("checkout")) != checkout["checkout_no"] \
                or _int(meta.get("buyer_id")) != checkout["buyer_id"] \
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
                    raise _Missed
                await self._repo.free_open_slot(guild_id, checkout["checkout_no"], session=s)
                await self._trades.insert(doc, self._escrow.paid_event(
                    now, checkout["buyer_id"], note), session=s)

            try:
                await self._repo.db.transaction(pay)
                trade = await self._escrow.get(guild_id, trade_id, 0, moderator=True)
                return PaymentOutcome("trade_paid", guild_id=guild_id, trade=trade,
                                      buyer_id=checkout["buyer_id"],
                                      channel_id=checkout.get("channel_id"))
            except _Missed:
                pass
        fresh = await self._repo.checkout(guild_id, checkout["checkout_no"])
        if fresh is None or fresh["status"] in ("paid", "refund_due", "mismatched"):
            return PaymentOutcome("duplicate", guild_id=guild_id)
        # Paid after the listing was released (expired/failed locally): give the money back.
        return await self._refund_late_payment(fresh, session)

    async def _refund_late_payment(self, checkout: Doc, session: CheckoutSession) -> PaymentOutcome:
        guild_id = checkout["guild_id"]
        payout = self._payout_doc(guild_id, f"checkout:{checkout['checkout_no']}:refund",
                                  "refund", checkout["amount"], checkout["currency"],
                                  trade_id=checkout.get("trade_id"),
                                  payment_intent=session.payment_intent)

        async def mark(s: Any) -> None:
            if not await self._repo.move_checkout(
                    guild_id, checkout["checkout_no"], ("expired", "failed"), "refund_due",
                    {"payment_intent": session.payment_intent}, session=s):
                raise _Missed
            await self._repo.insert_payout(payout, session=s)

        try:
            await self._repo.db.transaction(mark)
        except _Missed:
            return PaymentOutcome("duplicate", guild_id=guild_id)
        await self._carry_out(payout)
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
            payout = self._payout_doc(guild_id, f"checkout:{no}:refund", "refund", paid or 0,
                                      currency or checkout["currency"],
                                      trade_id=checkout.get("trade_id"),
                                      payment_intent=session.payment_intent, full=True)
            if not await self._mark_mismatched(checkout, session, payout):
                fresh = await self._repo.checkout(guild_id, no)
                if fresh is None:
                    return PaymentOutcome("duplicate", guild_id=guild_id)
                checkout = fresh
                continue
            await self._carry_out(payout)
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
                raise _Missed
            if checkout["kind"] == "listing" and status in ("creating", "open"):
                await self._repo.free_open_slot(guild_id, checkout["checkout_no"], session=s)
                await self._listings.unreserve(guild_id, checkout["target"], now,
                                               trade_id=checkout["trade_id"], session=s)
            await self._repo.insert_payout(payout, session=s)

        try:
            await self._repo.db.transaction(mark)
            return True
        except _Missed:
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
        released = await self._release(checkout, "expired")
        return PaymentOutcome("released" if released else "duplicate", guild_id=guild_id,
                              buyer_id=_listing_buyer(checkout))

    async def _release(self, checkout: Doc, to_status: str) -> bool:
        """Open/creating checkout -> expired/failed, and its listing back to active, together."""
        guild_id, now = checkout["guild_id"], self._clock.now()

        async def release(s: Any) -> None:
            if not await self._repo.move_checkout(guild_id, checkout["checkout_no"],
                                                  ("creating", "open"), to_status,
                                                  {"ended_ms": to_ms(now)}, session=s):
                raise _Missed
            if checkout["kind"] == "listing":
                await self._repo.free_open_slot(guild_id, checkout["checkout_no"], session=s)
                # A miss is fine: the listing was already released or moved on.
                await self._listings.unreserve(guild_id, checkout["target"], now,
                                               trade_id=checkout["trade_id"], session=s)

        try:
            await self._repo.db.transaction(release)
            return True
        except _Missed:
            return False

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

    # --- settling card trades (called by escrow) ---------------------------------------------
    async def settle(self, trade: Trade, *, to_seller: int, fee: int, actor_id: int | None,
                     also: Any) -> None:
        """Record what a settled card trade owes, in the transition's transaction; then pay."""
        guild_id = trade.guild_id
        settings = await self._settings.get(guild_id)
        raw = await self._trades.get(guild_id, trade.trade_id) or {}
        intent = (raw.get("payment") or {}).get("payment_intent")
        payouts = []
        refund = trade.price - to_seller
        if refund > 0:
            payouts.append(self._payout_doc(guild_id, f"trade:{trade.trade_id}:refund", "refund",
                                            refund, trade.currency, trade_id=trade.trade_id,
                                            payment_intent=intent))
        net = to_seller - fee
        if net > 0:
            seller = await self._repo.seller(guild_id, trade.seller_id)
            manual = settings.payments_payout_mode == "manual" or not seller
            payouts.append(self._payout_doc(
                guild_id, f"trade:{trade.trade_id}:payout", "manual" if manual else "transfer",
                net, trade.currency, trade_id=trade.trade_id, fee=fee, user_id=trade.seller_id,
                destination=None if manual else seller["account_id"], payment_intent=intent,
                status="manual_due" if manual else "pending"))

        async def work(s: Any) -> None:
            await also(s)
            for payout in payouts:
                await self._repo.insert_payout(payout, session=s)

        await self._repo.db.transaction(work)
        for payout in payouts:
            try:
                # Bounded, so a slow Stripe cannot make a click miss Discord's deadline; a call
                # cut short is retried by the sweep under the same idempotency key.
                await asyncio.wait_for(self._carry_out(payout), PAYOUT_INLINE_SECONDS)
            except TimeoutError:
                log.warning("payout %s/%s left for the sweep", guild_id, payout["payout_id"])

    async def _carry_out(self, payout: Doc) -> bool:
        """Ask Stripe for a pending refund/transfer (keyed by its id); True when done now."""
        if payout["status"] != "pending" or self.gateway is None:
            return False
        key = f"gems-{payout['guild_id']}-{payout['payout_id']}"
        meta = {"guild_id": str(payout["guild_id"]), "payout": payout["payout_id"]}
        try:
            if not payout.get("payment_intent"):
                raise PaymentsUnavailable("no payment intent recorded")
            if payout["kind"] == "refund":
                # A full refund (a mismatched payment) lets Stripe refund what is left of it.
                stripe_id = await self.gateway.refund(
                    payment_intent=payout["payment_intent"],
                    amount=None if payout.get("full") else payout["amount"],
                    idempotency_key=key, metadata=meta)
            else:
                # Out of the buyer's own charge (its funds are still pending), not out of the
                # platform's available balance.
                charge = await self.gateway.charge_of(payout["payment_intent"])
                stripe_id = await self.gateway.transfer(
                    amount=payout["amount"], currency=payout["currency"],
                    destination=payout["destination"], source_transaction=charge,
                    transfer_group=f"gems-{payout['guild_id']}-trade-{payout['trade_id']}",
                    idempotency_key=key, metadata=meta)
        except PaymentsUnavailable as error:
            await self._repo.note_payout_attempt(payout["guild_id"], payout["payout_id"],
                                                 error.message)
            return False
        return await self._repo.move_payout(payout["guild_id"], payout["payout_id"], "pending",
                                            "done", {"stripe_id": stripe_id,
                                                     "done_ms": to_ms(self._clock.now())})

    # --- sweeps ------------------------------------------------------------------------------
    async def sweep(self) -> list[PaymentOutcome]:
        """Release reservations whose session ended without a webhook, and retry payouts.

        Derived from the database; every change is a guarded transition, so two processes
        running the sweep at once apply each once.
        """
        outcomes: list[PaymentOutcome] = []
        cutoff = self._clock.now() - timedelta(minutes=SWEEP_GRACE_MINUTES)
        for checkout in await self._repo.due_checkouts(to_ms(cutoff)):
            outcome = await self._sweep_checkout(checkout)
            if outcome is not None and outcome.result != "duplicate":  # another got it first
                outcomes.append(outcome)
        stale = to_ms(self._clock.now() - timedelta(hours=RETRY_HOURS))
        for payout in await self._repo.pending_payouts():
            if payout["created_ms"] <= stale:
                # Stripe forgets idempotency keys after 24 h: a retry could pay twice. Stop and
                # let an admin check in the Stripe dashboard.
                if await self._repo.move_payout(payout["guild_id"], payout["payout_id"],
                                                "pending", "stuck"):
                    outcomes.append(PaymentOutcome("notice", guild_id=payout["guild_id"], notice=(
                        f"⚠️ Stripe {payout['kind']} `{payout['payout_id']}` of "
                        f"{format_amount(payout['amount'], payout['currency'])} failed for "
                        f"{RETRY_HOURS} hours and is no longer retried. Check the Stripe "
                        "dashboard and pay or refund it by hand.")))
                continue
            await self._carry_out(payout)
        return outcomes

    async def _sweep_checkout(self, checkout: Doc) -> PaymentOutcome | None:
        session_id = checkout.get("session_id")
        if not session_id or self.gateway is None:
            # The session was never created (or Stripe is gone): nothing can be paid.
            released = await self._release(checkout, "failed" if not session_id else "expired")
            return PaymentOutcome("released", guild_id=checkout["guild_id"]) if released else None
        try:
            session = await self.gateway.expire_checkout(session_id)
        except PaymentsUnavailable:
            return None  # the next sweep asks again
        if session.status == "complete":
            return await self._completed(checkout["guild_id"], session)
        released = await self._release(checkout, "expired")
        return PaymentOutcome("released", guild_id=checkout["guild_id"],
                              buyer_id=_listing_buyer(checkout)) if released else None

    # --- sellers -----------------------------------------------------------------------------
    async def connect(self, guild_id: int, user_id: int) -> tuple[str, bool]:
        """A seller's Stripe onboarding link and whether their account is ready already."""
        settings = await self._settings.get(guild_id)
        gateway = self._gateway()
        if settings.payments_payout_mode != "connect":
            raise InvalidInput("This server pays sellers itself (payout mode `manual`), so there "
                               "is no payout account to connect.")
        seller = await self._repo.seller(guild_id, user_id)
        if seller is None:
            account = await gateway.create_account(
                idempotency_key=f"gems-{guild_id}-seller-{user_id}",
                metadata={"guild_id": str(guild_id), "user_id": str(user_id)})
            seller = await self._repo.save_seller({
                "guild_id": guild_id, "user_id": user_id, "account_id": account, "ready": False,
                "created_at": self._clock.now()})
        ready = bool(seller.get("ready")) or await gateway.account_ready(seller["account_id"])
        if ready:
            await self._repo.mark_seller_ready(guild_id, user_id)
        base = self._base_url()
        url = await gateway.account_link(account=seller["account_id"],
                                         refresh_url=f"{base}/stripe/connect/refresh",
                                         return_url=f"{base}/stripe/connect/done")
        return url, ready

    # --- admin views -------------------------------------------------------------------------
    async def record_manual_payout(self, guild_id: int, trade_id: int, actor_id: int, *,
                                   admin: bool, note: str | None = None) -> Doc:
        """Admins: the guild paid a seller itself (manual mode); recorded once."""
        self._admin(admin)
        payout_id = f"trade:{trade_id}:payout"
        note = clean_text(note, 200, "note")
        if not await self._repo.move_payout(guild_id, payout_id, "manual_due", "manual_paid",
                                            {"paid_by": actor_id, "note": note,
                                             "done_ms": to_ms(self._clock.now())}):
            raise NotFound(f"Trade #{trade_id} has no manual payout due.")
        docs = [p for p in await self._repo.payouts_for_trade(guild_id, trade_id)
                if p["payout_id"] == payout_id]
        return docs[0]

    async def history(self, guild_id: int, *, admin: bool) -> list[Doc]:
        """Admins: every checkout and payout of the guild, newest first."""
        self._admin(admin)
        rows = []
        for c in await self._repo.checkouts_for_guild(guild_id):
            rows.append({"when": c["created_ms"], "what": f"checkout #{c['checkout_no']}",
                         "kind": c["kind"], "member": c["buyer_id"], "amount": c["amount"],
                         "currency": c["currency"], "status": c["status"],
                         "ref": f"trade #{c['trade_id']}" if c.get("trade_id")
                         else f"pack #{c['target']}"})
        for p in await self._repo.payouts_for_guild(guild_id):
            rows.append({"when": p["created_ms"], "what": p["payout_id"], "kind": p["kind"],
                         "member": p.get("user_id") or "", "amount": p["amount"],
                         "currency": p["currency"], "status": p["status"],
                         "ref": p.get("stripe_id") or ""})
        rows.sort(key=lambda r: r["when"], reverse=True)
        return rows

    async def history_csv(self, guild_id: int, *, admin: bool) -> str:
        """The history as CSV (amounts in each currency's minor unit as Stripe counts it)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["when_utc", "what", "kind", "member_id", "amount_minor_units", "currency",
                         "status", "ref"])
        for r in await self.history(guild_id, admin=admin):
            when = from_ms(r["when"]).isoformat()
            writer.writerow([when, r["what"], r["kind"], r["member"], r["amount"],
                             r["currency"], r["status"], r["ref"]])
        return out.getvalue()

    async def status(self, guild_id: int, *, admin: bool) -> dict[str, Any]:
        """Admins: configuration, the last event received, pending work."""
        self._admin(admin)
        settings = await self._settings.get(guild_id)
        last = await self._repo.last_event(guild_id)
        payouts = await self._repo.payouts_for_guild(guild_id)
        checkouts = await self._repo.checkouts_for_guild(guild_id, limit=200)
        return {
            "configured": self.configured,
            "test_mode": bool(getattr(self.gateway, "test_mode", False)),
            "enabled": settings.payments_usd, "packs": settings.payments_packs,
            "currency": settings.payments_currency, "fee_bps": settings.payments_fee_bps,
            "payout_mode": settings.payments_payout_mode,
            "webhook_url": f"{self._base_url()}/stripe/webhook",
            "last_event": last,
            "open_checkouts": sum(1 for c in checkouts if c["status"] == "open"),
            "pending_payouts": sum(1 for p in payouts if p["status"] == "pending"),
            "stuck_payouts": [p for p in payouts if p["status"] == "stuck"],
            "manual_due": [p for p in payouts if p["status"] == "manual_due"],
        }

    # --- internals ---------------------------------------------------------------------------
    @staticmethod
    def _admin(admin: bool) -> None:
        if not admin:
            raise NotPermitted("Only server admins (Manage Server) or the configured admin role "
                               "can manage payments.")

    @staticmethod
    def _currency_for_usd(settings: GuildSettings) -> str:
        if settings.payments_currency != "usd":
            raise InvalidInput(
                f"This listing is priced in USD but this server takes card payments in "
                f"{settings.payments_currency.upper()}, so it can't be paid by card. "
                "Nothing was charged.")
        return "usd"

    @staticmethod
    def _check_minimum(cents: int, currency: str) -> None:
        check_charge(cents, currency)  # Stripe's minimum, maximum and granularity

    def _checkout_doc(self, guild_id: int, checkout_no: int, kind: str, target: int,
                      buyer_id: int, cents: int, currency: str, expires: datetime,
                      now: datetime, **extra: Any) -> Doc:
        return {"guild_id": guild_id, "checkout_no": checkout_no, "kind": kind,
                "target": target, "buyer_id": buyer_id, "amount": cents, "currency": currency,
                "status": "creating", "session_id": None, "url": None,
                "expires_ms": to_ms(expires), "created_ms": to_ms(now), "version": 0,
                "trade_id": None, "gems": None, "channel_id": None, **extra}

    def _payout_doc(self, guild_id: int, payout_id: str, kind: str, amount: int, currency: str,
                    *, status: str = "pending", **extra: Any) -> Doc:
        return {"guild_id": guild_id, "payout_id": payout_id, "kind": kind, "amount": amount,
                "currency": currency, "status": status, "attempts": 0,
                "created_ms": to_ms(self._clock.now()), "stripe_id": None, **extra}

    async def _create_session(self, gateway: PaymentsGateway, doc: Doc, *, name: str) -> CheckoutLink:
        guild_id, no = doc["guild_id"], doc["checkout_no"]
        base = self._base_url()
        metadata = {"guild_id": str(guild_id), "checkout": str(no), "kind": doc["kind"],
                    "buyer_id": str(doc["buyer_id"]), "target": str(doc["target"])}
        if doc.get("trade_id"):
            metadata["trade_id"] = str(doc["trade_id"])
        try:
            session = await gateway.create_checkout(
                amount=doc["amount"], currency=doc["currency"], name=name, metadata=metadata,
                success_url=f"{base}/stripe/done?c={guild_id}-{no}",
                cancel_url=f"{base}/stripe/cancelled?c={guild_id}-{no}",
                expires_at=doc["expires_ms"] // 1000,
                idempotency_key=f"gems-{guild_id}-{doc['kind']}-{doc['target']}-buyer-"
                                f"{doc['buyer_id']}-checkout-{no}")
        except PaymentsUnavailable:
            await self._release(doc, "failed")
            raise
        fields = {"session_id": session.session_id, "url": session.url}
        if not await self._repo.move_checkout(guild_id, no, ("creating",), "open", fields):
            # The sweep or a webhook got there first (e.g. the session already expired).
            fresh = await self._repo.checkout(guild_id, no)
            raise TradeUnavailable(f"This payment link is no longer valid (it is "
                                   f"{(fresh or {}).get('status', 'gone')}); press the button again.")
        return self._link({**doc, **fields}, reused=False)

    @staticmethod
    def _link(checkout: Doc, *, reused: bool) -> CheckoutLink:
        return CheckoutLink(url=checkout["url"], checkout_no=checkout["checkout_no"],
                            amount=checkout["amount"], currency=checkout["currency"],
                            expires_at=from_ms(checkout["expires_ms"]),
                            reused=reused)
