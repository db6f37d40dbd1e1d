"""The trades' read models, statuses and errors, shared by every trade service and the cogs.

State machine (ARCHITECTURE.md section 4):

    offered --accept--> reserved --deliver--> delivered --confirm/auto-release--> completed
    offered --decline/expire--> declined | expired
    reserved --cancel (seller) / auto-cancel / mutual--> cancelled   (refund)
    delivered --mutual--> cancelled                                   (refund)
    reserved | delivered --dispute--> disputed --resolve--> resolved  (refund | release | split)

The transitions live in economy/trades/trades.py (offers, purchases, delivery, confirmation,
cancels, timers) and economy/trades/disputes.py; the guarded write and the settlement they share
in economy/trades/transitions.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from economy.core.errors import Conflict
from economy.core.settings import GuildSettings
from economy.marketplace.models import format_cents

OPEN_STATUSES = ("offered", "reserved", "delivered", "disputed")
HELD_STATUSES = ("reserved", "delivered")
FINAL_STATUSES = ("completed", "cancelled", "resolved", "declined", "expired")
TEXT_MAX = 300


class TradeUnavailable(Conflict):
    """The listing or trade is not in a state that allows this action any more."""


class QuoteChanged(TradeUnavailable):
    """What the member confirmed (a price, a listing version) is no longer what is on offer."""


class ListingOutOfStep(Conflict):
    """A settlement found the trade's listing not reserved for that trade; nothing moved."""


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


def new_trade_doc(guild_id: int, trade_id: int, kind: str, title: str, buyer_id: int,
                  seller_id: int, price: int, settings: GuildSettings, now: datetime, *,
                  status: str, listing_id: int | None = None) -> dict[str, Any]:
    """A new trade as stored, with the delivery deadline and fee of the guild's settings."""
    return {
        "guild_id": guild_id, "trade_id": trade_id, "kind": kind, "listing_id": listing_id,
        "title": title[:200], "buyer_id": buyer_id, "seller_id": seller_id, "price": price,
        "fee_bps": settings.escrow_fee_bps, "status": status, "created_at": now,
        "times": {**dict.fromkeys(TIME_FIELDS), "updated_at": now,
                  "deliver_by": now + timedelta(days=settings.escrow_delivery_days)},
        "cancel_buyer": False, "cancel_seller": False, "reminder_sent": False, "version": 0,
    }
