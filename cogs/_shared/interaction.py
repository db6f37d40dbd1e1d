"""Small helpers for answering interactions safely."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from economy.core.actor import Actor
from economy.core.errors import NotPermitted

if TYPE_CHECKING:
    from bot.app import GemsBot
    from economy.core.settings import GuildSettings
    from economy.services import Services

NO_PINGS = discord.AllowedMentions.none()


def services_of(interaction: discord.Interaction) -> Services:
    """The services carried by the bot that received the interaction."""
    bot: GemsBot = interaction.client  # type: ignore[assignment]
    return bot.services


def guild_id_of(interaction: discord.Interaction) -> int:
    """The guild of the interaction (commands are guild-only)."""
    if interaction.guild_id is None:
        raise NotPermitted("This command only works in a server.")
    return interaction.guild_id


def safe_text(text: str, *, limit: int = 200) -> str:
    """User text made safe to render: markdown and mentions escaped, length capped."""
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_admin(member: discord.abc.User, settings: GuildSettings) -> bool:
    """Manage Server permission or the guild's configured admin role."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild or member.guild_permissions.administrator:
        return True
    return settings.admin_role_id is not None and any(
        role.id == settings.admin_role_id for role in member.roles
    )


async def require_admin(interaction: discord.Interaction) -> GuildSettings:
    """Return the guild settings if the user may run admin commands; else raise NotPermitted.

    An early refusal for a friendly answer (before a form opens); the service checks the
    interaction's Actor again.
    """
    guild_id = guild_id_of(interaction)
    (await actor_of(interaction)).require_admin(guild_id)
    return await services_of(interaction).settings.get(guild_id)


def is_moderator(member: discord.abc.User, settings: GuildSettings) -> bool:
    """Admins, members with Manage Messages, or the configured moderator role."""
    if not isinstance(member, discord.Member):
        return False
    if is_admin(member, settings) or member.guild_permissions.manage_messages:
        return True
    return settings.moderator_role_id is not None and any(
        role.id == settings.moderator_role_id for role in member.roles
    )


async def require_moderator(interaction: discord.Interaction) -> GuildSettings:
    """Return the guild settings if the user is a moderator; else raise NotPermitted (an early
    refusal; the service checks the interaction's Actor again)."""
    guild_id = guild_id_of(interaction)
    (await actor_of(interaction)).require_moderator(guild_id)
    return await services_of(interaction).settings.get(guild_id)


#: Where `actor_of` keeps the interaction's Actor (computed once per interaction).
_ACTOR_KEY = "gems_actor"


async def actor_of(interaction: discord.Interaction) -> Actor:
    """Who is acting, computed once per interaction: the staff flags from Discord's permissions
    and the guild's configured admin/moderator roles, and the member's role ids (from which the
    services decide feature roles). Services check the Actor again; in a DM it has no authority.
    """
    cached = interaction.extras.get(_ACTOR_KEY)
    if isinstance(cached, Actor):
        return cached
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member):
        actor = Actor(user.id, guild_id=interaction.guild_id or 0)
    else:
        settings = await services_of(interaction).settings.get(interaction.guild_id)
        actor = Actor(user.id, guild_id=interaction.guild_id,
                      is_admin=is_admin(user, settings), is_moderator=is_moderator(user, settings),
                      role_ids=frozenset(role.id for role in user.roles))
    interaction.extras[_ACTOR_KEY] = actor
    return actor


async def reply(
    interaction: discord.Interaction, content: str | None = None, *,
    embed: discord.Embed | None = None, view: discord.ui.View | None = None,
    ephemeral: bool = False,
) -> None:
    """Send the first response (or a followup when already responded), never pinging anyone."""
    kwargs: dict = {"content": content, "ephemeral": ephemeral, "allowed_mentions": NO_PINGS}
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
