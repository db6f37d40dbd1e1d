"""/season commands and the end-of-season announcement. Thin: parse, call one service, render."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, admin_group, admin_only, member_group
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, reply, services_of
from economy.seasons.service import SeasonNotice, catalog, describe

log = logging.getLogger(__name__)
MEDALS = ("🥇", "🥈", "🥉")


async def season_board(interaction: discord.Interaction, key: str | None = None) -> discord.Embed:
    """The seasonal leaderboard embed (`/season leaderboard`)."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    season, occurrence, rows, running = await services.seasons.leaderboard(guild_id, key)
    embed = discord.Embed(title=f"{season.emoji} {season.name} leaderboard"[:256],
                          colour=discord.Colour.from_str(season.colour))
    embed.description = "\n".join(f"**#{i}** <@{u}> — {e:,}" for i, (u, e) in
                                  enumerate(rows, start=1)) or "Nobody earned yet."
    embed.set_footer(text=f"{occurrence} · {'running' if running else 'ended'}")
    return embed


class SeasonsCog(FeatureCog):
    """Seasons: enable shipped ones, add custom ones, leaderboards and winners."""

    season = member_group("season", "Seasonal celebrations")
    season_admin = admin_group("season-admin", "Seasons (admins)")

    @season_admin.command(name="add", description="Enable a shipped season or add your own")
    @admin_only
    @app_commands.describe(
        name="A shipped season (see /season list) or a new name",
        start="First day every year: `12-24` or `Dec 24` (new seasons only)",
        end="Last day every year: `12-31` or `Dec 31` (new seasons only)",
        emoji="Emoji shown with the season", colour="Accent colour like #FFAA00",
        boost="Earning factor while it runs, 1.1-10 (optional)")
    async def add(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 50],
                  start: app_commands.Range[str, 1, 20] | None = None,
                  end: app_commands.Range[str, 1, 20] | None = None,
                  emoji: app_commands.Range[str, 1, 32] | None = None,
                  colour: app_commands.Range[str, 1, 10] | None = None,
                  boost: app_commands.Range[str, 1, 12] | None = None):
        season = await services_of(interaction).seasons.add(
            guild_id_of(interaction), await actor_of(interaction), name, start=start, end=end,
            emoji=emoji, colour=colour, boost=boost)
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        now = services_of(interaction).clock.now()
        await reply(interaction, "Enabled " + describe(season, settings.zone, now), ephemeral=True)

    @season_admin.command(name="remove", description="Disable a season (past winners stay)")
    @admin_only
    @app_commands.describe(key="The season's key from /season list")
    async def remove(self, interaction: discord.Interaction, key: app_commands.Range[str, 1, 50]):
        await services_of(interaction).seasons.remove(guild_id_of(interaction),
                                                      await actor_of(interaction), key)
        await reply(interaction, f"Disabled the season `{discord.utils.escape_markdown(key)}`.",
                    ephemeral=True)

    @season.command(name="list", description="This server's seasons and the shipped ones")
    async def list_(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        now = services.clock.now()
        enabled = await services.seasons.seasons(guild_id)
        keys = {s.key for s in enabled}
        embed = discord.Embed(title="Seasons", colour=discord.Colour.from_rgb(64, 196, 255))
        embed.add_field(name="Enabled here", inline=False, value="\n".join(
            describe(s, settings.zone, now) for s in enabled)[:1024] or "none yet")
        embed.add_field(name="Shipped (enable with /season-admin add)", inline=False, value="\n".join(
            describe(s, settings.zone, now) for s in catalog().values() if s.key not in keys
        )[:1024] or "all enabled")
        await reply(interaction, embed=embed, ephemeral=True)

    @season.command(name="leaderboard", description="GEMS earned within the season")
    @app_commands.describe(key="A season's key (default: the one running now)")
    async def leaderboard(self, interaction: discord.Interaction,
                          key: app_commands.Range[str, 1, 50] | None = None):
        await reply(interaction, embed=await season_board(interaction, key), ephemeral=True)

    @season.command(name="winners", description="Winners of past seasons")
    async def winners(self, interaction: discord.Interaction):
        results = await services_of(interaction).seasons.winners(guild_id_of(interaction))
        lines = []
        for result in results:
            podium = "  ".join(f"{MEDALS[i]} <@{w['user_id']}> ({w['earned']:,})"
                               for i, w in enumerate(result.get("winners", [])[:3]))
            lines.append(f"{result.get('emoji', '')} **{discord.utils.escape_markdown(result['name'])}**"
                         f" `{result['occurrence']}`: {podium or 'nobody earned'}")
        embed = discord.Embed(title="Season winners", description="\n".join(lines)[:4000]
                              or "No season has ended yet.")
        await reply(interaction, embed=embed, ephemeral=True)

    # --- the sweep job ----------------------------------------------------------------------
    async def sweep(self) -> int:
        """Season boosts, end-of-season winners and prizes; announce each result once."""
        notices = await self.bot.services.seasons.sweep()
        for notice in notices:
            try:
                await self.bot.guild_work.hand_over("season-announce", notice.guild_id, notice)
            except Exception:
                log.exception("could not announce season %s", notice.occurrence)
        return len(notices)

    async def _announce(self, notice: SeasonNotice) -> None:
        settings = await self.bot.services.settings.get(notice.guild_id)
        if settings.announcements_channel_id is None:
            return
        channel = self.bot.get_channel(settings.announcements_channel_id)
        if channel is None:
            return
        podium = "\n".join(f"{MEDALS[i]} <@{u}> earned {e:,}" + (f" · prize {settings.money(p)}" if p else "")
                           for i, (u, e, p) in enumerate(notice.winners[:3]))
        await channel.send(f"{notice.season.emoji} **{discord.utils.escape_markdown(notice.season.name)}**"
                           f" is over! Top earners:\n{podium or 'Nobody earned this season.'}",
                           allowed_mentions=NO_PINGS)

    # --- member anniversaries ---------------------------------------------------------------
    async def anniversaries(self) -> int:
        """Pay today's anniversary bonuses (job body); announce the ones this process paid."""
        services, count = self.bot.services, 0
        for guild in await self.bot.guild_work.local_guilds("seasons"):
            members = [(m.id, m.joined_at) for m in guild.members if not m.bot]
            paid = await services.anniversaries.pay_due(guild.id, members)
            count += len(paid)
            settings = await services.settings.get(guild.id)
            channel = (self.bot.get_channel(settings.announcements_channel_id)
                       if settings.announcements_channel_id else None)
            if not paid or not settings.anniversary_announce or channel is None:
                continue
            lines = [f"🎂 Happy {p.years}-year anniversary, <@{p.user_id}>! "
                     f"+{settings.money(p.amount)}" for p in paid[:20]]
            try:
                await channel.send("\n".join(lines), allowed_mentions=NO_PINGS)
            except discord.HTTPException:
                log.warning("could not announce anniversaries in guild %s", guild.id)
        return count
