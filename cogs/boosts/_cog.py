"""/boost-admin commands (admins) and the boost announcement sweep. Thin: parse, call, render."""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands

from bot.render.boost_chart import render_boost_chart
from cogs._shared.feature_cog import FeatureCog, admin_group, admin_only, settings_of
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, reply, services_of
from cogs._shared.notify import resolve_channel
from cogs._shared.time_option import EndOrDuration, When, member_zone
from cogs.boosts._render import list_embed, notice_text, scheduled_text, stats_text
from economy.boosts.service import BoostNotice, format_factor

log = logging.getLogger(__name__)


class BoostsCog(FeatureCog):
    """Schedule, list, cancel and measure earning boosts; announce their start and end."""

    boost = admin_group("boost-admin", "Earning boosts and double-GEMS windows (admins)")

    @boost.command(name="schedule", description="Admin: schedule a boost window")
    @admin_only
    @app_commands.describe(
        factor="Multiplier from 1.1 to 10, e.g. 2 for double GEMS",
        start="Start in your time zone: `now`, `tomorrow 18:00`, `friday 9pm`, `2026-12-24 19:00`",
        end="End: a duration after the start (`48h`, `3d`) or a time (`sunday 23:59`)",
        reason="Shown in the announcement, e.g. Launch party")
    async def schedule(
        self, interaction: discord.Interaction, factor: app_commands.Range[str, 1, 12],
        start: When, end: EndOrDuration,
        reason: app_commands.Range[str, 1, 100] | None = None,
    ):
        result = await services_of(interaction).boosts.schedule(
            guild_id_of(interaction), await actor_of(interaction), factor=factor, start=start, end=end,
            reason=reason, zone=await member_zone(interaction))
        await reply(interaction, scheduled_text(result), ephemeral=True)
        await self.sweep()  # a boost starting now is announced at once

    @boost.command(name="list", description="Admin: active and upcoming boosts")
    @admin_only
    async def list_(self, interaction: discord.Interaction):
        settings = await settings_of(interaction)
        windows = await services_of(interaction).boosts.upcoming(guild_id_of(interaction))
        await reply(interaction, embed=list_embed(windows, settings), ephemeral=True)

    @boost.command(name="cancel", description="Admin: cancel a boost that has not ended")
    @admin_only
    @app_commands.describe(boost="The boost id from /boost-admin list, e.g. b3")
    async def cancel(self, interaction: discord.Interaction,
                     boost: app_commands.Range[str, 1, 20]):
        window = await services_of(interaction).boosts.cancel(
            guild_id_of(interaction), await actor_of(interaction), boost)
        await reply(interaction, f"Cancelled boost `{window.boost_id}`.", ephemeral=True)
        await self.sweep()

    @boost.command(name="stats", description="Admin: GEMS earned during a boost vs a week before")
    @admin_only
    @app_commands.describe(boost="The boost id, e.g. b3 (or wk-20260109 for a weekend)")
    async def stats(self, interaction: discord.Interaction,
                    boost: app_commands.Range[str, 1, 20]):
        settings = await settings_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        figures = await services_of(interaction).boosts.stats(guild_id_of(interaction), boost)
        text, sources, before, during = stats_text(figures, settings)
        png = await asyncio.to_thread(render_boost_chart, sources, before, during,
                                      title=f"Boost {figures.window.boost_id}: GEMS earned")
        await interaction.followup.send(
            text, file=discord.File(io.BytesIO(png), filename="boost-stats.png"), ephemeral=True,
            allowed_mentions=NO_PINGS)

    @cancel.autocomplete("boost")
    @stats.autocomplete("boost")
    async def _boost_choices(self, interaction: discord.Interaction, current: str):
        windows = await services_of(interaction).boosts.upcoming(guild_id_of(interaction))
        needle = current.lower()
        return [app_commands.Choice(name=f"{w.boost_id} {format_factor(w.factor_bps)} {w.reason}"[:100],
                                    value=w.boost_id)
                for w in windows if needle in w.boost_id or needle in w.reason.lower()][:25]

    # --- the announcement job ---------------------------------------------------------------
    async def sweep(self) -> int:
        """Post each boost start/end this process won the right to announce (job body)."""
        notices = await self.bot.services.boosts.sweep()
        for notice in notices:
            try:
                # Posted by the process that owns the guild's shard (here when it is ours).
                await self.bot.guild_work.hand_over(
                    "boost-announce", notice.guild_id, notice,
                    key=f"{notice.guild_id}:{notice.window.boost_id}:{notice.kind}")
            except Exception:
                log.exception("could not announce boost %s", notice.window.boost_id)
        return len(notices)

    async def announce(self, notice: BoostNotice) -> None:
        """Guild work `boost-announce`: post a start or end (on the guild's own process)."""
        await self._announce(notice)

    async def _announce(self, notice: BoostNotice) -> None:
        settings = await self.bot.services.settings.get(notice.guild_id)
        channel_id = settings.announcements_channel_id
        if channel_id is None:
            return
        channel = await resolve_channel(self.bot, channel_id)
        if channel is None:
            log.info("announcements channel %s of guild %s is gone", channel_id, notice.guild_id)
            return
        await channel.send(notice_text(notice, settings), allowed_mentions=NO_PINGS)
