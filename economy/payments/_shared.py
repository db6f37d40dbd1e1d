"""Internals shared by the payments services: the bot's Stripe connection, the miss of a
guarded write inside a transaction, the admin check, and the record of a payout owed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.payments.stripe_gateway import PaymentsGateway, PaymentsUnavailable
from economy.repos.base import Doc


class Missed(Exception):
    """A guarded checkout write missed inside a transaction (someone else moved it)."""


class StripeLink:
    """The bot's one Stripe connection (one account, many guilds) and the web server's public
    URL, set at start-up and shared by every payments service."""

    def __init__(self) -> None:
        self.gateway: PaymentsGateway | None = None
        self._base_url: Callable[[], str] = lambda: "http://127.0.0.1"

    def configure(self, gateway: PaymentsGateway | None, base_url: Callable[[], str]) -> None:
        """Attach the Stripe gateway (None: not configured) and the web server's public URL.

        Raises: nothing.
        """
        self.gateway = gateway
        self._base_url = base_url

    @property
    def configured(self) -> bool:
        """True when the operator gave Stripe keys.

        Raises: nothing.
        """
        return self.gateway is not None

    def base_url(self) -> str:
        """The web server's public URL (Checkout and onboarding return there).

        Raises: nothing.
        """
        return self._base_url()

    def require(self) -> PaymentsGateway:
        """The gateway.

        Raises: PaymentsUnavailable (the operator has not configured Stripe keys).
        """
        if self.gateway is None:
            raise PaymentsUnavailable(
                "Card payments are not set up on this bot yet (the operator has not configured "
                "Stripe keys). Nothing was charged.")
        return self.gateway


def require_admin(actor: Actor, guild_id: int) -> None:
    """Refuse a member who is not an admin of `guild_id` (payments admin views and packs).

    Raises: NotPermitted (the actor is not an admin of the guild).
    """
    actor.require_admin(guild_id, "Only server admins (Manage Server) or the configured admin "
                                  "role can manage payments.")


def payout_doc(clock: Clock, guild_id: int, payout_id: str, kind: str, amount: int,
               currency: str, *, status: str = "pending", **extra: Any) -> Doc:
    """A new `pay_payouts` record (refund / transfer / manual) owed now.

    Raises: nothing.
    """
    return {"guild_id": guild_id, "payout_id": payout_id, "kind": kind, "amount": amount,
            "currency": currency, "status": status, "attempts": 0,
            "created_ms": to_ms(clock.now()), "stripe_id": None, **extra}


def int_or_none(value: Any) -> int | None:
    """`value` as an int (Stripe metadata is text), None when it is not one.

    Raises: nothing.
    """
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def listing_buyer(checkout: Doc) -> int | None:
    """Whom to tell that a reservation ended (listings only; an unpaid pack needs no notice).

    Raises: nothing.
    """
    return checkout["buyer_id"] if checkout["kind"] == "listing" else None
