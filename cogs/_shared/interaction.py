"""Small helpers for answering interactions safely."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

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


async def _require(interaction: discord.Interaction, allowed, message: str) -> GuildSettings:
    settings = await services_of(interaction).settings.get(guild_id_of(interaction))
    if not allowed(interaction.user, settings):
        raise NotPermitted(message)
    return settings


async def require_admin(interaction: discord.Interaction) -> GuildSettings:
    """Return the guild settings if the user may run admin commands; else raise NotPermitted."""
    return await _require(interaction, is_admin,
                          "Only server admins (Manage Server) or the configured admin role can do that.")


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
    """Return the guild settings if the user is a moderator; else raise NotPermitted."""
    return await _require(interaction, is_moderator,
                          "Only moderators (Manage Messages) or the configured moderator role can do that.")


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
