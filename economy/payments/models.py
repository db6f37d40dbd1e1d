"""What the payments services hand back: a buyer's Checkout link and the outcome of an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from economy.trades.models import Trade


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
