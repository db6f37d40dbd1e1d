"""Checkout: a buyer's quote checked, a USD listing reserved (or a GEMS pack chosen), a Stripe
Checkout Session created and its link handed out; and the end of a reservation (`release`).

Buying a USD listing reserves the listing for a new trade number and records a checkout in one
transaction, then creates a Checkout Session (idempotency key per guild, listing, buyer and
trade number) and hands the buyer its link. The reservation lasts the session's 30 minutes; the
`expired` webhook (or the sweep, when no webhook comes) releases it (economy/payments/settlement.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from economy.core.clock import Clock, from_ms, to_ms, unix_seconds
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.modules import require_on
from economy.core.settings import GuildSettings, SettingsService
from economy.marketplace.repo import ListingRepo
from economy.payments._shared import Missed, StripeLink
from economy.payments.currencies import check_amount as check_charge
from economy.payments.models import CheckoutLink
from economy.payments.payouts import PayoutService
from economy.payments.repo import CHECKOUT_SLOT, PaymentRepo
from economy.payments.stripe_gateway import PaymentsGateway, PaymentsUnavailable
from economy.repos.base import Doc
from economy.repos.slot_repo import SlotsBusy, SlotsFull
from economy.trades.models import QuoteChanged, TradeUnavailable
from economy.trades.repo import TradeRepo
from economy.trades.trades import TradeService

# Stripe's shortest session lifetime is 30 minutes after creation; one more minute keeps the
# request valid however long it takes to arrive. The listing is reserved exactly as long.
CHECKOUT_MINUTES = 31
MAX_OPEN_CHECKOUTS = 2  # listings one buyer may hold reserved for card payment at once


class CheckoutService:
    """Opens Checkout Sessions for USD listings and GEMS packs, and ends reservations."""

    def __init__(self, repo: PaymentRepo, trade_repo: TradeRepo, listings: ListingRepo,
                 escrow: TradeService, settings: SettingsService, clock: Clock,
                 stripe: StripeLink, payouts: PayoutService) -> None:
        self._repo = repo
        self._trades = trade_repo
        self._listings = listings
        self._escrow = escrow
        self._settings = settings
        self._clock = clock
        self._stripe = stripe
        self._payouts = payouts

    async def _ready(self, guild_id: int) -> tuple[GuildSettings, PaymentsGateway]:
        # New checkouts stop while card payments are switched off (/settings modules); webhooks, refunds
        # and payouts of checkouts already opened still settle (money a member already paid).
        settings = await require_on(self._settings, guild_id, "payments")
        if not settings.payments_usd:
            raise PaymentsUnavailable("Card payments are turned off in this server "
                                      "(an admin can turn on `payments_usd`).")
        return settings, self._stripe.require()

    # --- buying a listing --------------------------------------------------------------------
    async def for_listing(self, guild_id: int, buyer_id: int, listing_id: int, *,
                          expected_cents: int, expected_version: int | None = None,
                          channel_id: int | None = None) -> CheckoutLink:
        """Reserve a USD-priced listing for the buyer and return a Checkout link.

        The quote (the USD price on the button, optionally a listing version) travels with the
        click; a different price is refused with QuoteChanged and nothing is reserved. The
        reservation is guarded by the version read here, so a change between this read and the
        write is refused too. Pressing again while the buyer's session is open hands out the
        same link.

        Raises: FeatureOff (payments switched off); PaymentsUnavailable (card payments off,
        Stripe not configured or not answering, or the seller has no ready payout account);
        NotFound; InvalidInput (own listing, no USD price, the guild takes another currency,
        an amount Stripe refuses); TradeUnavailable (not available, reserved by someone else,
        or the buyer's link just expired); QuoteChanged; NotPermitted (the buyer holds
        MAX_OPEN_CHECKOUTS open already, or the pair may not trade).
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
        if settings.payments_payout_mode == "connect" \
                and not await self._payouts.seller_ready(guild_id, listing["seller_id"]):
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
                raise Missed
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
        except Missed:
            raise TradeUnavailable("Sorry, someone else just reserved this listing (or it "
                                   "changed). Nothing was charged.") from None
        return await self._create_session(gateway, doc, name=doc["title"])

    # --- buying a GEMS pack ------------------------------------------------------------------
    async def for_pack(self, guild_id: int, buyer_id: int, pack_id: int, *,
                       expected_cents: int | None = None) -> CheckoutLink:
        """A Checkout link for a GEMS pack (the same link again while one is open).

        Raises: FeatureOff (payments switched off); PaymentsUnavailable (card payments or packs
        off, Stripe not configured or not answering); NotFound (no such pack on sale);
        InvalidInput (the pack is priced in another currency than the guild takes now);
        QuoteChanged (its price changed); TradeUnavailable (the new link ended meanwhile).
        """
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

    # --- ending a reservation ----------------------------------------------------------------
    async def release(self, checkout: Doc, to_status: str) -> bool:
        """Open/creating checkout -> expired/failed, and its listing back to active, together.

        Raises: nothing; False when the guarded status change missed (already moved on).
        """
        guild_id, now = checkout["guild_id"], self._clock.now()

        async def release(s: Any) -> None:
            if not await self._repo.move_checkout(guild_id, checkout["checkout_no"],
                                                  ("creating", "open"), to_status,
                                                  {"ended_ms": to_ms(now)}, session=s):
                raise Missed
            if checkout["kind"] == "listing":
                await self._repo.free_open_slot(guild_id, checkout["checkout_no"], session=s)
                # A miss is fine: the listing was already released or moved on.
                await self._listings.unreserve(guild_id, checkout["target"], now,
                                               trade_id=checkout["trade_id"], session=s)

        try:
            await self._repo.db.transaction(release)
            return True
        except Missed:
            return False

    # --- internals ---------------------------------------------------------------------------
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

    @staticmethod
    def _checkout_doc(guild_id: int, checkout_no: int, kind: str, target: int,
                      buyer_id: int, cents: int, currency: str, expires: datetime,
                      now: datetime, **extra: Any) -> Doc:
        return {"guild_id": guild_id, "checkout_no": checkout_no, "kind": kind,
                "target": target, "buyer_id": buyer_id, "amount": cents, "currency": currency,
                "status": "creating", "session_id": None, "url": None,
                "expires_ms": to_ms(expires), "created_ms": to_ms(now), "version": 0,
                "trade_id": None, "gems": None, "channel_id": None, **extra}

    async def _create_session(self, gateway: PaymentsGateway, doc: Doc, *, name: str) -> CheckoutLink:
        guild_id, no = doc["guild_id"], doc["checkout_no"]
        base = self._stripe.base_url()
        metadata = {"guild_id": str(guild_id), "checkout": str(no), "kind": doc["kind"],
                    "buyer_id": str(doc["buyer_id"]), "target": str(doc["target"])}
        if doc.get("trade_id"):
            metadata["trade_id"] = str(doc["trade_id"])
        try:
            session = await gateway.create_checkout(
                amount=doc["amount"], currency=doc["currency"], name=name, metadata=metadata,
                success_url=f"{base}/stripe/done?c={guild_id}-{no}",
                cancel_url=f"{base}/stripe/cancelled?c={guild_id}-{no}",
                expires_at=unix_seconds(doc["expires_ms"]),
                idempotency_key=f"gems-{guild_id}-{doc['kind']}-{doc['target']}-buyer-"
                                f"{doc['buyer_id']}-checkout-{no}")
        except PaymentsUnavailable:
            await self.release(doc, "failed")
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
