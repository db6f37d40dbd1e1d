"""The shop's persistent buttons: catalogue pages, Buy (a quote) and Confirm (the purchase).

Confirm carries the quote (price, item version) and a nonce: a double click is one purchase
(the nonce makes the idempotency key), a changed item is refused, a forged id parses to -1 or
buys nothing the member was not quoted."""

from __future__ import annotations

import re

import discord

from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import NO_PINGS, guild_id_of, safe_text, services_of
from cogs._shared.notify import send_dm
from cogs._shared.paging import PageButton
from cogs._shared.ui import RoutedView, SafeButton
from cogs.shop._roles import deliver
from cogs.shop._tickets import TicketFulfilButton, TicketRefundButton, post_ticket
from economy.core.clock import unix_seconds
from economy.core.errors import InvalidInput
from economy.core.models import Page
from economy.core.settings import GuildSettings
from economy.shop.models import Item, Purchase, Quote, QuoteChanged


def item_line(item: Item, settings: GuildSettings) -> str:
    """One catalogue line: number, name, price, stock, what you get."""
    stock = "unlimited" if item.stock is None else f"{item.stock:,} left"
    extra = []
    if item.per_member_limit:
        extra.append(f"max {item.per_member_limit} each")
    if item.required_role_id:
        extra.append(f"needs <@&{item.required_role_id}>")
    if item.from_ms:
        extra.append(f"from <t:{unix_seconds(item.from_ms)}:f>")
    if item.until_ms:
        extra.append(f"until <t:{unix_seconds(item.until_ms)}:f>")
    desc = f"\n  {safe_text(item.description, limit=200)}" if item.description else ""
    more = f" · {' · '.join(extra)}" if extra else ""
    return (f"**#{item.item_id} {safe_text(item.name, limit=60)}** — {settings.money(item.price)}"
            f" · {stock}{more}\n  You get: {item.what_you_get()}{desc}")


async def catalogue_page(interaction: discord.Interaction, page: int) -> tuple[
        discord.Embed, Page]:
    """The catalogue embed of `page`."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    found = await services.shop.catalogue(guild_id, page)
    settings = await services.settings.get(guild_id)
    lines = [item_line(item, settings) for item in found.rows]
    embed = discord.Embed(title="🛒 Shop", description="\n".join(lines) or
                          "The shop is empty for now.")
    embed.set_footer(text=f"Page {found.page}/{found.pages} · press Buy to see the price to "
                          "confirm")
    return embed, found


def catalogue_view(owner: int, found: Page) -> discord.ui.View | None:
    """Buy buttons for the page's items, then Prev/Next."""
    view = RoutedView()
    for item in found.rows:
        view.add_item(ShopBuyButton(item.item_id))
    if found.pages > 1:
        view.add_item(ShopPageButton(owner, max(1, found.page - 1), "prev",
                                     disabled=found.page <= 1))
        view.add_item(ShopPageButton(owner, min(found.pages, found.page + 1), "next",
                                     disabled=found.page >= found.pages))
    return view if view.children else None


class ShopPageButton(PageButton,
                     template=rf"shop:page:{num('owner')}:{num('page')}:(?P<direction>prev|next)"):
    """Pages the catalogue (anyone may page it)."""

    prefix = "shop:page"

    async def run(self, interaction: discord.Interaction) -> None:
        embed, found = await catalogue_page(interaction, self.page)
        await interaction.response.edit_message(embed=embed, view=catalogue_view(0, found),
                                                allowed_mentions=NO_PINGS)


def badge_note(purchase: Purchase, whose: str = "your") -> str:
    """Where a badge item went (it was awarded with the payment)."""
    edition = f" (edition #{purchase.serial})" if purchase.serial is not None else ""
    return f"The badge is on {whose} profile{edition}: `/profile badges`."


