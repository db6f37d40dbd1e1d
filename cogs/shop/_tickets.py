"""Staff tickets of custom items: a post in the moderators' queue with Fulfil (and, for a
purchase, Refund) buttons. Posting is claimed once per purchase (a guarded flag); a post that
could not be made (no queue channel) is handed back and tried again by the shop's sweep, so a
ticket is never silently lost."""

from __future__ import annotations

import logging
import re

import discord

from cogs._shared.custom_ids import num
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, safe_text, services_of
from cogs._shared.notify import post_to_moderators, send_dm
from cogs._shared.ui import RoutedView, SafeButton
from economy.shop.models import Purchase

log = logging.getLogger(__name__)
#: A purchase key inside a custom id (`shop:1:5:42`, `shopgift:1:5:6:42`,
#: `prize:raffle:<guild>:3:0`): its kind and three or four canonical numbers (one spelling each).
KEY = (rf"(?P<head>shop|shopgift|prize:raffle):{num('a')}:{num('b')}:{num('c')}"
       rf"(?::{num('d')})?")


def _key(match: re.Match[str]) -> str:
    """The purchase key a ticket button's custom id carries."""
    return ":".join(part for part in (match["head"], match["a"], match["b"], match["c"],
                                      match["d"]) if part is not None)


async def post_ticket(bot, guild_id: int, purchase: Purchase) -> bool:
    """Post the staff ticket of a custom item once; False when it could not be posted now."""
    shop = bot.services.shop
    if not await shop.claim_ticket(guild_id, purchase.key):
        return True  # posted by another run
    item = await shop.item(guild_id, purchase.item_id)
    settings = await bot.services.settings.get(guild_id)
    if purchase.prize:
        how = f"won in {purchase.prize}"
    elif purchase.recipient_id:
        how = f"a gift from <@{purchase.user_id}> ({settings.money(purchase.price)})"
    else:
        how = f"bought for {settings.money(purchase.price)}"
    desc = f"\n> {safe_text(item.description, limit=200)}" if item.description else ""
    text = (f"🎫 Shop ticket: hand **#{item.item_id} {safe_text(item.name, limit=60)}** to "
            f"<@{purchase.holder_id}> ({how}), then press **Fulfil**"
            f"{'' if purchase.prize else ', or **Refund** instead'}.{desc}")
    view = RoutedView()
    view.add_item(TicketFulfilButton(purchase.key))
    if not purchase.prize:
        view.add_item(TicketRefundButton(purchase.key))
    if await post_to_moderators(bot, guild_id, text, view=view):
        return True
    await shop.claim_ticket(guild_id, purchase.key, posted=False)
    log.warning("shop ticket %s of guild %s could not be posted (set dispute_channel_id or "
                "the listing queue); the shop's sweep tries again", purchase.key, guild_id)
    return False


async def _settled(interaction: discord.Interaction, line: str) -> None:
    """The ticket shows who settled it and loses its buttons."""
    content = (interaction.message.content if interaction.message else "") or ""
    await interaction.response.edit_message(content=f"{content}\n{line}"[:2000], view=None,
                                            allowed_mentions=NO_PINGS)


class TicketFulfilButton(SafeButton, template=rf"shop:ful:{KEY}"):
    """A moderator handed the item over (once; members are refused)."""

    def __init__(self, key: str) -> None:
        super().__init__(discord.ui.Button(label="Fulfil", style=discord.ButtonStyle.success,
                                           custom_id=f"shop:ful:{key}"))
        self.key = key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> TicketFulfilButton:
        return cls(_key(match))

    async def run(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        done = await services.shop.fulfil(guild_id, await actor_of(interaction), self.key)
        await _settled(interaction, f"✅ Fulfilled by {interaction.user.mention}.")
        item = await services.shop.item(guild_id, done.item_id)
        where = safe_text(interaction.guild.name, limit=100) if interaction.guild else "the server"
        await send_dm(interaction.client, guild_id, done.holder_id,
                      f"✅ Staff of {where} handed you **{safe_text(item.name, limit=60)}**.")


class TicketRefundButton(SafeButton, template=rf"shop:rfd:{KEY}"):
    """A moderator refunds the custom item instead (once; GEMS back to whoever paid)."""

    def __init__(self, key: str) -> None:
        super().__init__(discord.ui.Button(label="Refund", style=discord.ButtonStyle.danger,
                                           custom_id=f"shop:rfd:{key}"))
        self.key = key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> TicketRefundButton:
        return cls(_key(match))

    async def run(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        done = await services.shop.refund_ticket(guild_id, await actor_of(interaction), self.key)
        settings = await services.settings.get(guild_id)
        await _settled(interaction, f"↩️ Refunded by {interaction.user.mention}: "
                                    f"{settings.money(done.price)} back to <@{done.user_id}>.")
        item = await services.shop.item(guild_id, done.item_id)
        where = safe_text(interaction.guild.name, limit=100) if interaction.guild else "the server"
        await send_dm(interaction.client, guild_id, done.user_id,
                      f"↩️ Staff of {where} could not hand over **{safe_text(item.name, limit=60)}**"
                      f": your {settings.money(done.price)} are back in your wallet.")
