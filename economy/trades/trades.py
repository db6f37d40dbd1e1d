"""Trades from offer to settlement: direct offers, listing purchases (quote, hold), delivery,
confirmation, cancels and the timers (offer expiry, auto-cancel, release reminder, auto-release).

The guarded writes and the settlement are shared with the disputes (economy/trades/transitions.py),
the abuse limits are in economy/trades/limits.py; the state machine is drawn in
economy/trades/models.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal

from economy.core.actor import Actor
from economy.core.clock import span_ms, to_ms
from economy.core.errors import Conflict, Cooldown, InvalidInput, NotFound, NotPermitted
from economy.core.ledger import check_amount
from economy.core.members import MemberService
from economy.core.modules import require_on
from economy.core.settings import GuildSettings
from economy.core.text import clean_text, visible_length
from economy.repos.base import Doc
from economy.repos.slot_repo import SlotsBusy, SlotsFull
from economy.trades.limits import TradeLimits
from economy.trades.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    TEXT_MAX,
    ListingOutOfStep,
    PurchaseQuote,
    QuoteChanged,
    SweepEvent,
    Trade,
    TradeResult,
    TradeUnavailable,
    fee_for,
    new_trade_doc,
)
from economy.trades.ratings import RatingService
from economy.trades.repo import OFFER_SLOT
from economy.trades.transitions import (
    CashSettlement,
    ItemSettlement,
    StaleTrade,
    TradeTransitions,
    timeline_event,
)

log = logging.getLogger(__name__)

OFFER_HOURS = 24


class _Unreserved(Conflict):
    """The listing's guarded reservation missed inside the purchase transaction."""

    def __init__(self) -> None:
        super().__init__("This listing is no longer available as quoted.")


