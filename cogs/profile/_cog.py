"""/profile: a member's card, their badges and showcase, what they hide, and their own time
zone (the one place it is asked; every time option and mentoring hours read it, and it sets
their streak days). Thin: parse, call one service, render."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from typing import Literal

import discord
from discord import app_commands

from bot.render.collection import MAX_TILES, GalleryTile, gallery_alt_text, render_collection
from bot.render.profile_card import CardCache
from cogs._shared.download import DownloadingCog
from cogs._shared.feature_cog import FeatureCog, member_group
from cogs._shared.interaction import (
    NO_PINGS,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs.badges import list_embed
from cogs.profile._avatars import SIZE, AvatarCache
from cogs.profile._render import card_data, profile_embed
from economy.core.clock import unix_seconds
from economy.core.member_prefs import suggest_zones
from economy.profile.models import PARTS

log = logging.getLogger(__name__)
#: How long a card waits for an avatar download (Discord wants an answer within 3 s).
AVATAR_WAIT = 1.5

Part = Literal["all", "balance", "streak", "badges", "trading", "mentoring", "nft", "season"]
assert set(Part.__args__) == set(PARTS)  # type: ignore[attr-defined]


async def _zones(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in suggest_zones(current)]


async def _own_badge(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    awards = await services_of(interaction).badges.awards(guild_id_of(interaction),
                                                         interaction.user.id)
    text = current.lower()
    return [app_commands.Choice(name=f"{a.badge.name} ({a.badge.rarity})"[:100], value=a.badge.key)
            for a in awards if text in a.badge.key or text in a.badge.name.lower()][:25]


def avatar_url(member: discord.abc.User) -> str | None:
    """The member's own avatar at the card's size (None: Discord's default avatar, for which
    the card draws their initial)."""
    asset = getattr(member, "guild_avatar", None) or member.avatar
    if asset is None:
        return None
    return asset.replace(size=SIZE, static_format="png").url


class ProfileCog(DownloadingCog, FeatureCog):
    """Members' profiles."""

    download_what = "the avatar"
    download_timeout = 2
    profile = member_group("profile", "Your profile: card, badges, showcase, privacy and time zone")

    def __init__(self, bot) -> None:
        super().__init__(bot)
        self.cards = CardCache()
        self.avatars = AvatarCache(self.fetch, bot.settings.attachment_hosts)

    @profile.command(name="view", description="A member's profile card: standing, streak, badges and more")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def view(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        who = member or interaction.user
        roles = frozenset(r.id for r in getattr(who, "roles", ()))
        found = await services.profiles.view(guild_id, interaction.user.id, who.id,
                                             role_ids=roles)
        settings = await services.settings.get(guild_id)
        guild = interaction.guild

        def role_name(role_id: int) -> str:
            role = guild.get_role(role_id) if guild else None
            return role.name[:40] if role else "a role"

        name = who.display_name[:60]
        embed = profile_embed(safe_text(name, limit=60), found, settings.money, role_name)
        data = card_data(name, found, lambda n: f"{n:,} {settings.currency_name}", role_name)
        file = None
        try:
            url = avatar_url(who)
            avatar = None
            if url:  # a slow CDN never costs the 3-second answer: the initial instead
                with contextlib.suppress(TimeoutError):
                    avatar = await asyncio.wait_for(self.avatars.get(url), AVATAR_WAIT)
            png = await asyncio.to_thread(self.cards.render, data, avatar, url)
            file = discord.File(io.BytesIO(png), filename="profile.png",
                                description=data.alt_text())
            embed.set_image(url="attachment://profile.png")
        except Exception:  # the embed carries the same standing: never fail the profile
            log.exception("profile card of %s not drawn", who.id)
        if file is not None:
            await interaction.response.send_message(embed=embed, file=file,
                                                    allowed_mentions=NO_PINGS)
        else:
            await reply(interaction, embed=embed)

    @profile.command(name="badges", description="Your badges (or a member's) and the ones still to earn")
    @app_commands.describe(member="Whose badges (default: yours)")
    async def badges(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        who = member or interaction.user
        awards = await services.profiles.badges_of(guild_id, interaction.user.id, who.id)
        catalogue = await services.badges.catalogue(guild_id)
        await reply(interaction, embed=list_embed(safe_text(who.display_name, limit=60), awards,
                                                  catalogue), ephemeral=True)

    @profile.command(name="collection", description="A gallery picture of a member's badges and collectibles")
    @app_commands.describe(member="Whose collection (default: yours)")
    async def collection(self, interaction: discord.Interaction,
                         member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        who = member or interaction.user
        awards = await services.profiles.badges_of(guild_id, interaction.user.id, who.id)
        name = safe_text(who.display_name, limit=60)
        if not awards:
            mine = who.id == interaction.user.id
            await reply(interaction, ("You hold" if mine else f"{name} holds") + " no badges yet: "
                        "`/profile badges` shows the ones to earn.", ephemeral=True)
            return
        tiles = tuple(GalleryTile(a.badge.name, a.badge.rarity, a.serial, a.collectible)
                      for a in awards)
        png = await asyncio.to_thread(render_collection, who.display_name[:60], tiles,
                                      len(tiles))
        embed = discord.Embed(title=f"{name}'s collection", colour=0x40C4FF,
                              description="\n".join(
                                  f"{a.badge.emoji} {safe_text(a.badge.name, limit=40)}"
                                  + (f" #{a.serial}" if a.serial else "")
                                  + (" · collectible" if a.collectible else "")
                                  for a in awards[:MAX_TILES]))
        if len(awards) > MAX_TILES:
            embed.set_footer(text=f"and {len(awards) - MAX_TILES} more (`/profile badges`)")
        embed.set_image(url="attachment://collection.png")
        file = discord.File(io.BytesIO(png), filename="collection.png",
                            description=gallery_alt_text(who.display_name[:60], tiles,
                                                         len(tiles)))
        await interaction.response.send_message(embed=embed, file=file, allowed_mentions=NO_PINGS)

    @profile.command(name="collectible", description="A collectible's owner and its history (who, when, which trade)")
    @app_commands.describe(item="The collectible's id, like c3#17 (`/profile badges` shows it)")
    async def collectible(self, interaction: discord.Interaction,
                          item: app_commands.Range[str, 3, 50]):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        doc, moves = await services.collectibles.history(guild_id, item)
        badge = (await services.badges.catalogue(guild_id)).get(doc["badge"])
        name = f"{badge.emoji} {safe_text(badge.name, limit=40)}" if badge else doc["badge"]
        first = moves[0].from_id if moves else doc["user_id"]
        lines = [f"**{name} #{doc['serial']}** · owned by <@{doc['user_id']}>",
                 f"<t:{unix_seconds(int(doc['at_ms']))}:d> given to <@{first}>"]
        lines += [f"<t:{unix_seconds(m.at_ms)}:d> <@{m.from_id}> → <@{m.to_id}> "
                  f"(trade #{m.trade_id})"
                  for m in moves[-20:]]
        await reply(interaction, "\n".join(lines), ephemeral=True)

    @profile.command(name="showcase", description="Pin up to 3 of your badges on your profile")
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

    @profile.command(name="hide", description="Hide a part of your profile from other members (or show it again)")
    @app_commands.describe(part="What to hide (`all`: your whole profile)",
                           hidden="True hides it (default), False shows it again")
    async def hide(self, interaction: discord.Interaction, part: Part, hidden: bool = True):
        now = await services_of(interaction).profiles.set_hidden(
            guild_id_of(interaction), interaction.user.id, part, hidden)
        text = ("Hidden from other members: " + ", ".join(PARTS[p] for p in now) + "."
                if now else "Other members see your whole profile.")
        await reply(interaction, text, ephemeral=True)

    @profile.command(name="timezone", description="Show or set your time zone (for times you type and your streak days)")
    @app_commands.describe(zone="An IANA time zone like Europe/Paris, or `reset` for the server's")
    @app_commands.autocomplete(zone=_zones)
    async def timezone(self, interaction: discord.Interaction,
                       zone: app_commands.Range[str, 1, 64] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        prefs = services.member_prefs
        if zone is None:
            own = await prefs.own_zone(guild_id, interaction.user.id)
            server = (await services.settings.get(guild_id)).timezone
            text = (f"Your time zone is `{own}`." if own else
                    f"You use the server's time zone (`{server}`). Set yours with "
                    "`/profile timezone Europe/Paris`.")
            await reply(interaction, text, ephemeral=True)
            return
        stored = await prefs.set_zone(guild_id, interaction.user.id, zone)
        text = (f"Your time zone is now `{stored}`: times you type (like `tomorrow 18:00`) and "
                "mentoring hours you register from now on are read there, and your challenge "
                "streak counts your days there."
                if stored else "Your time zone now follows the server's.")
        await reply(interaction, text, ephemeral=True)
