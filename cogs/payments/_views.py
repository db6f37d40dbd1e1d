"""Persistent buttons: pay a USD listing by card, buy a GEMS pack. The quote travels in the id."""

from __future__ import annotations

import re

import discord

from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import NO_PINGS, guild_id_of, services_of
from cogs._shared.ui import SafeButton
from economy.marketplace.models import format_cents, format_usd
from economy.payments.models import CheckoutLink

URL_MAX = 512  # Discord's limit for a link button's URL


def link_answer(link: CheckoutLink, what: str) -> tuple[str, discord.ui.View | None]:
    """The ephemeral answer with the payment link (a link button when it fits)."""
    until = discord.utils.format_dt(link.expires_at, "t")
    text = (f"{'Here is your payment link again' if link.reused else 'Pay here'} for {what} "
            f"({format_cents(link.amount, link.currency)}, by card through Stripe). "
            f"The link works until {until}; after that the reservation ends.")
    if len(link.url) > URL_MAX:
        return f"{text}\n{link.url}", None
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Pay by card", url=link.url))
    return text, view


class PayUsdButton(SafeButton,
                   template=rf"pay:usd:{num('listing')}:{num('cents')}"):
    """On a listing with a USD price: reserve it and hand out a Stripe Checkout link.

    The price on the button is the quote the member accepts by pressing; a listing whose USD
    price changed since the button was drawn is refused and nothing is reserved.
    """

    def __init__(self, listing_id: int, cents: int) -> None:
        super().__init__(discord.ui.Button(
            label=f"Pay {format_usd(cents)}", style=discord.ButtonStyle.primary,
            custom_id=f"pay:usd:{listing_id}:{cents}"))
        self.listing_id, self.cents = listing_id, cents

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> PayUsdButton:
        return cls(parse_id(match["listing"]), parse_id(match["cents"]))

    async def run(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await services_of(interaction).payments.checkout.for_listing(
            guild_id_of(interaction), interaction.user.id, self.listing_id,
            expected_cents=self.cents,
            channel_id=interaction.channel_id)
        text, view = link_answer(link, f"listing #{self.listing_id}")
        kwargs = {"view": view} if view else {}
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS, **kwargs)


class BuyPackButton(SafeButton, template=rf"pay:pack:{num('pack')}:{num('cents')}"):
    """Buy a GEMS pack by card."""

    def __init__(self, pack_id: int, cents: int, label: str) -> None:
        super().__init__(discord.ui.Button(label=label[:80], style=discord.ButtonStyle.primary,
                                           custom_id=f"pay:pack:{pack_id}:{cents}"))
        self.pack_id, self.cents = pack_id, cents

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> BuyPackButton:
        return cls(parse_id(match["pack"]), parse_id(match["cents"]), "Buy")

    async def run(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await services_of(interaction).payments.checkout.for_pack(
            guild_id_of(interaction), interaction.user.id, self.pack_id,
            expected_cents=self.cents)
        text, view = link_answer(link, f"pack #{self.pack_id}")
        kwargs = {"view": view} if view else {}
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS, **kwargs)
