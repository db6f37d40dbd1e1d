"""The GEMS packs a guild sells by card (the catalog admins keep). Buying one is a Checkout
(economy/payments/checkout.py); its mint happens when the payment arrives (settlement.py)."""

from __future__ import annotations

from economy.core.actor import Actor
from economy.core.clock import Clock
from economy.core.errors import NotFound
from economy.core.ledger import check_amount
from economy.core.settings import SettingsService
from economy.payments._shared import require_admin
from economy.payments.currencies import parse_amount
from economy.payments.repo import PaymentRepo
from economy.repos.base import Doc

MAX_PACK_GEMS = 1_000_000_000


class PackService:
    """Adds, retires and lists a guild's GEMS packs."""

    def __init__(self, repo: PaymentRepo, settings: SettingsService, clock: Clock) -> None:
        self._repo = repo
        self._settings = settings
        self._clock = clock

    async def add(self, guild_id: int, actor: Actor, gems: int, price: str) -> Doc:
        """Admins: sell `gems` for `price` (like 4.99, or 500 in JPY) in the guild's payment
        currency; stored in that currency's minor unit as Stripe counts it.

        Raises: NotPermitted (not an admin); InvalidAmount (gems out of range); InvalidInput
        (a price Stripe would refuse in that currency: format, minimum, granularity).
        """
        require_admin(actor, guild_id)
        actor_id = actor.user_id
        settings = await self._settings.get(guild_id)
        gems = check_amount(gems, limit=MAX_PACK_GEMS)
        cents = parse_amount(price, settings.payments_currency)  # minimum and granularity too
        pack_id = await self._repo.next_number(guild_id, "packs")
        doc = {"guild_id": guild_id, "pack_id": pack_id, "gems": gems, "cents": cents,
               "currency": settings.payments_currency, "active": True,
               "created_by": actor_id, "created_at": self._clock.now()}
        await self._repo.insert_pack(doc)
        return doc

    async def remove(self, guild_id: int, actor: Actor, pack_id: int) -> None:
        """Admins: stop selling a pack.

        Raises: NotPermitted (not an admin); NotFound (no such pack on sale).
        """
        require_admin(actor, guild_id)
        if not await self._repo.retire_pack(guild_id, pack_id):
            raise NotFound(f"There is no pack #{pack_id} on sale.")

    async def on_sale(self, guild_id: int) -> list[Doc]:
        """Packs on sale.

        Raises: nothing.
        """
        return await self._repo.packs_for(guild_id)
