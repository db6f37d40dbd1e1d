"""Persistent buttons and modals for trades. Each click checks who may act (in the service)."""

from __future__ import annotations

import re

import discord

from bot.error_handler import handle_interaction_error
from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import NO_PINGS, guild_id_of, services_of
from cogs._shared.outlets import outlet_of
from cogs._shared.ui import GatedModal, RoutedView, SafeButton
from cogs.trades._render import ACTIONS, quote_text, trade_embed
from economy.core.actor import Actor
from economy.trades.models import FINAL_STATUSES, QuoteChanged, Trade


def card_view(trade: Trade) -> discord.ui.View | None:
    """The trade card's buttons (disabled where they don't fit the status; none once final)."""
    if trade.status in FINAL_STATUSES:
        return None
    view = discord.ui.View(timeout=None)
    for action, label, style, statuses in ACTIONS:
        view.add_item(TradeActionButton(trade.trade_id, action, label=label, style=style,
                                        disabled=trade.status not in statuses))
    return view


def offer_view(trade: Trade) -> discord.ui.View:
    """Accept / Decline for a direct offer (Accept carries the price the buyer is shown)."""
    view = discord.ui.View(timeout=None)
    view.add_item(OfferButton(trade.trade_id, "accept", trade.price))
    view.add_item(OfferButton(trade.trade_id, "decline"))
    return view


