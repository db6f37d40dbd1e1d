"""/stats: a member's own GEMS over time, and the economy, engagement and marketplace for staff
(the service checks the Actor). Thin: parse, call the service, render."""

from __future__ import annotations

import io
import logging

import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, admin_group, member_group, moderator_only
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, services_of
from cogs._shared.notify import post_to_moderators
from economy.insights.models import Flag, StatsReport

log = logging.getLogger(__name__)

Days = app_commands.Range[int, 1, 90]


def report_embed(report: StatsReport) -> discord.Embed:
    """The key numbers beside the chart."""
    days = f"{report.days} day" + ("" if report.days == 1 else "s")
    embed = discord.Embed(title=f"{report.title} — last {days}", colour=0x40C4FF)
    for name, value in report.numbers:
        embed.add_field(name=name, value=value, inline=True)
    embed.set_image(url="attachment://chart.png")
    embed.set_footer(text=f"Chart and {report.filename} attached")
    return embed


class InsightsCog(FeatureCog):
    """/stats me, /stats-admin (moderators) and the rollup sweep."""

    stats = member_group("stats", "Charts and numbers of your GEMS")
    stats_admin = admin_group("stats-admin", "The server's economy in charts (moderators)",
                              moderators=True)

    async def _send(self, interaction: discord.Interaction, report: StatsReport) -> None:
        files = [discord.File(io.BytesIO(report.png), filename="chart.png"),
                 discord.File(io.BytesIO(report.csv.encode()), filename=report.filename)]
        await interaction.followup.send(embed=report_embed(report), files=files,
                                        ephemeral=True, allowed_mentions=NO_PINGS)

    @stats.command(name="me", description="Your own GEMS earned and spent over time")
    @app_commands.describe(days="How many days back (1-90, default 30)")
    async def me(self, interaction: discord.Interaction, days: Days = 30):
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await services_of(interaction).insights.my_stats(
            guild_id_of(interaction), interaction.user.id, days)
        await self._send(interaction, report)

    async def _staff(self, interaction: discord.Interaction, view: str, days: int) -> None:
        actor = await actor_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await services_of(interaction).insights.staff_stats(
            guild_id_of(interaction), actor, view, days)
        await self._send(interaction, report)

    @stats_admin.command(name="economy",
                   description="Moderators: supply, minted, burned, velocity and Gini, day by day")
    @moderator_only
    @app_commands.describe(days="How many days back (1-90, default 30)")
    async def economy(self, interaction: discord.Interaction, days: Days = 30):
        await self._staff(interaction, "economy", days)

    @stats_admin.command(name="engagement",
                   description="Moderators: daily and weekly active members, newcomers, activity")
    @moderator_only
    @app_commands.describe(days="How many days back (1-90, default 30)")
    async def engagement(self, interaction: discord.Interaction, days: Days = 30):
        await self._staff(interaction, "engagement", days)

    @stats_admin.command(name="marketplace",
                   description="Moderators: listings, sales, volume and disputes, day by day")
    @moderator_only
    @app_commands.describe(days="How many days back (1-90, default 30)")
    async def marketplace(self, interaction: discord.Interaction, days: Days = 30):
        await self._staff(interaction, "marketplace", days)

    # --- the job ---------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Roll up the days that ended, then hand each new flag to the guild's process."""
        insights = self.services.insights
        guilds = await insights.guilds()
        done = await insights.run_due(guilds)
        for guild_id in guilds:
            for flag in await insights.pending_flags(guild_id):
                await self.bot.guild_work.hand_over("insights-flag", guild_id, flag,
                                                    key=flag.flag_id)
        return done

    async def post_flag(self, flag: Flag) -> None:
        """Post one flag in the moderators' queue, at most once (claimed first), without pings."""
        if not await self.services.insights.claim_flag(flag):
            return
        await post_to_moderators(self.bot, flag.guild_id, f"📈 Insights flag: {flag.text}")
