"""Who may see a guild's pages, decided at every request from the bot's own view of the guild.

Admins (Manage Server, Administrator or the guild's GEMS admin role) see every page; moderators
(Manage Messages or the moderator role) see the moderation pages only; anyone else, or someone
the bot does not see in the guild at all, gets 403. Nothing is taken from the session but the
user id: removing a role in Discord takes effect on the next request. The `Actor` built here is
the one `cogs/_shared/interaction.py` `actor_of` builds for an interaction, and the services
check it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from economy.core.actor import Actor
from economy.core.settings import GuildSettings

ADMIN, MODERATOR = "admin", "moderator"


@dataclass(frozen=True)
class Access:
    """A request's view of one guild: the guild, the member, their settings and authority."""

    guild: discord.Guild
    member: discord.Member
    settings: GuildSettings
    actor: Actor

    @property
    def level(self) -> str | None:
        """"admin", "moderator" or None."""
        if self.actor.admin(self.guild.id):
            return ADMIN
        return MODERATOR if self.actor.moderator(self.guild.id) else None


def actor_for(member: discord.Member, settings: GuildSettings) -> Actor:
    """The member's Actor in their guild (the same flags as an interaction's)."""
    perms = member.guild_permissions
    role_ids = frozenset(role.id for role in member.roles)
    admin = perms.manage_guild or perms.administrator or (
        settings.admin_role_id is not None and settings.admin_role_id in role_ids)
    moderator = admin or perms.manage_messages or (
        settings.moderator_role_id is not None and settings.moderator_role_id in role_ids)
    return Actor(member.id, guild_id=member.guild.id, is_admin=admin, is_moderator=moderator,
                 role_ids=role_ids)


async def member_of(guild: discord.Guild, user_id: int) -> discord.Member | None:
    """The member from the bot's cache, else from Discord (None: not in the guild)."""
    member = guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user_id)
    except (discord.NotFound, discord.Forbidden):
        return None


async def access_of(bot: Any, guild_id: int, user_id: int) -> Access | None:
    """The user's access to a guild the bot serves (None: not a member, or no such guild)."""
    guild = bot.get_guild(guild_id)
    if guild is None:
        return None
    member = await member_of(guild, user_id)
    if member is None:
        return None
    settings = await bot.services.settings.get(guild_id)
    return Access(guild, member, settings, actor_for(member, settings))