class TradeService:
    """Creates trades and moves them through the state machine (disputes aside)."""

    def __init__(self, transitions: TradeTransitions, ratings: RatingService,
                 members: MemberService | None = None) -> None:
        self._t = transitions
        self._ratings = ratings
        self._members = members
        self._repo = transitions.repo
        self._ledger = transitions.ledger
        self._settings = transitions.settings
        self._clock = transitions.clock
        self._listings = transitions.listings
        self._limits = TradeLimits(transitions.repo, transitions.clock)

    def settle_cards_with(self, cash: CashSettlement) -> None:
        """Settle trades paid by card through `cash` (economy/payments/__init__.py wires it)."""
        self._t.cash = cash

    def settle_items_with(self, hook: ItemSettlement) -> None:
        """Move the items a listing sells with its settlement, in its transaction, through
        `hook` (economy/badges/__init__.py wires the collectibles)."""
        self._t.items.append(hook)

    # --- creating trades --------------------------------------------------------------------
    async def purchase_quote(self, guild_id: int, buyer_id: int, listing_id: int) -> PurchaseQuote:
        """Check that a listing can be bought and describe the purchase (nothing changes).

        Raises: InvalidInput, NotFound, TradeUnavailable.
        """
        listing = await self._buyable_listing(guild_id, buyer_id, listing_id)
        settings = await self._settings.get(guild_id)
        price = listing["price_gems"]
        return PurchaseQuote(
            listing_id=listing_id, title=listing.get("title", f"Listing #{listing_id}"),
            price=price, version=int(listing.get("version", 0)),
            fee=fee_for(price, settings.escrow_fee_bps),
            seller_id=listing["seller_id"],
            seller_rating=await self._ratings.summary(guild_id, listing["seller_id"]),
            balance=await self._ledger.balance(guild_id, buyer_id),
        )

    async def _buyable_listing(self, guild_id: int, buyer_id: int, listing_id: int) -> Doc:
        if self._listings is None:
            raise NotFound("The marketplace is not enabled on this bot.")
        listing = await self._listings.get(guild_id, listing_id)
        if not listing:
            raise NotFound(f"Listing #{listing_id} doesn't exist.")
        if listing["seller_id"] == buyer_id:
            raise InvalidInput("You can't buy your own listing.")
        if listing.get("status") != "active":
            raise TradeUnavailable("Sorry, this listing is no longer available.")
        if not listing.get("price_gems"):
            raise InvalidInput("This listing has no GEMS price, so it can't be bought with escrow.")
        return listing

    async def buy_listing(self, guild_id: int, buyer_id: int, listing_id: int, *,
                          expected_price: int | None = None,
                          expected_version: int | None = None) -> TradeResult:
        """Reserve a listing: the buyer's GEMS go on hold and the listing becomes reserved.

        `expected_price`/`expected_version` are the quote the buyer confirmed (they travel in
        the Confirm button). The reservation is guarded by them inside the transaction, so a
        seller's edit between quote and confirm — even at the same moment — is refused with
        QuoteChanged and nothing is held. Without a quote the price read here is the guard.
        When several buyers race, exactly one wins; the others keep their GEMS.

        Raises: FeatureOff, InvalidInput, NotFound, NotPermitted, QuoteChanged, TradeUnavailable.
        """
        listing = await self._buyable_listing(guild_id, buyer_id, listing_id)
        price = listing["price_gems"]
        if expected_price is not None:
            self._check_quote(listing, expected_price, expected_version)
            price = expected_price
        # New holds stop while trades or the marketplace are switched off (/settings modules); trades
        # already open still settle (confirm, cancel, disputes, timers).
        await require_on(self._settings, guild_id, "marketplace")
        settings = await require_on(self._settings, guild_id, "trades")
        await self._limits.check(guild_id, buyer_id, listing["seller_id"], price, settings)
        trade_id = await self._repo.next_trade_id(guild_id)
        now = self._clock.now()
        doc = new_trade_doc(guild_id, trade_id, "listing", listing.get("title", f"Listing #{listing_id}"),
                            buyer_id, listing["seller_id"], price, settings, now,
                            status="reserved", listing_id=listing_id)
        gate = self._listings
        assert gate is not None

        async def reserve(session: Any) -> None:
            if not await gate.reserve(guild_id, listing_id, buyer_id, trade_id, now,
                                      session=session, price_gems=price,
                                      version=expected_version):
                raise _Unreserved
            await self._repo.insert(doc, timeline_event(now, "reserved", buyer_id), session=session)

        try:
            await self._ledger.hold(guild_id, buyer_id, price, key=f"trade:{trade_id}:hold",
                                    ref=f"trade:{trade_id}", also=reserve)
        except _Unreserved:
            # Say why: sold to someone else, or the price/listing changed under the quote.
            fresh = await self._buyable_listing(guild_id, buyer_id, listing_id)
            self._check_quote(fresh, price, expected_version)
            raise TradeUnavailable("Sorry, someone else just bought this listing.") from None
        return TradeResult(trade=await self._t.load(guild_id, trade_id))

    @staticmethod
    def _check_quote(listing: Doc, price: int, version: int | None) -> None:
        """Raise QuoteChanged when the listing no longer matches what the buyer confirmed."""
        current = listing.get("price_gems")
        if current != price:
            raise QuoteChanged(
                f"The price changed from {price:,} to {current or 0:,} — press **Buy** again to "
                "see the new price. Nothing was charged.")
        if version is not None and int(listing.get("version", 0)) != version:
            raise QuoteChanged("This listing changed since you pressed **Buy** — press **Buy** "
                               "again to see it as it is now. Nothing was charged.")

    async def check_pair_allowed(self, guild_id: int, buyer_id: int, seller_id: int) -> None:
        """Refuse a pair over the repeated-trade limit (for purchases paid outside escrow holds).

        Raises: NotPermitted.
        """
        await self._limits.check_pair(guild_id, buyer_id, seller_id, await self._settings.get(guild_id))

    def card_trade_doc(self, guild_id: int, trade_id: int, listing: Doc, buyer_id: int,
                       cents: int, currency: str, fee_bps: int, settings: GuildSettings,
                       now: datetime) -> Doc:
        """A reserved (paid) trade for a listing bought by card: same state machine, no hold."""
        doc = new_trade_doc(guild_id, trade_id, "listing",
                            listing.get("title", f"Listing #{listing['listing_id']}"),
                            buyer_id, listing["seller_id"], cents, settings, now,
                            status="reserved", listing_id=listing["listing_id"])
        return {**doc, "currency": currency, "fee_bps": fee_bps}

    @staticmethod
    def paid_event(now: datetime, buyer_id: int, note: str) -> Doc:
        """The first timeline line of a trade paid by card."""
        return timeline_event(now, "paid", buyer_id, note)

    async def offer(self, guild_id: int, seller_id: int, buyer_id: int, price: int,
                    description: str) -> Trade:
        """A direct trade: the seller offers something to a member, who may accept or decline.

        Abuse limits: members who turned DMs off get no offers; a member receives at most
        `offer_max_open_to_member` open offers; a seller waits `offer_cooldown_seconds` between
        offers. The last two are written in the insert's transaction (a guarded interval and one
        of the buyer's open-offer places), so concurrent offers cannot get around them.
        FeatureOff while trades are switched off (/settings modules).

        Raises: FeatureOff, InvalidAmount, InvalidInput, NotFound, NotPermitted.
        """
        settings = await require_on(self._settings, guild_id, "trades")
        price = check_amount(price, limit=settings.max_transfer)
        if seller_id == buyer_id:
            raise InvalidInput("You can't trade with yourself.")
        description = clean_text(description, 200, "description") or ""
        if visible_length(description) < 3:
            raise InvalidInput("Describe what is traded in 3 to 200 characters.")
        if self._members is not None and not self._members.may_receive(guild_id, buyer_id):
            raise InvalidInput("Trades are with current members of this server (not bots).")
        if self._members is not None and not await self._members.dms_allowed(guild_id, buyer_id):
            raise NotPermitted(f"<@{buyer_id}> has turned off trade offers and DMs from the bot.")
        await self._limits.check_pair(guild_id, buyer_id, seller_id, settings)
        trade_id = await self._repo.next_trade_id(guild_id)
        now = self._clock.now()
        doc = new_trade_doc(guild_id, trade_id, "direct", description, buyer_id, seller_id,
                            price, settings, now, status="offered")
        doc["times"].update(offer_expires_at=now + timedelta(hours=OFFER_HOURS), deliver_by=None)
        members = self._members

        async def insert(session: Any) -> None:
            await self._repo.insert(doc, timeline_event(now, "offered", seller_id), session=session)
            if members is not None and settings.offer_cooldown_seconds and not \
                    await members.repo.claim_interval(
                        guild_id, seller_id, "offer", to_ms(now),
                        span_ms(timedelta(seconds=settings.offer_cooldown_seconds)), session=session):
                raise Cooldown("You just made a trade offer; wait a little before the next one.",
                               retry_at=now + timedelta(seconds=settings.offer_cooldown_seconds))

        # The buyer's open-offer place is written in the insert's transaction (its first write):
        # offers from different sellers to one member race on it, so the cap holds on MongoDB
        # (a count inside the transaction would not: write skew).
        try:
            await self._repo.slots.claim(guild_id, OFFER_SLOT, buyer_id, trade_id,
                                         settings.offer_max_open_to_member, insert)
        except (SlotsFull, SlotsBusy):
            raise NotPermitted(
                f"<@{buyer_id}> already has {settings.offer_max_open_to_member} open offers; "
                "try again once they answered one.") from None
        return await self._t.load(guild_id, trade_id)

    async def accept(self, guild_id: int, trade_id: int, actor_id: int, *,
                     expected_price: int | None = None) -> TradeResult:
        """The buyer accepts a direct offer: their GEMS go on hold.

        `expected_price` is the price the buyer was shown (it travels in the Accept button);
        when it differs from the trade's, nothing is charged.

        Raises: FeatureOff, NotFound, NotPermitted, QuoteChanged, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        if actor_id != trade.buyer_id:
            raise NotPermitted("Only the member this offer was made to can accept it.")
        self._t.expect(trade, ("offered",), "This offer is no longer open.")
        if expected_price is not None and expected_price != trade.price:
            raise QuoteChanged(f"This offer is for {trade.price:,}, not the {expected_price:,} "
                               "you confirmed; nothing was charged.")
        settings = await require_on(self._settings, guild_id, "trades")  # no new hold while off
        await self._limits.check(guild_id, trade.buyer_id, trade.seller_id, trade.price, settings)

        async def attempt(current: Trade) -> None:
            self._t.expect(current, ("offered",), "This offer is no longer open.")
            now = self._clock.now()
            deliver_by = now + timedelta(days=settings.escrow_delivery_days)

            async def mark(session: Any) -> None:
                if not await self._repo.transition(
                    guild_id, trade_id, from_status=("offered",), to_status="reserved",
                    fields={"times": current.times(now, deliver_by=deliver_by,
                                                   offer_expires_at=None)},
                    event=timeline_event(now, "accepted", actor_id), version=current.version,
                    session=session,
                ):
                    raise StaleTrade

            await self._ledger.hold(guild_id, current.buyer_id, current.price,
                                    key=f"trade:{trade_id}:hold", ref=f"trade:{trade_id}",
                                    also=mark)

        await self._t.retrying(trade, attempt)
        return TradeResult(trade=await self._t.load(guild_id, trade_id))

    async def decline(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """The buyer declines (or the seller withdraws) a direct offer.

        Raises: NotFound, NotPermitted, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        if trade.role_of(actor_id) is None:
            raise NotPermitted("Only the two members of this offer can decline it.")
        return await self._t.simple(trade, ("offered",), "declined", actor_id,
                                  "This offer is no longer open.")

    # --- moving trades along ----------------------------------------------------------------
    async def mark_delivered(self, guild_id: int, trade_id: int, actor_id: int,
                             tracking: str | None = None) -> TradeResult:
        """The seller says the item is on its way; the auto-release timer starts.

        Raises: InvalidInput, NotFound, NotPermitted, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        self.check_can_deliver(trade, actor_id)
        tracking = clean_text(tracking, TEXT_MAX, "tracking note")
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        release_at = now + timedelta(days=settings.escrow_auto_release_days)
        return await self._t.simple(
            trade, ("reserved",), "delivered", actor_id, "This trade can't be marked delivered now.",
            fields={"tracking": tracking, "reminder_sent": False}, note=tracking,
            times={"delivered_at": now, "release_at": release_at,
                   "remind_at": release_at - timedelta(hours=24)})

    @staticmethod
    def check_can_deliver(trade: Trade, actor_id: int) -> None:
        """Raise NotPermitted/TradeUnavailable unless `actor_id` may mark `trade` delivered now
        (lets the bot refuse before it asks for a tracking note)."""
        if actor_id != trade.seller_id:
            raise NotPermitted("Only the seller can mark this trade as delivered.")
        TradeTransitions.expect(trade, ("reserved",), "This trade can't be marked delivered now.")

    async def confirm(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """The buyer confirms receipt: held GEMS go to the seller minus the fee.

        Raises: DeletedAccount, InsufficientFunds, InvalidAmount, NotFound, NotPermitted,
            OutcomeUnknown, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        if actor_id != trade.buyer_id:
            raise NotPermitted("Only the buyer can confirm that the item arrived.")
        self._t.expect(trade, HELD_STATUSES, "This trade can't be confirmed now.")
        return await self._t.settle(trade, to_seller=trade.price, to_status="completed",
                                  from_status=HELD_STATUSES, actor_id=actor_id, event="confirmed")

    async def cancel(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """The seller cancels before delivery: the buyer is refunded.

        Raises: DeletedAccount, InsufficientFunds, InvalidAmount, NotFound, NotPermitted,
            OutcomeUnknown, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        if actor_id != trade.seller_id:
            raise NotPermitted("Only the seller can cancel; the buyer can ask for a mutual cancel.")
        self._t.expect(trade, ("reserved",), "After delivery a trade can only be cancelled by both sides.")
        return await self._t.settle(trade, to_seller=0, to_status="cancelled",
                                  from_status=("reserved",), actor_id=actor_id, event="cancelled by seller")

    async def vote_mutual_cancel(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """One side asks to cancel; when both have asked, the buyer is refunded.

        Raises: DeletedAccount, InsufficientFunds, InvalidAmount, NotFound, NotPermitted,
            OutcomeUnknown, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        if trade.role_of(actor_id) is None:
            raise NotPermitted("Only the buyer and the seller can cancel this trade.")
        self._t.expect(trade, HELD_STATUSES, "This trade can't be cancelled now.")
        vote = f"cancel_{trade.role_of(actor_id)}"
        await self._repo.update_fields(guild_id, trade_id, guard={"status": {"$in": list(HELD_STATUSES)}},
                                       fields={vote: True})
        trade = await self._t.load(guild_id, trade_id)
        if not (trade.cancel_buyer and trade.cancel_seller):
            return TradeResult(trade=trade)
        return await self._t.settle(
            trade, to_seller=0, to_status="cancelled", from_status=HELD_STATUSES,
            actor_id=actor_id, event="cancelled by both sides",
            extra_guard={"cancel_buyer": True, "cancel_seller": True},
        )

    # --- reads ------------------------------------------------------------------------------
    async def get(self, guild_id: int, trade_id: int, viewer: Actor) -> Trade:
        """A trade, visible to its two parties and to moderators of the guild.

        Raises: NotFound, NotPermitted.
        """
        trade = await self._t.load(guild_id, trade_id)
        if not viewer.moderator(guild_id) and trade.role_of(viewer.user_id) is None:
            raise NotPermitted("Only the buyer, the seller and moderators can see this trade.")
        return trade

    async def for_member(self, guild_id: int, user_id: int,
                         which: Literal["active", "completed", "disputed", "all"] = "active") -> list[Trade]:
        """A member's trades by group.

        Raises: nothing expected.
        """
        statuses = {"active": list(OPEN_STATUSES[:3]), "completed": ["completed", "resolved"],
                    "disputed": ["disputed"], "all": None}[which]
        docs = await self._repo.for_member(guild_id, user_id, statuses)
        return [Trade.model_validate(doc) for doc in docs]

    async def attach_room(self, guild_id: int, trade_id: int, *, channel_id: int,
                          thread_id: int | None, card_message_id: int | None) -> None:
        """Remember where the trade's private thread and its trade card live.

        Raises: nothing expected.
        """
        await self._repo.update_fields(guild_id, trade_id, guard={}, fields={
            "channel_id": channel_id, "thread_id": thread_id, "card_message_id": card_message_id})

    # --- timers -----------------------------------------------------------------------------
    async def sweep(self) -> list[SweepEvent]:
        """Apply every due timer once (idempotent; safe with several bot processes).

        Raises: DeletedAccount, InsufficientFunds, InvalidAmount, NotFound, OutcomeUnknown,
            TradeUnavailable.
        """
        events: list[SweepEvent] = []
        now = self._clock.now()
        for guild_id in await self._repo.guild_ids():
            for doc in await self._repo.due(guild_id, "offered", "times.offer_expires_at", now):
                result = await self._timer_transition(doc, ("offered",), "expired", "offer expired")
                if result:
                    events.append(SweepEvent(kind="offer_expired", trade=result))
            for doc in await self._repo.due(guild_id, "reserved", "times.deliver_by", now):
                result = await self._timer_settle(doc, to_seller=0, to_status="cancelled",
                                                  from_status=("reserved",),
                                                  event="auto-cancelled: not delivered in time")
                if result and result.changed:
                    events.append(SweepEvent(kind="auto_cancel", trade=result.trade))
            for doc in await self._repo.due(guild_id, "delivered", "times.remind_at", now,
                                            {"reminder_sent": False}):
                if await self._repo.update_fields(guild_id, doc["trade_id"],
                                                  guard={"status": "delivered", "reminder_sent": False},
                                                  fields={"reminder_sent": True}):
                    events.append(SweepEvent(kind="release_reminder",
                                             trade=await self._t.load(guild_id, doc["trade_id"])))
            for doc in await self._repo.due(guild_id, "delivered", "times.release_at", now):
                result = await self._timer_settle(doc, to_seller=doc["price"], to_status="completed",
                                                  from_status=("delivered",),
                                                  event="auto-released: buyer did not respond")
                if result and result.changed:
                    events.append(SweepEvent(kind="auto_release", trade=result.trade, flags=result.flags))
        return events

    async def _timer_settle(self, doc: Doc, **settle: Any) -> TradeResult | None:
        """A timer's settlement; one trade whose listing is out of step is logged and skipped,
        so it cannot stop the sweep for every other trade."""
        try:
            return await self._t.settle(Trade.model_validate(doc), actor_id=None, **settle)
        except ListingOutOfStep as error:
            log.error("sweep skipped trade %s/%s: %s", doc["guild_id"], doc["trade_id"],
                      error.message)
            return None

    async def _timer_transition(self, doc: Doc, from_status: tuple[str, ...], to_status: str,
                                event: str) -> Trade | None:
        now = self._clock.now()
        trade = Trade.model_validate(doc)
        # A miss means someone else moved the trade since the sweep read it; the next sweep
        # reads it again.
        if await self._repo.transition(doc["guild_id"], doc["trade_id"], from_status=from_status,
                                       to_status=to_status, fields={"times": trade.times(now)},
                                       event=timeline_event(now, event, None), version=trade.version):
            return await self._t.load(doc["guild_id"], doc["trade_id"])
        return None
