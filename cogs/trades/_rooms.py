"""Trade rooms: private threads with the trade card, and every notice a trade sends.

Discord side effects only; the decisions were made by the escrow service before these run.
"""

from __future__ import annotations

import discord

from cogs._shared.interaction import NO_PINGS, guild_id_of, services_of
from cogs._shared.notify import post_to_moderators
from cogs._shared.outlets import Outlet
from cogs.trades._render import amount_text, trade_embed
from cogs.trades._views import card_view
from economy.trades.models import SweepEvent, Trade, TradeResult

SWEEP_NOTES = {
    "auto_release": "⏱️ The buyer did not respond in time, so the held GEMS were released to the seller.",
    "auto_cancel": "⏱️ The seller did not deliver in time, so the trade was cancelled and the buyer refunded.",
    "release_reminder": "⏰ Reminder: the held GEMS go to the seller in 24 hours unless you confirm or open a dispute.",
    "offer_expired": "⌛ This offer expired without an answer.",
}


class TradeRooms(Outlet):
    """Creates trade threads and posts/DMs what happens in a trade."""

    feature = "trades"
    sweep_job = "escrow-sweep"

    async def open(self, trade: Trade, *, fallback: object) -> discord.Thread | None:
        """Open the private thread for a trade, post its card and tell both sides."""
        settings = await self.services.settings.get(trade.guild_id)
        channel = self.room_channel(trade.guild_id, settings.trade_channel_id, fallback=fallback)
        # No thread permission: the card goes in the channel itself.
        room = await self.open_room(
            channel, name=f"Trade #{trade.trade_id} · {trade.title[:60]}",
            members=(trade.buyer_id, trade.seller_id), about=f"trade {trade.trade_id}",
            content=f"Trade room for <@{trade.buyer_id}> (buyer) and <@{trade.seller_id}> "
                    "(seller). Only you two and the moderators can see it.",
            embed=trade_embed(trade, settings), view=card_view(trade), card_in_channel=True)
        await self.services.trades.attach_room(
            trade.guild_id, trade.trade_id, channel_id=channel.id if channel else None,
            thread_id=room.thread.id if room.thread else None,
            card_message_id=room.card.id if room.card else None)
        where = room.where("the server")
        money = trade.money(settings)
        await self.dm(trade.guild_id, trade.seller_id, f"🛒 Trade #{trade.trade_id}: {money} is now held for "
                      f"**{_plain(trade.title)}**. Deliver and mark it delivered in {where}.")
        await self.dm(trade.guild_id, trade.buyer_id, f"🔒 Trade #{trade.trade_id}: your {money} is held until "
                      f"you confirm delivery in {where}.")
        return room.thread

    async def after_action(self, interaction: discord.Interaction, result: TradeResult,
                           note: str) -> None:
        """Refresh the card, answer the clicker, post the note, DM the other side."""
        trade = result.trade
        settings = await self.services.settings.get(trade.guild_id)
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
        # The note is the bot's own text (mentions of the two sides), so it is sent whole.
        await self.dm(trade.guild_id, other, f"Trade #{trade.trade_id} ({_plain(trade.title)}): {note}")
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
        settings = await self.services.settings.get(trade.guild_id)
        note = (f"⚖️ A moderator resolved this dispute: **{res.get('outcome')}**. The seller "
                f"received {amount_text(trade, settings, res.get('to_seller', 0) - res.get('fee', 0))}, "
                f"the buyer got {amount_text(trade, settings, trade.price - res.get('to_seller', 0))} back.")
        await self.refresh_card(trade)
        await self.post(trade, note)
        for user_id in (trade.buyer_id, trade.seller_id):
            await self.dm(trade.guild_id, user_id, f"Trade #{trade.trade_id} ({_plain(trade.title)}): {note}")
        await self.close_room(trade.thread_id, lock=True, about=f"trade {trade.trade_id}")

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

    def register_work(self) -> None:
        """Timer notices are announced by the process that owns the guild's shard."""
        self.work("trade-announce", self.announce, SweepEvent)
        # A dispute resolved on the web dashboard: the room and both sides hear it as from
        # `/trades-admin dispute resolve`.
        self.work("trade-resolved", self.resolved, Trade)

    async def sweep(self) -> int:
        """The scheduled job: apply due timers, then announce what changed."""
        events = await self.services.trades.sweep()
        return await self.hand_over("trade-announce", events, lambda e: e.trade.guild_id)

    # --- low-level notices ------------------------------------------------------------------
    async def refresh_card(self, trade: Trade) -> None:
        """Redraw the trade card in place."""
        settings = await self.services.settings.get(trade.guild_id)
        await self.edit_card(trade.thread_id or trade.channel_id, trade.card_message_id,
                                about=f"trade {trade.trade_id}",
                                embed=trade_embed(trade, settings), view=card_view(trade))

    async def post(self, trade: Trade, text: str) -> None:
        """A message in the trade room."""
        await self.send_to(trade.thread_id or trade.channel_id, text, about=f"trade {trade.trade_id}")

    async def queue(self, trade: Trade, text: str, *, files: list[discord.File] | None = None) -> None:
        """A message in the moderators' queue channel (disputes, flags)."""
        settings = await self.services.settings.get(trade.guild_id)
        await post_to_moderators(self.bot, trade.guild_id, text,
                                 embed=trade_embed(trade, settings), files=files or [])

    async def flag(self, trade: Trade, flags: tuple[str, ...]) -> None:
        """Report abuse signals to the moderators."""
        for text in flags:
            await self.queue(trade, f"🚩 {text}")


def _plain(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))[:80]