def quote_text(quote: Quote, settings: GuildSettings) -> str:
    """What the member is asked to confirm."""
    item = quote.item
    return (f"Buy **{safe_text(item.name, limit=60)}** for {settings.money(item.price)}?\n"
            f"You get: {item.what_you_get()}.\nYour balance: {settings.money(quote.balance)}.")


async def send_quote(interaction: discord.Interaction, item_id: int) -> None:
    """Answer with the price to confirm and a Confirm button carrying it."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    roles = frozenset(r.id for r in getattr(interaction.user, "roles", ()))
    quote = await services.shop.quote(guild_id, interaction.user.id, item_id, roles)
    settings = await services.settings.get(guild_id)
    view = RoutedView()
    view.add_item(ShopConfirmButton(item_id, quote.item.price, quote.item.version, quote.nonce))
    await interaction.response.send_message(quote_text(quote, settings), view=view,
                                            ephemeral=True, allowed_mentions=NO_PINGS)


class ShopBuyButton(SafeButton, template=rf"shop:buy:{num('item')}"):
    """On the catalogue: shows the quote (nothing is charged yet)."""

    def __init__(self, item_id: int) -> None:
        super().__init__(discord.ui.Button(label=f"Buy #{item_id}",
                                           style=discord.ButtonStyle.success,
                                           custom_id=f"shop:buy:{item_id}"))
        self.item_id = item_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ShopBuyButton:
        return cls(parse_id(match["item"]))

    async def run(self, interaction: discord.Interaction) -> None:
        await send_quote(interaction, self.item_id)


class ShopConfirmButton(SafeButton, template=(rf"shop:ok:{num('item')}:{num('price')}:"
                                             rf"{num('version')}:{num('nonce')}")):
    """Buys at the quoted price and version; a role is given right after the purchase."""

    def __init__(self, item_id: int, price: int, version: int, nonce: int) -> None:
        super().__init__(discord.ui.Button(
            label="Confirm purchase", style=discord.ButtonStyle.success,
            custom_id=f"shop:ok:{item_id}:{price}:{version}:{nonce}"))
        self.item_id, self.price, self.version, self.nonce = item_id, price, version, nonce

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ShopConfirmButton:
        return cls(parse_id(match["item"]), parse_id(match["price"]),
                   parse_id(match["version"]), parse_id(match["nonce"]))

    async def run(self, interaction: discord.Interaction) -> None:
        if min(self.item_id, self.price, self.version, self.nonce) < 0:
            raise QuoteChanged("This confirmation is not valid — press **Buy** again.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        roles = frozenset(r.id for r in getattr(interaction.user, "roles", ()))
        purchase = await services.shop.buy(guild_id, interaction.user.id, self.item_id,
                                           expected_price=self.price,
                                           expected_version=self.version, nonce=self.nonce,
                                           role_ids=roles)
        settings = await services.settings.get(guild_id)
        if purchase.replayed:
            text = "You already confirmed this purchase: it went through once."
        elif purchase.status == "fulfilling":
            posted = await post_ticket(interaction.client, guild_id, purchase)
            text = (f"Bought for {settings.money(purchase.price)}! Staff hand this one over "
                    f"themselves: {'they have' if posted else 'they will get'} a ticket for "
                    "it, and you get a DM when it's done.")
        elif purchase.target is not None:
            text = (f"Bought for {settings.money(purchase.price)}! {badge_note(purchase)}")
        elif purchase.role_id is None:
            text = (f"Bought for {settings.money(purchase.price)}! It is in your inventory: "
                    "`/shop inventory`, then `/shop use`.")
        else:
            problem = await deliver(interaction.client, interaction.guild, purchase)
            if problem is None:
                until = (f" until <t:{unix_seconds(purchase.until_ms)}:f>" if purchase.until_ms
                         else "")
                text = (f"Bought for {settings.money(purchase.price)}: you now have "
                        f"<@&{purchase.role_id}>{until}.")
            else:
                text = (f"The role could not be given ({problem}), so your "
                        f"{settings.money(purchase.price)} were refunded. Staff can fix it.")
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def send_gift_quote(interaction: discord.Interaction, item_id: int,
                          member: discord.Member) -> None:
    """Answer with the price of a gift to confirm and a Confirm button carrying it."""
    if member.bot:
        raise InvalidInput("Bots don't hold items. Pick a member instead.")
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    roles = frozenset(r.id for r in member.roles)
    quote = await services.shop.quote(guild_id, interaction.user.id, item_id, roles,
                                      recipient_id=member.id)
    settings = await services.settings.get(guild_id)
    view = RoutedView()
    view.add_item(ShopGiftButton(item_id, member.id, quote.item.price, quote.item.version,
                                 quote.nonce))
    item = quote.item
    text = (f"Gift **{safe_text(item.name, limit=60)}** to {member.mention} for "
            f"{settings.money(item.price)}?\nThey get: {item.what_you_get()}.\n"
            f"Your balance: {settings.money(quote.balance)}.")
    await interaction.response.send_message(text, view=view, ephemeral=True,
                                            allowed_mentions=NO_PINGS)


class ShopGiftButton(SafeButton, template=(rf"shop:gift:{num('item')}:{num('to')}:"
                                          rf"{num('price')}:{num('version')}:{num('nonce')}")):
    """Pays for a gift at the quoted price and version; the recipient gets the item (a role is
    given right after; if it cannot be, the payer is refunded) and a DM."""

    def __init__(self, item_id: int, recipient_id: int, price: int, version: int,
                 nonce: int) -> None:
        super().__init__(discord.ui.Button(
            label="Confirm gift", style=discord.ButtonStyle.success,
            custom_id=f"shop:gift:{item_id}:{recipient_id}:{price}:{version}:{nonce}"))
        self.item_id, self.recipient_id = item_id, recipient_id
        self.price, self.version, self.nonce = price, version, nonce

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ShopGiftButton:
        return cls(parse_id(match["item"]), parse_id(match["to"]), parse_id(match["price"]),
                   parse_id(match["version"]), parse_id(match["nonce"]))

    async def run(self, interaction: discord.Interaction) -> None:
        if min(self.item_id, self.recipient_id, self.price, self.version, self.nonce) < 0:
            raise QuoteChanged("This confirmation is not valid — press **Gift** again.")
        guild = interaction.guild
        member = guild.get_member(self.recipient_id) if guild else None
        if member is None or member.bot:
            raise InvalidInput("That member is no longer in the server: nothing was charged.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        purchase = await services.shop.buy(
            guild_id, interaction.user.id, self.item_id, expected_price=self.price,
            expected_version=self.version, nonce=self.nonce,
            role_ids=frozenset(r.id for r in member.roles), recipient_id=member.id)
        settings = await services.settings.get(guild_id)
        if purchase.replayed:
            text = "You already confirmed this gift: it went through once."
        else:
            problem = None
            if purchase.role_id is not None:
                problem = await deliver(interaction.client, guild, purchase)
            elif purchase.status == "fulfilling":
                await post_ticket(interaction.client, guild_id, purchase)
            if problem is None:
                text = f"Gift sent: {member.mention} got it for {settings.money(purchase.price)}."
                if purchase.target is not None:
                    text += " " + badge_note(purchase, "their")
                item = await services.shop.item(guild_id, self.item_id)
                await send_dm(interaction.client, guild_id, member.id,
                              f"🎁 {safe_text(interaction.user.display_name, limit=64)} gave you "
                              f"**{safe_text(item.name, limit=60)}** from the shop of "
                              f"{safe_text(guild.name, limit=100)}: {item.what_you_get()}.")
            else:
                text = (f"The role could not be given ({problem}), so your "
                        f"{settings.money(purchase.price)} were refunded. Staff can fix it.")
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


DYNAMIC_ITEMS = (ShopPageButton, ShopBuyButton, ShopConfirmButton, ShopGiftButton,
                 TicketFulfilButton, TicketRefundButton)
