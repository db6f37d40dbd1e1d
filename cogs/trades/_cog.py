"""/trades (members) and /trades-admin (disputes for moderators, export for admins). Thin: parse, call the escrow service, render."""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands

from cogs._shared.feature_cog import (
    FeatureCog,
    admin_group,
    admin_only,
    member_group,
    moderator_only,
    settings_of,
)
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.outlets import outlet_of
from cogs.trades._render import amount_text, profile_embed, trade_embed, trade_list_embed
from cogs.trades._views import offer_view
from economy.core.errors import InvalidInput
from economy.core.settings import MAX_AMOUNT

MAX_EVIDENCE_BYTES = 8 * 1024 * 1024


class TradesCog(FeatureCog):
    """Direct offers, trade history, ratings, disputes by members, CSV export."""

    trades = member_group("trades", "Escrow trades")

    @trades.command(name="offer", description="Offer to sell something to a member, paid through escrow")
    @app_commands.describe(member="Who would buy", price="Price in GEMS", description="What you sell")
    async def offer(self, interaction: discord.Interaction, member: discord.Member,
                    price: app_commands.Range[int, 1, MAX_AMOUNT],
                    description: app_commands.Range[str, 3, 200]):
        if member.bot:
            raise InvalidInput("Bots don't trade. Pick a member instead.")
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        trade = await services.trades.offer(guild_id, interaction.user.id, member.id, price, description)
        settings = await services.settings.get(guild_id)
        await reply(interaction, f"{member.mention}, {interaction.user.mention} offers you "
                    f"**{safe_text(description)}** for {settings.money(price)}. Your GEMS would be "
                    "held by the bot until you confirm delivery.",
                    embed=trade_embed(trade, settings), view=offer_view(trade))
        await outlet_of(interaction.client, "trades").dm(
            guild_id, member.id,
            f"🕊️ {safe_text(interaction.user.display_name, limit=64)} offered you a trade (#{trade.trade_id}) "
            f"for {settings.money(price)}: accept or decline it in {interaction.channel.mention}.")

    @trades.command(name="list", description="Your trades")
    @app_commands.describe(which="Which of your trades: active (default), completed, disputed or all")
    async def list_(self, interaction: discord.Interaction,
                    which: Literal["active", "completed", "disputed", "all"] = "active"):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        found = await services.trades.for_member(guild_id, interaction.user.id, which)
        settings = await services.settings.get(guild_id)
        await reply(interaction, embed=trade_list_embed(
            "All your trades" if which == "all" else f"Your {which} trades", found, settings),
                    ephemeral=True)

    @trades.command(name="view", description="One trade with its full timeline")
    @app_commands.describe(trade_id="The trade number, like 12 (see /trades list)")
    async def view(self, interaction: discord.Interaction, trade_id: app_commands.Range[int, 1]):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        trade = await services.trades.get(guild_id, trade_id, await actor_of(interaction))
        await reply(interaction, embed=trade_embed(trade, settings), ephemeral=True)

    @trades.command(name="rate", description="Rate the other side of a completed trade")
    @app_commands.describe(trade_id="The completed trade's number", stars="1 to 5",
                           review="Optional short review")
    async def rate(self, interaction: discord.Interaction, trade_id: app_commands.Range[int, 1],
                   stars: app_commands.Range[int, 1, 5],
                   review: app_commands.Range[str, 1, 300] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await services.ratings.rate(guild_id, trade_id, interaction.user.id, stars, review)
        await reply(interaction, f"Thanks! You rated trade #{trade_id} {'★' * stars}.", ephemeral=True)

    @trades.command(name="profile", description="A member's trading reputation")
    @app_commands.describe(member="Whose reputation to show (default: yours)")
    async def profile(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        target = member or interaction.user
        summary = await services.ratings.summary(guild_id, target.id)
        recent = await services.ratings.recent_reviews(guild_id, target.id)
        await reply(interaction, embed=profile_embed(safe_text(target.display_name, limit=64),
                                                     summary, recent), ephemeral=True)

    @trades.command(name="dispute", description="Ask a moderator to decide a trade (with evidence)")
    @app_commands.describe(trade_id="The trade's number", reason="What went wrong",
                           evidence="A screenshot or photo (optional)")
    async def dispute(self, interaction: discord.Interaction, trade_id: app_commands.Range[int, 1],
                      reason: app_commands.Range[str, 5, 500],
                      evidence: discord.Attachment | None = None):
        if evidence is not None and evidence.size > MAX_EVIDENCE_BYTES:
            raise InvalidInput("Evidence files can be at most 8 MB.")
        await outlet_of(self.bot, "trades").dispute(interaction, trade_id, reason,
                                                    [evidence] if evidence else [])


class TradesAdminCog(FeatureCog):
    """Staff tools: moderators list, inspect and resolve disputes; admins export every trade."""

    admin = admin_group("trades-admin", "Trade disputes (moderators) and export (admins)",
                        moderators=True)
    dispute = app_commands.Group(name="dispute", description="Trade disputes (moderators)",
                                 parent=admin)

    @dispute.command(name="list", description="Open (or resolved) disputes")
    @moderator_only
    @app_commands.describe(status="open (default) or resolved")
    async def list_(self, interaction: discord.Interaction,
                    status: Literal["open", "resolved"] = "open"):
        settings = await settings_of(interaction)
        found = await services_of(interaction).disputes.find(guild_id_of(interaction),
                                                            await actor_of(interaction), status)
        await reply(interaction, embed=trade_list_embed(f"{status.title()} disputes", found, settings),
                    ephemeral=True)

    @dispute.command(name="view", description="A dispute: timeline, reason, evidence, thread")
    @moderator_only
    @app_commands.describe(trade_id="The disputed trade's number")
    async def view(self, interaction: discord.Interaction, trade_id: app_commands.Range[int, 1]):
        settings = await settings_of(interaction)
        trade = await services_of(interaction).disputes.view(guild_id_of(interaction),
                                                            await actor_of(interaction), trade_id)
        embed = trade_embed(trade, settings)
        evidence = (trade.dispute or {}).get("evidence") or []
        if evidence:
            embed.add_field(name="Evidence", value="\n".join(
                f"[{safe_text(e['filename'], limit=60)}]({e['url']})" for e in evidence), inline=False)
        if trade.thread_id:
            embed.add_field(name="Trade room", value=f"<#{trade.thread_id}>", inline=False)
        await reply(interaction, embed=embed, ephemeral=True)

    @dispute.command(name="resolve", description="Settle a dispute: refund, release or split")
    @moderator_only
    @app_commands.describe(trade_id="The disputed trade's number",
                           outcome="refund the buyer, release to the seller, or split",
                           percent="For split: the seller's share in percent (0-100)",
                           note="Explanation for both sides (recorded)")
    async def resolve(self, interaction: discord.Interaction, trade_id: app_commands.Range[int, 1],
                      outcome: Literal["refund", "release", "split"],
                      percent: app_commands.Range[int, 0, 100] | None = None,
                      note: app_commands.Range[str, 1, 300] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        result = await services.disputes.resolve(guild_id, trade_id, await actor_of(interaction), outcome,
                                                 percent=percent, note=note)
        res = result.trade.resolution or {}
        t, settings = result.trade, await services.settings.get(guild_id)
        await reply(interaction, f"Resolved trade #{trade_id}: **{outcome}** — seller gets "
                    f"{amount_text(t, settings, res.get('to_seller', 0))} (fee "
                    f"{amount_text(t, settings, res.get('fee', 0))}), buyer gets "
                    f"{amount_text(t, settings, t.price - res.get('to_seller', 0))} back.",
                    ephemeral=True)
        await outlet_of(self.bot, "trades").resolved(result.trade)

    @admin.command(name="export", description="Admin: download every trade of this server as CSV")
    @admin_only
    async def export(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        text = await services.trade_export.to_csv(guild_id, await actor_of(interaction))
        await interaction.response.send_message(
            "Here are all trades of this server.", ephemeral=True, allowed_mentions=NO_PINGS,
            file=discord.File(io.BytesIO(text.encode("utf-8")), filename=f"trades-{guild_id}.csv"))