class BuyButton(SafeButton, template=rf"trade:buy:{num('listing')}"):
    """On a listing: shows the purchase confirmation (nothing is reserved yet)."""

    def __init__(self, listing_id: int) -> None:
        super().__init__(discord.ui.Button(label="Buy", style=discord.ButtonStyle.success,
                                           custom_id=f"trade:buy:{listing_id}"))
        self.listing_id = listing_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> BuyButton:
        return cls(parse_id(match["listing"]))

    async def run(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        quote = await services.trades.purchase_quote(guild_id, interaction.user.id, self.listing_id)
        settings = await services.settings.get(guild_id)
        view = RoutedView()
        view.add_item(ConfirmBuyButton(self.listing_id, quote.price, quote.version))
        await interaction.response.send_message(quote_text(quote, settings), view=view,
                                                ephemeral=True, allowed_mentions=NO_PINGS)


class ConfirmBuyButton(SafeButton,
                       template=rf"trade:buyok:{num('listing')}(?::{num('price')}:{num('version')})?"):
    """Reserves the listing at the quoted price and opens the private trade room.

    The quote (price and listing version) travels in the button, and the reservation is refused
    when the listing no longer matches it. A button from before quotes travelled (no price in
    its id) is refused: the member presses Buy again.
    """

    def __init__(self, listing_id: int, price: int | None, version: int | None) -> None:
        quote = f":{price}:{version}" if price is not None else ""
        super().__init__(discord.ui.Button(label="Confirm purchase", style=discord.ButtonStyle.success,
                                           custom_id=f"trade:buyok:{listing_id}{quote}"))
        self.listing_id, self.price, self.version = listing_id, price, version

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ConfirmBuyButton:
        price = parse_id(match["price"]) if match["price"] else None
        version = parse_id(match["version"]) if match["version"] else None
        return cls(parse_id(match["listing"]), price, version)

    async def run(self, interaction: discord.Interaction) -> None:
        if self.price is None or self.version is None:
            raise QuoteChanged("This confirmation is out of date — press **Buy** again.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        result = await services.trades.buy_listing(
            guild_id, interaction.user.id, self.listing_id, expected_price=self.price,
            expected_version=self.version)
        rooms = outlet_of(interaction.client, "trades")
        thread = await rooms.open(result.trade, fallback=interaction.channel)
        where = thread.mention if thread else "this channel"
        await interaction.followup.send(
            f"Reserved! Your GEMS are held for trade #{result.trade.trade_id}. Talk to the seller "
            f"in {where}; confirm there once the item arrives.", ephemeral=True,
            allowed_mentions=NO_PINGS)


class OfferButton(SafeButton, template=rf"trade:offer:{num('trade')}:(?P<action>accept|decline)(?::{num('price')})?"):
    """Accept or decline a direct trade offer."""

    def __init__(self, trade_id: int, action: str, price: int | None = None) -> None:
        label, style = (("Accept", discord.ButtonStyle.success) if action == "accept"
                        else ("Decline", discord.ButtonStyle.secondary))
        quote = f":{price}" if price is not None else ""
        super().__init__(discord.ui.Button(label=label, style=style,
                                           custom_id=f"trade:offer:{trade_id}:{action}{quote}"))
        self.trade_id, self.action, self.price = trade_id, action, price

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> OfferButton:
        return cls(parse_id(match["trade"]), match["action"],
                   parse_id(match["price"]) if match["price"] else None)

    async def run(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        escrow = services.trades
        if self.action == "decline":
            result = await escrow.decline(guild_id, self.trade_id, interaction.user.id)
            await interaction.response.edit_message(embed=trade_embed(result.trade, settings),
                                                    view=None, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer()
        result = await escrow.accept(guild_id, self.trade_id, interaction.user.id,
                                     expected_price=self.price)
        await interaction.edit_original_response(embed=trade_embed(result.trade, settings), view=None,
                                                 allowed_mentions=NO_PINGS)
        rooms = outlet_of(interaction.client, "trades")
        await rooms.open(result.trade, fallback=interaction.channel)


class TradeActionButton(SafeButton, template=rf"trade:act:{num('trade')}:(?P<action>[a-z]+)"):
    """The trade card's buttons."""

    def __init__(self, trade_id: int, action: str, *, label: str = "…",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, disabled=disabled,
                                           custom_id=f"trade:act:{trade_id}:{action}"))
        self.trade_id, self.action = trade_id, action

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> TradeActionButton:
        return cls(parse_id(match["trade"]), match["action"], label=item.label or "…")

    async def run(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        escrow, user = services.trades, interaction.user.id
        # parties only: the room's buttons act for the buyer or the seller, so the viewer is
        # asked for as a plain member (a moderator's flags would not make them a party)
        trade = await escrow.get(guild_id, self.trade_id, Actor(user))
        if self.action == "deliver":
            escrow.check_can_deliver(trade, user)
            await interaction.response.send_modal(DeliveredModal(self.trade_id))
            return
        if self.action == "dispute":
            await interaction.response.send_modal(DisputeModal(self.trade_id))
            return
        rooms = outlet_of(interaction.client, "trades")
        if self.action == "confirm":
            result = await escrow.confirm(guild_id, self.trade_id, user)
            settings = await services.settings.get(guild_id)
            # In the trade's currency: a card trade pays the seller dollars, not GEMS.
            paid = result.trade.money(settings, result.trade.price - result.trade.fee)
            note = (f"✅ <@{user}> confirmed receipt. The seller received {paid}. "
                    "Rate each other with "
                    f"`/trades rate {self.trade_id}`.")
        elif self.action == "cancel":
            result = await escrow.cancel(guild_id, self.trade_id, user)
            note = f"↩️ <@{user}> cancelled the trade; the buyer was refunded."
        elif self.action == "mutual":
            result = await escrow.vote_mutual_cancel(guild_id, self.trade_id, user)
            note = ("↩️ Both sides agreed to cancel; the buyer was refunded."
                    if result.trade.status == "cancelled"
                    else f"<@{user}> asks to cancel this trade. The other side can press "
                         "**Mutual cancel** too to agree.")
        else:
            raise ValueError(f"unknown trade action {self.action!r}")
        await rooms.after_action(interaction, result, note)


class DeliveredModal(GatedModal, title="Mark as delivered"):
    """Optional tracking note when the seller marks delivery."""

    tracking = discord.ui.TextInput(label="Tracking number or note (optional)", required=False,
                                    max_length=300)

    def __init__(self, trade_id: int) -> None:
        super().__init__(timeout=None, custom_id=f"trade:delivered:{trade_id}")
        self.trade_id = trade_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        result = await services.trades.mark_delivered(
            guild_id, self.trade_id, interaction.user.id, self.tracking.value or None)
        rooms = outlet_of(interaction.client, "trades")
        await rooms.after_action(interaction, result, f"📦 <@{interaction.user.id}> marked the item "
                                 "as delivered. Buyer: press **Confirm received** when it arrives.")

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="trade:delivered")


class DisputeModal(GatedModal, title="Open a dispute"):
    """The reason for a dispute (evidence files: `/trades dispute` with attachments)."""

    reason = discord.ui.TextInput(label="What went wrong?", style=discord.TextStyle.paragraph,
                                  min_length=5, max_length=500)

    def __init__(self, trade_id: int) -> None:
        super().__init__(timeout=None, custom_id=f"trade:dispute:{trade_id}")
        self.trade_id = trade_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        rooms = outlet_of(interaction.client, "trades")
        await rooms.dispute(interaction, self.trade_id, self.reason.value, [])

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="trade:dispute")
