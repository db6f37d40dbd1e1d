"""Escrow trades: the buyer's GEMS are held until delivery is confirmed or a moderator decides.

State machine (ARCHITECTURE.md section 4):

    offered --accept--> reserved --deliver--> delivered --confirm/auto-release--> completed
    offered --decline/expire--> declined | expired
    reserved --cancel (seller) / auto-cancel / mutual--> cancelled   (refund)
    delivered --mutual--> cancelled                                   (refund)
    reserved | delivered --dispute--> disputed --resolve--> resolved  (refund | release | split)

Each transition is one guarded update (`status in expected`) plus its ledger entries in the same
transaction. Every settlement of a trade's held GEMS uses the one key `trade:{id}:settle`, so
whichever of confirm, auto-release, cancel or resolve commits first is the only one that moves
money; the others find the trade already settled.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from economy.core.clock import Clock, to_ms
from economy.core.errors import (
    AlreadyRecorded,
    Cooldown,
    GemsError,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from economy.core.ledger import LedgerService, check_amount
from economy.core.members import MemberService
from economy.core.modules import require_on
from economy.core.settings import GuildSettings, SettingsService
from economy.core.text import clean_text, visible_length
from economy.marketplace.models import format_cents
from economy.repos.base import Doc
from economy.repos.slot_repo import SlotsBusy, SlotsFull
from economy.trades.repo import OFFER_SLOT, TradeRepo

log = logging.getLogger(__name__)

OPEN_STATUSES = ("offered", "reserved", "delivered", "disputed")
HELD_STATUSES = ("reserved", "delivered")
FINAL_STATUSES = ("completed", "cancelled", "resolved", "declined", "expired")
OFFER_HOURS = 24
REASON_MAX = 500
TEXT_MAX = 300


RETRIES = 5  # re-reads of a trade another writer changed between our read and our write


class TradeUnavailable(GemsError):
    """The listing or trade is not in a state that allows this action any more."""


class QuoteChanged(TradeUnavailable):
    """What the member confirmed (a price, a listing version) is no longer what is on offer."""


class _StaleTrade(GemsError):
    """A guarded trade write missed: someone wrote the trade after we read it (retry)."""

    def __init__(self) -> None:
        super().__init__("This trade changed meanwhile; please try again.")


class _Unreserved(GemsError):
    """The listing's guarded reservation missed inside the purchase transaction."""

    def __init__(self) -> None:
        super().__init__("This listing is no longer available as quoted.")


class ListingOutOfStep(GemsError):
    """A settlement found the trade's listing not reserved for that trade; nothing moved."""


class CashSettlement(Protocol):
    """Settles trades paid outside the ledger (USD through Stripe): the trade's transition runs
    in the same transaction as the record of the refund/transfer owed (economy/payments/service.py)."""

    async def settle(self, trade: Trade, *, to_seller: int, fee: int, actor_id: int | None,
                     also: Any) -> None: ...


class ListingGate(Protocol):
    """What escrow needs from the marketplace's listing repository."""

    async def get(self, guild_id: int, listing_id: int) -> Doc | None: ...

    async def reserve(self, guild_id: int, listing_id: int, buyer_id: int, trade_id: int,
                      at: datetime, *, session: Any, price_gems: int | None = None,
                      version: int | None = None) -> bool: ...

    async def mark_sold(self, guild_id: int, listing_id: int, buyer_id: int, price_gems: int,
                        at: datetime, *, trade_id: int, session: Any) -> bool: ...

    async def unreserve(self, guild_id: int, listing_id: int, at: datetime, *, trade_id: int,
                        session: Any) -> bool: ...


