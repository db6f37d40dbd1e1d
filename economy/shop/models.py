"""The shop's items, holdings and purchases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from economy.core.clock import from_ms, span_ms, unix_seconds
from economy.core.errors import Conflict, InvalidInput

Kind = Literal["role", "consumable", "custom", "badge"]
#: Consumable effects (what `/shop use` does). The streak freeze is the shop's own; the listing
#: boost is applied by the marketplace through the effect seam (economy/shop/effects.py).
EFFECTS = {"streak_freeze": "Streak freeze: covers one more missed daily claim",
           "listing_boost": "Listing boost: one of your listings shows first in `/market browse` "
                            "for a while (`/shop use`)"}
DAY_MS = span_ms(timedelta(days=1))
MAX_STOCK = 1_000_000
MAX_DAYS = 3650


class QuoteChanged(InvalidInput):
    """The item changed (price, version, withdrawn) between the quote and the confirmation."""


class HoldingChanged(InvalidInput):
    """The member's holding of the item changed between the read and the guarded write (another
    purchase or prize of theirs went through first); nothing was written."""


class PrizeUnavailable(Conflict):
    """A raffle prize's units could not be set aside: the item sold out or left the shop."""


@dataclass(frozen=True)
class Item:
    """One item of a guild's shop."""

    guild_id: int
    item_id: int
    name: str
    description: str | None
    kind: Kind
    price: int
    version: int
    active: bool
    sold: int = 0
    stock: int | None = None  # units left; None = unlimited
    per_member_limit: int | None = None
    required_role_id: int | None = None
    role_id: int | None = None
    days: int | None = None  # a role for N days; None = permanent
    effect: str | None = None
    from_ms: int | None = None
    until_ms: int | None = None
    #: Kind "badge": the badge's key and what members read of it (economy/shop/kinds.py).
    target: str | None = None
    target_label: str | None = None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Item:
        """The item stored in `doc`."""
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in doc.items() if k in fields})

    def what_you_get(self) -> str:
        """One line: what a buyer receives."""
        if self.kind == "role":
            span = f"for {self.days} day{'s' if self.days != 1 else ''}" if self.days else "permanently"
            return f"the role <@&{self.role_id}> {span}"
        if self.kind == "custom":
            return "something staff hand you (they get a ticket to fulfil)"
        if self.kind == "badge":
            return f"the badge {self.target_label or self.target} on your profile"
        return EFFECTS.get(self.effect or "", "an item for your inventory")

    def availability(self, now_ms: int) -> str | None:
        """Why the item cannot be bought now (None when it can)."""
        if not self.active:
            return "That item was removed from the shop."
        if self.from_ms is not None and now_ms < self.from_ms:
            return f"That item is not on sale yet: it is available from <t:{unix_seconds(self.from_ms)}:f>."
        if self.until_ms is not None and now_ms >= self.until_ms:
            return "That item is no longer on sale."
        if self.stock is not None and self.stock <= 0:
            return "That item is sold out."
        return None


@dataclass(frozen=True)
class Holding:
    """What one member holds of one item."""

    item_id: int
    bought: int
    quantity: int
    role_until_ms: int | None

    @property
    def role_until(self) -> datetime | None:
        """When a timed role ends."""
        return from_ms(self.role_until_ms) if self.role_until_ms is not None else None


@dataclass(frozen=True)
class Purchase:
    """One purchase (or prize): `status` done (consumable; a badge, awarded in the purchase's
    transaction), granting (a role to give), granted,
    fulfilling (a custom item staff hand over), fulfilled, refunded, undelivered (a prize's role
    that could not be given: staff give it by hand)."""

    key: str
    guild_id: int
    user_id: int
    item_id: int
    price: int
    status: str
    role_id: int | None = None
    until_ms: int | None = None
    replayed: bool = False
    #: A gift's recipient (None: the buyer keeps what they bought).
    recipient_id: int | None = None
    #: What the unit was won in ("raffle #3"); None for a purchase. A prize cost nothing, so
    #: it is never refunded: a role that cannot be given leaves it `undelivered` for staff.
    prize: str | None = None
    #: Kind "badge": the badge's key and the edition number given (None: not numbered).
    target: str | None = None
    serial: int | None = None

    @property
    def holder_id(self) -> int:
        """Who holds the item (and gets its role): the recipient of a gift, else the buyer."""
        return self.recipient_id or self.user_id

    @classmethod
    def of(cls, doc: dict[str, Any], *, replayed: bool = False) -> Purchase:
        """The purchase stored in `doc`."""
        return cls(key=doc["_id"], guild_id=doc["guild_id"], user_id=doc["user_id"],
                   item_id=doc["item_id"], price=doc["price"], status=doc["status"],
                   role_id=doc.get("role_id"), until_ms=doc.get("until_ms"), replayed=replayed,
                   recipient_id=doc.get("recipient_id"), prize=doc.get("prize"),
                   target=doc.get("target"), serial=doc.get("serial"))


@dataclass(frozen=True)
class Quote:
    """What a member is asked to confirm: the price and the item's version travel together."""

    item: Item
    balance: int
    nonce: int
