"""Trade rooms: private threads with the trade card, and every notice a trade sends.

Discord side effects only; the decisions were made by the escrow service before these run.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from cogs._shared.interaction import NO_PINGS, guild_id_of, services_of
from cogs._shared.notify import post_to_moderators, resolve_channel, send_dm
from cogs.trades._render import amount_text, trade_embed
from cogs.trades._views import card_view
from economy.trades.models import SweepEvent, Trade, TradeResult

log = logging.getLogger(__name__)

SWEEP_NOTES = {
    "auto_release": "⏱️ The buyer did not respond in time, so the held GEMS were released to the seller.",
    "auto_cancel": "⏱️ The seller did not deliver in time, so the trade was cancelled and the buyer refunded.",
    "release_reminder": "⏰ Reminder: the held GEMS go to the seller in 24 hours unless you confirm or open a dispute.",
    "offer_expired": "⌛ This offer expired without an answer.",
}


class TradeRooms:
    """Creates trade threads and posts/DMs what happens in a trade."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    @property
    def _services(self):
        return self.bot.services

    async def open(self, trade: Trade, *, fallback: Any) -> discord.Thread | None:
        """Open the private thread for a trade, post its card and tell both sides."""
        guild = self.bot.get_guild(trade.guild_id)
        settings = await self._services.settings.get(trade.guild_id)
        channel = (guild.get_channel(settings.trade_channel_id)
                   if guild and settings.trade_channel_id else None) or fallback
        thread: discord.Thread | None = None
        card: discord.Message | None = None
        embed, view = trade_embed(trade, settings), card_view(trade)
        try:
            thread = await channel.create_thread(
                name=f"Trade #{trade.trade_id} · {trade.title[:60]}",
                type=discord.ChannelType.private_thread, invitable=False,
            )
            for user_id in (trade.buyer_id, trade.seller_id):
                await thread.add_user(discord.Object(id=user_id))
            card = await thread.send(
                f"Trade room for <@{trade.buyer_id}> (buyer) and <@{trade.seller_id}> (seller). "
                "Only you two and the moderators can see it.",
                embed=embed, view=view, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            # No thread permission: the card goes in the channel itself.
            log.warning("could not open a trade thread for trade %s", trade.trade_id, exc_info=True)
            card = await channel.send(embed=embed, view=view, allowed_mentions=NO_PINGS)
        await self._services.trades.attach_room(
            trade.guild_id, trade.trade_id, channel_id=channel.id,
            thread_id=thread.id if thread else None, card_message_id=card.id if card else None)
        where = thread.mention if thread else channel.mention
        money = trade.money(settings)
        await self.dm(trade.guild_id, trade.seller_id, f"🛒 Trade #{trade.trade_id}: {money} is now held for "
                      f"**{_plain(trade.title)}**. Deliver and mark it delivered in {where}.")
        await self.dm(trade.guild_id, trade.buyer_id, f"🔒 Trade #{trade.trade_id}: your {money} is held until "
                      f"you confirm delivery in {where}.")
        return thread

    async def after_action(self, interaction: discord.Interaction, result: TradeResult,
                           note: str) -> None:
        """Refresh the card, answer the clicker, post the note, DM the other side."""
        trade = result.trade
        settings = await self._services.settings.get(trade.guild_id)
        on_card = interaction.message is not None and interaction.message.id == trade.card_message_id
        if on_card and not interaction.response.is_done():
            await interaction.response.edit_message(embed=trade_embed(trade, settings),
                                                    view=card_view(trade), allowed_mentions=NO_PINGS)
        else:
            if interaction.response.is_done():
                await interaction.followup.send(note, ephemeral=True, allowed_mentions=NO_PINGS)
            else:
                await interaction.response.send_message(note, ephemeral=True,
                                                        allowed_mentions=NO_PINGS)
            await self.refresh_card(trade)
        await self.post(trade, note)
        other = trade.seller_id if interaction.user.id == trade.buyer_id else trade.buyer_id
        await self.dm(trade.guild_id, other, f"Trade #{trade.trade_id} ({_plain(trade.title)}): {_plain(note)}")
        await self.flag(trade, result.flags)

    async def dispute(self, interaction: discord.Interaction, trade_id: int, reason: str,
                      attachments: list[discord.Attachment]) -> None:
        """Open a dispute and put it in the moderators' queue with its evidence."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        if attachments:
            # Re-uploading evidence can take longer than Discord's 3-second first-response limit.
            await interaction.response.defer(ephemeral=True, thinking=True)
        evidence = [{"filename": a.filename, "url": a.url} for a in attachments]
        result = await services.disputes.open(guild_id, trade_id, interaction.user.id,
                                              reason, evidence)
        files = [await a.to_file() for a in attachments]
        await self.queue(result.trade, f"⚖️ Dispute on trade #{trade_id} opened by "
                         f"<@{interaction.user.id}>. Resolve with `/dispute resolve {trade_id}`.",
                         files=files)
        await self.after_action(interaction, result, f"⚖️ <@{interaction.user.id}> opened a dispute. "
                                f"The {'GEMS stay' if result.trade.currency == 'gems' else 'payment stays'} "
                                "held until a moderator decides.")

    async def resolved(self, trade: Trade) -> None:
        """Announce a resolution to both sides and lock the thread."""
        res = trade.resolution or {}
        settings = await self._services.settings.get(trade.guild_id)
        note = (f"⚖️ A moderator resolved this dispute: **{res.get('outcome')}**. The seller "
                f"received {amount_text(trade, settings, res.get('to_seller', 0) - res.get('fee', 0))}, "
                f"the buyer got {amount_text(trade, settings, trade.price - res.get('to_seller', 0))} back.")
        await self.refresh_card(trade)
        await self.post(trade, note)
        for user_id in (trade.buyer_id, trade.seller_id):
            await self.dm(trade.guild_id, user_id, f"Trade #{trade.trade_id} ({_plain(trade.title)}): {note}")
        thread = await self._channel(trade.thread_id)
        if isinstance(thread, discord.Thread):
            try:
                await thread.edit(locked=True, archived=True)
            except discord.HTTPException:
                log.warning("could not lock the thread of trade %s", trade.trade_id)

    async def announce(self, event: SweepEvent) -> None:
        """Tell the trade room and both sides what a timer did."""
        trade, note = event.trade, SWEEP_NOTES[event.kind]
        if trade.currency != "gems":  # paid by card: the payment is held, not GEMS
            note = note.replace("held GEMS were", "held payment was").replace("held GEMS go",
                                                                           "held payment goes")
        if event.kind != "release_reminder":
            await self.refresh_card(trade)
        await self.post(trade, note)
        targets = ((trade.buyer_id,) if event.kind == "release_reminder"
                   else (trade.buyer_id, trade.seller_id))
        for user_id in targets:
            await self.dm(trade.guild_id, user_id, f"Trade #{trade.trade_id} ({_plain(trade.title)}): {note}")
        await self.flag(trade, event.flags)

    async def sweep(self) -> int:
        """The scheduled job: apply due timers, then announce what changed."""
        events = await self._services.trades.sweep()
        for event in events:
            try:  # announced by the process that owns the guild's shard
                await self.bot.guild_work.hand_over("trade-announce", event.trade.guild_id, event)
            except Exception:
                log.exception("could not announce %s for trade %s", event.kind, event.trade.trade_id)
        return len(events)

    # --- low-level notices ------------------------------------------------------------------
    async def refresh_card(self, trade: Trade) -> None:
        """Redraw the trade card in place."""
        channel = await self._channel(trade.thread_id or trade.channel_id)
        if channel is None or trade.card_message_id is None:
            return
        settings = await self._services.settings.get(trade.guild_id)
        try:
            await channel.get_partial_message(trade.card_message_id).edit(
                embed=trade_embed(trade, settings), view=card_view(trade))
        except discord.HTTPException:
            log.warning("could not refresh the card of trade %s", trade.trade_id)

    async def post(self, trade: Trade, text: str) -> None:
        """A message in the trade room."""
        channel = await self._channel(trade.thread_id or trade.channel_id)
        if channel is not None:
            try:
                await channel.send(text, allowed_mentions=NO_PINGS)
            except discord.HTTPException:
                log.warning("could not post to the room of trade %s", trade.trade_id)

    async def queue(self, trade: Trade, text: str, *, files: list[discord.File] | None = None) -> None:
        """A message in the moderators' queue channel (disputes, flags)."""
        settings = await self._services.settings.get(trade.guild_id)
        await post_to_moderators(self.bot, trade.guild_id, text,
                                 embed=trade_embed(trade, settings), files=files or [])

    async def flag(self, trade: Trade, flags: tuple[str, ...]) -> None:
        """Report abuse signals to the moderators."""
        for text in flags:
            await self.queue(trade, f"🚩 {text}")

    async def dm(self, guild_id: int, user_id: int, text: str) -> None:
        """A direct message; members who closed or turned off their DMs are skipped."""
        await send_dm(self.bot, guild_id, user_id, text)

    async def _channel(self, channel_id: int | None) -> Any:
        return await resolve_channel(self.bot, channel_id)


def _plain(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))[:80]