class TimelineEvent(BaseModel):
    """One line of a trade's history."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    at: datetime
    event: str
    actor_id: int | None = None
    note: str | None = None


TIME_FIELDS = ("deliver_by", "delivered_at", "release_at", "remind_at", "completed_at",
               "offer_expires_at", "updated_at")


class Trade(BaseModel):
    """A trade as stored (read model).

    The dates that change over a trade's life are stored together in a `times` subdocument and
    always written as a whole: the embedded store turns a top-level datetime written with `$set`
    into a string (nx-27017 0.8.1), but keeps datetimes inside a `$set` subdocument. Every write
    of `times` is a status transition guarded by the old status, so no write is lost.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _flatten_times(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("times"), dict):
            data = {**data, **data["times"]}
        return data

    guild_id: int
    trade_id: int
    kind: Literal["listing", "direct"]
    #: "gems" (held in the ledger) or an ISO currency paid by card (price in cents, no GEMS held).
    currency: str = "gems"
    listing_id: int | None = None
    title: str
    buyer_id: int
    seller_id: int
    price: int
    fee_bps: int
    status: str
    created_at: datetime
    deliver_by: datetime | None = None
    delivered_at: datetime | None = None
    tracking: str | None = None
    release_at: datetime | None = None
    remind_at: datetime | None = None
    completed_at: datetime | None = None
    offer_expires_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0
    cancel_buyer: bool = False
    cancel_seller: bool = False
    dispute: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None
    thread_id: int | None = None
    channel_id: int | None = None
    card_message_id: int | None = None
    timeline: list[TimelineEvent] = Field(default_factory=list)

    def times(self, now: datetime, **changes: datetime | None) -> dict[str, Any]:
        """The `times` subdocument with `changes` applied (and updated_at = now)."""
        current = {name: getattr(self, name) for name in TIME_FIELDS}
        return {**current, **changes, "updated_at": now}

    @property
    def fee(self) -> int:
        """The fee on a full release (rounded down, in the seller's favour)."""
        return fee_for(self.price, self.fee_bps)

    def money(self, settings: GuildSettings, amount: int | None = None) -> str:
        """`amount` (default: the price) in the trade's currency, e.g. `💎 1,000` or `$12.50`."""
        amount = self.price if amount is None else amount
        if self.currency == "gems":
            return settings.money(amount)
        return format_cents(amount, self.currency)

    def role_of(self, user_id: int) -> str | None:
        """'buyer', 'seller' or None."""
        if user_id == self.buyer_id:
            return "buyer"
        if user_id == self.seller_id:
            return "seller"
        return None


class TradeResult(BaseModel):
    """A trade after an action. `changed` is False when someone else got there first."""

    model_config = ConfigDict(frozen=True)

    trade: Trade
    changed: bool = True
    flags: tuple[str, ...] = ()


class RatingSummary(BaseModel):
    """Ratings a member received as a trading partner."""

    model_config = ConfigDict(frozen=True)

    count: int
    stars_total: int
    completed_trades: int

    @property
    def average(self) -> float | None:
        """Mean stars, or None without ratings."""
        return self.stars_total / self.count if self.count else None

    def render(self) -> str:
        """`★ 4.5 (12 ratings, 15 trades)` or `no ratings yet`."""
        trades = f"{self.completed_trades} trade{'s' if self.completed_trades != 1 else ''}"
        if not self.count:
            return f"no ratings yet · {trades}"
        return f"★ {self.average:.1f} ({self.count} rating{'s' if self.count != 1 else ''}, {trades})"


class PurchaseQuote(BaseModel):
    """What a buyer sees before confirming a purchase."""

    model_config = ConfigDict(frozen=True)

    listing_id: int
    title: str
    price: int
    version: int
    fee: int
    seller_id: int
    seller_rating: RatingSummary
    balance: int


