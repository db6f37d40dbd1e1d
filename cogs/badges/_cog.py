"""/badge and /badge-admin. Thin: parse, call the badge service, render."""

from __future__ import annotations

import asyncio
import io
from typing import Literal

import discord
from discord import app_commands

from bot.render.profile_card import CardBadge, render_profile_card
from cogs._shared.feature_cog import (
    FeatureCog,
    admin_group,
    admin_only,
    member_group,
    settings_of,
)
from cogs._shared.interaction import (
    NO_PINGS,
    guild_id_of,
    is_admin,
    reply,
    safe_text,
    services_of,
)
from cogs.badges._render import badge_line, list_embed, profile_embed
from economy.core.errors import InvalidInput


async def _any_badge(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    catalogue = await services_of(interaction).badges.catalogue(guild_id_of(interaction))
    text = current.lower()
    return [app_commands.Choice(name=f"{b.name} ({b.rarity})"[:100], value=b.key)
            for b in catalogue.values() if text in b.key or text in b.name.lower()][:25]


async def _own_badge(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    awards = await services_of(interaction).badges.awards(guild_id_of(interaction),
                                                         interaction.user.id)
    text = current.lower()
    return [app_commands.Choice(name=f"{a.badge.name} ({a.badge.rarity})"[:100], value=a.badge.key)
            for a in awards if text in a.badge.key or text in a.badge.name.lower()][:25]


class BadgesCog(FeatureCog):
    """Badges members earn and show."""

    badge = member_group("badge", "Badges: achievements you earn, showcase and show off")
    badge_admin = admin_group("badge-admin", "Badges (admins)")

    # --- members -----------------------------------------------------------------------------
    @badge.command(name="list", description="Your badges (or a member's) and the ones still to earn")
    @app_commands.describe(member="Whose badges (default: yours)")
    async def list_(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        who = member or interaction.user
        awards = await services.badges.awards(guild_id, who.id)
        catalogue = await services.badges.catalogue(guild_id)
        await reply(interaction, embed=list_embed(safe_text(who.display_name, limit=60), awards,
                                                  catalogue), ephemeral=True)

    @badge.command(name="showcase", description="Pin up to 3 of your badges on your profile")
    @app_commands.describe(first="A badge you hold, or `none` to unpin all",
                           second="Another badge you hold", third="A third badge you hold")
    @app_commands.autocomplete(first=_own_badge, second=_own_badge, third=_own_badge)
    async def showcase(self, interaction: discord.Interaction,
                       first: app_commands.Range[str, 1, 40],
                       second: app_commands.Range[str, 1, 40] | None = None,
                       third: app_commands.Range[str, 1, 40] | None = None):
        keys = [] if first.strip().lower() == "none" else [k for k in (first, second, third) if k]
        pinned = await services_of(interaction).badges.set_showcase(
            guild_id_of(interaction), interaction.user.id, keys)
        text = ("Your showcase: " + " · ".join(f"{a.badge.emoji} {safe_text(a.badge.name, limit=40)}"
                                               for a in pinned)
                if pinned else "Your showcase is empty now.")
        await reply(interaction, text, ephemeral=True)

    @badge.command(name="profile", description="A member's profile card: standing, streak and showcased badges")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        who = member or interaction.user
        found = await services.badges.profile(guild_id, who.id)
        settings = await services.settings.get(guild_id)
        embed = profile_embed(safe_text(who.display_name, limit=60), None, found,
                              settings.money(found.balance))
        png = await asyncio.to_thread(
            render_profile_card, who.display_name[:60],
            balance=f"{found.balance:,} {settings.currency_name}", rank=found.rank,
            streak=found.daily_streak, badges_held=found.held,
            showcase=[CardBadge(a.badge.name, a.badge.rarity, a.serial) for a in found.showcase])
        embed.set_image(url="attachment://profile.png")
        await interaction.response.send_message(
            embed=embed, file=discord.File(io.BytesIO(png), filename="profile.png",
                                           description=f"Profile card of {who.display_name[:60]}"),
            allowed_mentions=NO_PINGS)

    # --- admins ------------------------------------------------------------------------------
    @badge_admin.command(name="create", description="Create a server badge (a limited edition with a supply)")
    @admin_only
    @app_commands.describe(name="Its name", description="What it is for", emoji="One emoji",
                           rarity="How rare it is",
                           supply="Limited edition: at most this many members hold it")
    async def create(self, interaction: discord.Interaction,
                     name: app_commands.Range[str, 2, 40],
                     description: app_commands.Range[str, 3, 200],
                     emoji: app_commands.Range[str, 1, 64],
                     rarity: Literal["common", "rare", "epic", "legendary"],
                     supply: app_commands.Range[int, 1, 100_000] | None = None):
        badge = await services_of(interaction).badges.create(
            guild_id_of(interaction), interaction.user.id,
            is_admin=is_admin(interaction.user, await settings_of(interaction)), name=name,
            description=description, emoji=emoji, rarity=rarity, supply=supply)
        await reply(interaction, f"Created {badge_line(badge)}. Give it with "
                    f"`/badge-admin give badge:{badge.key}`.", ephemeral=True)

    @badge_admin.command(name="give", description="Give a member a badge, with a reason (recorded)")
    @admin_only
    @app_commands.describe(badge="The badge", member="Who gets it", reason="Why (recorded)")
    @app_commands.autocomplete(badge=_any_badge)
    async def give(self, interaction: discord.Interaction, badge: app_commands.Range[str, 1, 40],
                   member: discord.Member, reason: app_commands.Range[str, 3, 200]):
        if member.bot:
            raise InvalidInput("Badges go to members, not bots.")
        award = await services_of(interaction).badges.give(
            guild_id_of(interaction), interaction.user.id, badge, member.id,
            is_admin=is_admin(interaction.user, await settings_of(interaction)), reason=reason)
        await reply(interaction, f"{member.mention} now holds {badge_line(award.badge, award)}.",
                    ephemeral=True)

    @badge_admin.command(name="revoke", description="Take a badge back from a member, with a reason (recorded)")
    @admin_only
    @app_commands.describe(badge="The badge", member="Who loses it", reason="Why (recorded)")
    @app_commands.autocomplete(badge=_any_badge)
    async def revoke(self, interaction: discord.Interaction, badge: app_commands.Range[str, 1, 40],
                     member: discord.Member, reason: app_commands.Range[str, 3, 200]):
        found = await services_of(interaction).badges.revoke(
            guild_id_of(interaction), interaction.user.id, badge, member.id,
            is_admin=is_admin(interaction.user, await settings_of(interaction)), reason=reason)
        await reply(interaction, f"Took {found.emoji} **{safe_text(found.name, limit=40)}** back "
                    f"from {member.mention}.", ephemeral=True)

    @badge_admin.command(name="rule", description="Switch an automatic badge on or off and set the GEMS it pays")
    @admin_only
    @app_commands.describe(badge="An automatic badge", enabled="Award it automatically",
                           reward="GEMS paid with it (empty: the server's default)")
    @app_commands.autocomplete(badge=_any_badge)
    async def rule(self, interaction: discord.Interaction, badge: app_commands.Range[str, 1, 40],
                   enabled: bool, reward: app_commands.Range[int, 0, 1_000_000] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        state = await services.badges.set_rule(
            guild_id, interaction.user.id, badge,
            is_admin=is_admin(interaction.user, await settings_of(interaction)),
            enabled=enabled, reward=reward)
        settings = await settings_of(interaction)
        pays = settings.money(state.reward if state.reward is not None
                              else settings.badge_reward_default)
        await reply(interaction, f"`{state.key}` is {'on' if state.enabled else 'off'}; "
                    f"it pays {pays}.", ephemeral=True)