class SweepEvent(BaseModel):
    """Something a timer did, for the bot to announce."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["auto_release", "auto_cancel", "release_reminder", "offer_expired"]
    trade: Trade
    flags: tuple[str, ...] = ()


def fee_for(amount: int, fee_bps: int) -> int:
    """The fee in whole GEMS: amount × bps / 10,000, rounded down."""
    return amount * fee_bps // 10_000


class EscrowService:
    """Creates trades and moves them through the state machine."""

    def __init__(
        self, repo: TradeRepo, ledger: LedgerService, settings: SettingsService, clock: Clock,
        listings: ListingGate | None = None, members: MemberService | None = None,
    ) -> None:
        self._repo = repo
        self._members = members
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._listings = listings
        #: Settles trades paid by card (set by economy/services.py when payments are wired).
        self.cash: CashSettlement | None = None

    # --- creating trades --------------------------------------------------------------------
    async def purchase_quote(self, guild_id: int, buyer_id: int, listing_id: int) -> PurchaseQuote:
        """Check that a listing can be bought and describe the purchase (nothing changes)."""
        listing = await self._buyable_listing(guild_id, buyer_id, listing_id)
        settings = await self._settings.get(guild_id)
        price = listing["price_gems"]
        return PurchaseQuote(
            listing_id=listing_id, title=listing.get("title", f"Listing #{listing_id}"),
            price=price, version=int(listing.get("version", 0)),
            fee=fee_for(price, settings.escrow_fee_bps),
            seller_id=listing["seller_id"],
            seller_rating=await self.rating_summary(guild_id, listing["seller_id"]),
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
        await self._check_limits(guild_id, buyer_id, listing["seller_id"], price, settings)
        trade_id = await self._repo.next_trade_id(guild_id)
        now = self._clock.now()
        doc = self._new_trade(guild_id, trade_id, "listing", listing.get("title", f"Listing #{listing_id}"),
                              buyer_id, listing["seller_id"], price, settings, now,
                              status="reserved", listing_id=listing_id)
        gate = self._listings
        assert gate is not None

        async def reserve(session: Any) -> None:
            if not await gate.reserve(guild_id, listing_id, buyer_id, trade_id, now,
                                      session=session, price_gems=price,
                                      version=expected_version):
                raise _Unreserved
            await self._repo.insert(doc, _event(now, "reserved", buyer_id), session=session)

        try:
            await self._ledger.hold(guild_id, buyer_id, price, key=f"trade:{trade_id}:hold",
                                    ref=f"trade:{trade_id}", also=reserve)
        except _Unreserved:
            # Say why: sold to someone else, or the price/listing changed under the quote.
            fresh = await self._buyable_listing(guild_id, buyer_id, listing_id)
            self._check_quote(fresh, price, expected_version)
            raise TradeUnavailable("Sorry, someone else just bought this listing.") from None
        return TradeResult(trade=await self._trade(guild_id, trade_id))

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
        """Refuse a pair over the repeated-trade limit (for purchases paid outside escrow holds)."""
        await self._check_pair(guild_id, buyer_id, seller_id, await self._settings.get(guild_id))

    def card_trade_doc(self, guild_id: int, trade_id: int, listing: Doc, buyer_id: int,
                       cents: int, currency: str, fee_bps: int, settings: GuildSettings,
                       now: datetime) -> Doc:
        """A reserved (paid) trade for a listing bought by card: same state machine, no hold."""
        doc = self._new_trade(guild_id, trade_id, "listing",
                              listing.get("title", f"Listing #{listing['listing_id']}"),
                              buyer_id, listing["seller_id"], cents, settings, now,
                              status="reserved", listing_id=listing["listing_id"])
        return {**doc, "currency": currency, "fee_bps": fee_bps}

    @staticmethod
    def paid_event(now: datetime, buyer_id: int, note: str) -> Doc:
        """The first timeline line of a trade paid by card."""
        return _event(now, "paid", buyer_id, note)

    async def offer(self, guild_id: int, seller_id: int, buyer_id: int, price: int,
                    description: str) -> Trade:
        """A direct trade: the seller offers something to a member, who may accept or decline.

        Abuse limits: members who turned DMs off get no offers; a member receives at most
        `offer_max_open_to_member` open offers; a seller waits `offer_cooldown_seconds` between
        offers. The last two are written in the insert's transaction (a guarded interval and one
        of the buyer's open-offer places), so concurrent offers cannot get around them.
        FeatureOff while trades are switched off (/settings modules).
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
        await self._check_pair(guild_id, buyer_id, seller_id, settings)
        trade_id = await self._repo.next_trade_id(guild_id)
        now = self._clock.now()
        doc = self._new_trade(guild_id, trade_id, "direct", description, buyer_id, seller_id,
                              price, settings, now, status="offered")
        doc["times"].update(offer_expires_at=now + timedelta(hours=OFFER_HOURS), deliver_by=None)
        members = self._members

        async def insert(session: Any) -> None:
            await self._repo.insert(doc, _event(now, "offered", seller_id), session=session)
            if members is not None and settings.offer_cooldown_seconds and not \
                    await members.repo.claim_interval(
                        guild_id, seller_id, "offer", to_ms(now),
                        settings.offer_cooldown_seconds * 1000, session=session):
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
        return await self._trade(guild_id, trade_id)

    async def accept(self, guild_id: int, trade_id: int, actor_id: int, *,
                     expected_price: int | None = None) -> TradeResult:
        """The buyer accepts a direct offer: their GEMS go on hold.

        `expected_price` is the price the buyer was shown (it travels in the Accept button);
        when it differs from the trade's, nothing is charged.
        """
        trade = await self._trade(guild_id, trade_id)
        if actor_id != trade.buyer_id:
            raise NotPermitted("Only the member this offer was made to can accept it.")
        self._expect(trade, ("offered",), "This offer is no longer open.")
        if expected_price is not None and expected_price != trade.price:
            raise QuoteChanged(f"This offer is for {trade.price:,}, not the {expected_price:,} "
                               "you confirmed; nothing was charged.")
        settings = await require_on(self._settings, guild_id, "trades")  # no new hold while off
        await self._check_limits(guild_id, trade.buyer_id, trade.seller_id, trade.price, settings)

        async def attempt(current: Trade) -> None:
            self._expect(current, ("offered",), "This offer is no longer open.")
            now = self._clock.now()
            deliver_by = now + timedelta(days=settings.escrow_delivery_days)

            async def mark(session: Any) -> None:
                if not await self._repo.transition(
                    guild_id, trade_id, from_status=("offered",), to_status="reserved",
                    fields={"times": current.times(now, deliver_by=deliver_by,
                                                   offer_expires_at=None)},
                    event=_event(now, "accepted", actor_id), version=current.version,
                    session=session,
                ):
                    raise _StaleTrade

            await self._ledger.hold(guild_id, current.buyer_id, current.price,
                                    key=f"trade:{trade_id}:hold", ref=f"trade:{trade_id}",
                                    also=mark)

        await self._retrying(trade, attempt)
        return TradeResult(trade=await self._trade(guild_id, trade_id))

    async def decline(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """The buyer declines (or the seller withdraws) a direct offer."""
        trade = await self._trade(guild_id, trade_id)
        if trade.role_of(actor_id) is None:
            raise NotPermitted("Only the two members of this offer can decline it.")
        return await self._simple(trade, ("offered",), "declined", actor_id,
                                  "This offer is no longer open.")

    # --- moving trades along ----------------------------------------------------------------
    async def mark_delivered(self, guild_id: int, trade_id: int, actor_id: int,
                             tracking: str | None = None) -> TradeResult:
        """The seller says the item is on its way; the auto-release timer starts."""
        trade = await self._trade(guild_id, trade_id)
        self.check_can_deliver(trade, actor_id)
        tracking = clean_text(tracking, TEXT_MAX, "tracking note")
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        release_at = now + timedelta(days=settings.escrow_auto_release_days)
        return await self._simple(
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
        EscrowService._expect(trade, ("reserved",), "This trade can't be marked delivered now.")

    async def confirm(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """The buyer confirms receipt: held GEMS go to the seller minus the fee."""
        trade = await self._trade(guild_id, trade_id)
        if actor_id != trade.buyer_id:
            raise NotPermitted("Only the buyer can confirm that the item arrived.")
        self._expect(trade, HELD_STATUSES, "This trade can't be confirmed now.")
        return await self._settle(trade, to_seller=trade.price, to_status="completed",
                                  from_status=HELD_STATUSES, actor_id=actor_id, event="confirmed")

    async def cancel(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """The seller cancels before delivery: the buyer is refunded."""
        trade = await self._trade(guild_id, trade_id)
        if actor_id != trade.seller_id:
            raise NotPermitted("Only the seller can cancel; the buyer can ask for a mutual cancel.")
        self._expect(trade, ("reserved",), "After delivery a trade can only be cancelled by both sides.")
        return await self._settle(trade, to_seller=0, to_status="cancelled",
                                  from_status=("reserved",), actor_id=actor_id, event="cancelled by seller")

    async def vote_mutual_cancel(self, guild_id: int, trade_id: int, actor_id: int) -> TradeResult:
        """One side asks to cancel; when both have asked, the buyer is refunded."""
        trade = await self._trade(guild_id, trade_id)
        if trade.role_of(actor_id) is None:
            raise NotPermitted("Only the buyer and the seller can cancel this trade.")
        self._expect(trade, HELD_STATUSES, "This trade can't be cancelled now.")
        vote = f"cancel_{trade.role_of(actor_id)}"
        await self._repo.update_fields(guild_id, trade_id, guard={"status": {"$in": list(HELD_STATUSES)}},
                                       fields={vote: True})
        trade = await self._trade(guild_id, trade_id)
        if not (trade.cancel_buyer and trade.cancel_seller):
            return TradeResult(trade=trade)
        return await self._settle(
            trade, to_seller=0, to_status="cancelled", from_status=HELD_STATUSES,
            actor_id=actor_id, event="cancelled by both sides",
            extra_guard={"cancel_buyer": True, "cancel_seller": True},
        )

    async def open_dispute(self, guild_id: int, trade_id: int, actor_id: int, reason: str,
                           evidence: list[dict[str, str]] | None = None) -> TradeResult:
        """Either side asks a moderator to decide; the timers stop."""
        trade = await self._trade(guild_id, trade_id)
        if trade.role_of(actor_id) is None:
            raise NotPermitted("Only the buyer and the seller can open a dispute on this trade.")
        reason = clean_text(reason, REASON_MAX, "reason")
        if not reason or visible_length(reason) < 5:
            raise InvalidInput("Please explain the problem (at least 5 characters).")
        evidence = list(evidence or [])[:5]
        now = self._clock.now()
        dispute = {"opened_by": actor_id, "reason": reason, "evidence": evidence, "opened_at": now}
        return await self._simple(trade, HELD_STATUSES, "disputed", actor_id,
                                  "Disputes can only be opened while the GEMS are still held.",
                                  fields={"dispute": dispute}, note=reason)

    async def resolve(self, guild_id: int, trade_id: int, moderator_id: int,
                      outcome: Literal["refund", "release", "split"], *, percent: int | None = None,
                      note: str | None = None) -> TradeResult:
        """A moderator settles a dispute. `percent` (split) is the seller's share, 0-100.

        The caller has checked the moderator role; a party to the trade may not resolve it.
        """
        trade = await self._trade(guild_id, trade_id)
        if trade.role_of(moderator_id) is not None:
            raise NotPermitted("You are part of this trade, so another moderator has to resolve it.")
        if outcome == "split":
            if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
                raise InvalidInput("For a split, give the seller's share as a percent from 0 to 100.")
            to_seller = trade.price * percent // 100
        elif outcome == "release":
            to_seller, percent = trade.price, 100
        elif outcome == "refund":
            to_seller, percent = 0, 0
        else:
            raise InvalidInput("The outcome must be refund, release or split.")
        note = clean_text(note, TEXT_MAX, "note")
        self._expect(trade, ("disputed",), "This trade has no open dispute (maybe it was just resolved).")
        resolution = {"outcome": outcome, "percent": percent, "to_seller": to_seller,
                      "fee": fee_for(to_seller, trade.fee_bps), "note": note,
                      "moderator_id": moderator_id, "at": self._clock.now()}
        # The audit-log record is written in the settlement's own transaction: a crash can't
        # leave a resolution without its record.
        record = {"guild_id": guild_id, "at": resolution["at"], "actor_id": moderator_id,
                  "action": "dispute.resolve", "target": f"trade:{trade_id}",
                  "details": resolution}
        return await self._settle(trade, to_seller=to_seller, to_status="resolved",
                                  from_status=("disputed",), actor_id=moderator_id,
                                  event=f"resolved: {outcome}" + (f" {percent}%" if outcome == "split" else ""),
                                  fields={"resolution": resolution}, note=note, audit=record)

    # --- ratings ----------------------------------------------------------------------------
    async def rate(self, guild_id: int, trade_id: int, rater_id: int, stars: int,
                   text: str | None = None) -> Trade:
        """Rate the other side of a finished trade, once."""
        trade = await self._trade(guild_id, trade_id)
        role = trade.role_of(rater_id)
        if role is None:
            raise NotPermitted("Only the buyer and the seller can rate this trade.")
        if trade.status not in ("completed", "resolved"):
            raise TradeUnavailable("You can rate a trade once it is completed.")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise InvalidInput("Stars go from 1 to 5.")
        text = clean_text(text, TEXT_MAX, "review")
        ratee = trade.seller_id if role == "buyer" else trade.buyer_id
        try:
            await self._repo.add_rating({
                "guild_id": guild_id, "trade_id": trade_id, "rater_id": rater_id,
                "ratee_id": ratee, "role": role, "stars": stars, "text": text,
                "at": self._clock.now(),
            })
        except AlreadyRecorded:
            raise InvalidInput("You already rated this trade.") from None
        return trade

    async def recent_reviews(self, guild_id: int, user_id: int, limit: int = 5) -> list[tuple[int, str]]:
        """(stars, text) of the latest written reviews a member received."""
        docs = await self._repo.reviews_for(guild_id, user_id, limit=limit)
        return [(d["stars"], d["text"]) for d in docs if d.get("text")]

    async def rating_summary(self, guild_id: int, user_id: int) -> RatingSummary:
        """How a member is rated as a trading partner."""
        n, stars = await self._repo.rating_summary(guild_id, user_id)
        completed = await self._repo.completed_count(guild_id, user_id)
        return RatingSummary(count=n, stars_total=stars, completed_trades=completed)

    # --- reads ------------------------------------------------------------------------------
    async def get(self, guild_id: int, trade_id: int, viewer_id: int, *,
                  moderator: bool = False) -> Trade:
        """A trade, visible to its two parties and to moderators."""
        trade = await self._trade(guild_id, trade_id)
        if not moderator and trade.role_of(viewer_id) is None:
            raise NotPermitted("Only the buyer, the seller and moderators can see this trade.")
        return trade

    async def for_member(self, guild_id: int, user_id: int,
                         which: Literal["active", "completed", "disputed", "all"] = "active") -> list[Trade]:
        """A member's trades by group."""
        statuses = {"active": list(OPEN_STATUSES[:3]), "completed": ["completed", "resolved"],
                    "disputed": ["disputed"], "all": None}[which]
        docs = await self._repo.for_member(guild_id, user_id, statuses)
        return [Trade.model_validate(doc) for doc in docs]

    async def disputes(self, guild_id: int, status: Literal["open", "resolved"] = "open") -> list[Trade]:
        """Disputes for moderators."""
        docs = await self._repo.by_status(guild_id, ["disputed" if status == "open" else "resolved"])
        return [Trade.model_validate(doc) for doc in docs]

    async def export_csv(self, guild_id: int, actor_id: int) -> str:
        """Every trade of the guild as CSV (admins), recorded in the audit log."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["trade_id", "kind", "listing_id", "title", "buyer_id", "seller_id",
                         "price", "fee_bps", "status", "created_at", "delivered_at",
                         "completed_at", "dispute_reason", "resolution", "seller_share",
                         "currency"])  # gems, or a card currency (price in cents)
        for doc in await self._repo.all_for_guild(guild_id):
            t = Trade.model_validate(doc)
            res = t.resolution or {}
            writer.writerow([
                t.trade_id, t.kind, t.listing_id or "", _csv_safe(t.title), t.buyer_id,
                t.seller_id, t.price, t.fee_bps, t.status, t.created_at.isoformat(),
                t.delivered_at.isoformat() if t.delivered_at else "",
                t.completed_at.isoformat() if t.completed_at else "",
                _csv_safe((t.dispute or {}).get("reason") or ""), res.get("outcome", ""),
                res.get("to_seller", ""), t.currency,
            ])
        await self._repo.log({"guild_id": guild_id, "at": self._clock.now(), "actor_id": actor_id,
                              "action": "trades.export", "target": "trades", "details": {}})
        return out.getvalue()

    async def attach_room(self, guild_id: int, trade_id: int, *, channel_id: int,
                          thread_id: int | None, card_message_id: int | None) -> None:
        """Remember where the trade's private thread and its trade card live."""
        await self._repo.update_fields(guild_id, trade_id, guard={}, fields={
            "channel_id": channel_id, "thread_id": thread_id, "card_message_id": card_message_id})

    # --- timers -----------------------------------------------------------------------------
    async def sweep(self) -> list[SweepEvent]:
        """Apply every due timer once (idempotent; safe with several bot processes)."""
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
                                             trade=await self._trade(guild_id, doc["trade_id"])))
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
            return await self._settle(Trade.model_validate(doc), actor_id=None, **settle)
        except ListingOutOfStep as error:
            log.error("sweep skipped trade %s/%s: %s", doc["guild_id"], doc["trade_id"],
                      error.message)
            return None

    # --- internals --------------------------------------------------------------------------
    async def _trade(self, guild_id: int, trade_id: int) -> Trade:
        doc = await self._repo.get(guild_id, trade_id)
        if not doc:
            raise NotFound(f"Trade #{trade_id} doesn't exist.")
        return Trade.model_validate({**doc, "timeline": await self._repo.timeline(guild_id, trade_id)})

    @staticmethod
    def _expect(trade: Trade, statuses: tuple[str, ...], message: str) -> None:
        if trade.status not in statuses:
            raise TradeUnavailable(f"{message} (trade #{trade.trade_id} is {trade.status}.)")

    async def _simple(self, trade: Trade, from_status: tuple[str, ...], to_status: str,
                      actor_id: int, message: str, *, fields: Doc | None = None,
                      times: Doc | None = None, note: str | None = None) -> TradeResult:
        """A transition that moves no GEMS; `times` are changes to the trade's dates."""

        async def attempt(current: Trade) -> None:
            self._expect(current, from_status, message)
            now = self._clock.now()
            if not await self._repo.transition(
                current.guild_id, current.trade_id, from_status=from_status, to_status=to_status,
                fields={"times": current.times(now, **(times or {})), **(fields or {})},
                event=_event(now, to_status, actor_id, note), version=current.version,
            ):
                raise _StaleTrade

        await self._retrying(trade, attempt)
        return TradeResult(trade=await self._trade(trade.guild_id, trade.trade_id))

    async def _retrying(self, trade: Trade, attempt: Any) -> None:
        """Run `attempt(trade)`; when its guarded write misses, re-read the trade and retry.

        `attempt` checks the status it needs first, so a trade that moved on is refused with
        that status; one that was only written (a vote, a room id) is retried on the new read.
        """
        for _ in range(RETRIES):
            try:
                await attempt(trade)
                return
            except _StaleTrade:
                trade = await self._trade(trade.guild_id, trade.trade_id)
        raise TradeUnavailable("This trade is changing quickly right now; please try again.")

    async def _timer_transition(self, doc: Doc, from_status: tuple[str, ...], to_status: str,
                                event: str) -> Trade | None:
        now = self._clock.now()
        trade = Trade.model_validate(doc)
        # A miss means someone else moved the trade since the sweep read it; the next sweep
        # reads it again.
        if await self._repo.transition(doc["guild_id"], doc["trade_id"], from_status=from_status,
                                       to_status=to_status, fields={"times": trade.times(now)},
                                       event=_event(now, event, None), version=trade.version):
            return await self._trade(doc["guild_id"], doc["trade_id"])
        return None

    async def _settle(
        self, trade: Trade, *, to_seller: int, to_status: str, from_status: tuple[str, ...],
        actor_id: int | None, event: str, fields: Doc | None = None, note: str | None = None,
        extra_guard: Doc | None = None, audit: Doc | None = None,
    ) -> TradeResult:
        """Release/refund/split the held GEMS and move the trade (and listing), atomically.

        Everything the settlement records is in its one transaction: the trade transition
        (guarded by the status and version read), the listing's sold/unreserved transition (a
        miss aborts), the audit-log record and the ledger legs.
        """
        guild_id, trade_id = trade.guild_id, trade.trade_id
        fee = fee_for(to_seller, trade.fee_bps)
        done = to_status in ("completed", "resolved")
        listing_gate = self._listings if trade.listing_id is not None else None
        repo = self._repo
        changed = False
        for _ in range(RETRIES):
            if trade.status not in from_status:
                break
            now = self._clock.now()
            current = trade
            set_fields = {**(fields or {}), "times": current.times(
                now, completed_at=now if done else current.completed_at)}

            async def transition(session: Any, current: Trade = current, now: datetime = now,
                                 set_fields: Doc = set_fields) -> None:
                if not await repo.transition(guild_id, trade_id, from_status=from_status,
                                             to_status=to_status, fields=set_fields,
                                             event=_event(now, event, actor_id, note),
                                             version=current.version, session=session,
                                             extra_guard=extra_guard):
                    raise _StaleTrade
                if listing_gate is not None:
                    moved = await (
                        listing_gate.mark_sold(guild_id, current.listing_id, current.buyer_id,
                                               # only GEMS sales feed the GEMS price hint
                                               current.price if current.currency == "gems" else 0,
                                               now, trade_id=trade_id, session=session)
                        if to_seller > 0 else
                        listing_gate.unreserve(guild_id, current.listing_id, now,
                                               trade_id=trade_id, session=session))
                    if not moved:
                        raise ListingOutOfStep(
                            f"Listing #{current.listing_id} is not reserved for trade #{trade_id}, "
                            "so nothing was settled. Please tell a moderator.")
                if audit is not None:
                    await repo.log(audit, session=session)

            try:
                if trade.currency != "gems":
                    # Paid by card: no GEMS are held; the guarded transition makes it once.
                    if self.cash is None:
                        raise TradeUnavailable("Card payments are not set up on this bot.")
                    await self.cash.settle(trade, to_seller=to_seller, fee=fee,
                                           actor_id=actor_id, also=transition)
                    changed = True
                    break
                movement = await self._ledger.settle_hold(
                    guild_id, buyer_id=trade.buyer_id, seller_id=trade.seller_id,
                    amount=trade.price, to_seller=to_seller, fee=fee,
                    key=f"trade:{trade_id}:settle", ref=f"trade:{trade_id}", note=note,
                    actor_id=actor_id, also=transition,
                )
                changed = not movement.replayed
                break
            except _StaleTrade:
                trade = await self._trade(guild_id, trade_id)
            except (IdempotencyConflict, TradeUnavailable):
                break
        fresh = await self._trade(guild_id, trade_id)
        if not changed and actor_id is not None:
            raise TradeUnavailable(
                f"Trade #{trade_id} was already settled (it is {fresh.status}); nothing changed."
            )
        flags: tuple[str, ...] = ()
        if changed and to_status == "completed":
            flags = await self._wash_flags(fresh)
        return TradeResult(trade=fresh, changed=changed, flags=flags)

    async def _wash_flags(self, trade: Trade) -> tuple[str, ...]:
        settings = await self._settings.get(trade.guild_id)
        since = self._clock.now() - timedelta(days=settings.escrow_wash_trade_days)
        pair = await self._repo.recent_pair_trades(trade.guild_id, trade.buyer_id, trade.seller_id, since)
        if pair >= settings.escrow_wash_trade_count:
            return (f"<@{trade.buyer_id}> and <@{trade.seller_id}> traded {pair} times in "
                    f"{settings.escrow_wash_trade_days} days (possible wash trading or alt funnelling).",)
        return ()

    async def _check_pair(self, guild_id: int, buyer_id: int, seller_id: int,
                          settings: GuildSettings) -> None:
        """With `escrow_wash_trade_block` on, a pair over the repeated-trade limit can't trade."""
        if not settings.escrow_wash_trade_block:
            return
        since = self._clock.now() - timedelta(days=settings.escrow_wash_trade_days)
        if await self._repo.recent_pair_trades(guild_id, buyer_id, seller_id, since) \
                >= settings.escrow_wash_trade_count:
            raise NotPermitted(
                f"You two completed {settings.escrow_wash_trade_count} or more trades in "
                f"{settings.escrow_wash_trade_days} days, which this server limits (repeated "
                "trades between the same pair). Ask a moderator if this is a mistake.")

    async def _check_limits(self, guild_id: int, buyer_id: int, seller_id: int, price: int,
                            settings: GuildSettings) -> None:
        await self._check_pair(guild_id, buyer_id, seller_id, settings)
        if price <= settings.escrow_new_member_max:
            return
        for user_id in (buyer_id, seller_id):
            if await self._repo.completed_count(guild_id, user_id) < settings.escrow_new_member_trades:
                raise NotPermitted(
                    f"Members with fewer than {settings.escrow_new_member_trades} completed trades "
                    f"can trade up to {settings.money(settings.escrow_new_member_max)} at a time."
                )

    def _new_trade(self, guild_id: int, trade_id: int, kind: str, title: str, buyer_id: int,
                   seller_id: int, price: int, settings: GuildSettings, now: datetime, *,
                   status: str, listing_id: int | None = None) -> Doc:
        return {
            "guild_id": guild_id, "trade_id": trade_id, "kind": kind, "listing_id": listing_id,
            "title": title[:200], "buyer_id": buyer_id, "seller_id": seller_id, "price": price,
            "fee_bps": settings.escrow_fee_bps, "status": status, "created_at": now,
            "times": {**dict.fromkeys(TIME_FIELDS), "updated_at": now,
                      "deliver_by": now + timedelta(days=settings.escrow_delivery_days)},
            "cancel_buyer": False, "cancel_seller": False, "reminder_sent": False, "version": 0,
        }


def _event(at: datetime, event: str, actor_id: int | None, note: str | None = None) -> Doc:
    return {"at": at, "event": event, "actor_id": actor_id, "note": note}


def _csv_safe(text: str) -> str:
    # Spreadsheet apps run cells that start with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
