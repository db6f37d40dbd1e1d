"""The one error handler: domain errors become friendly ephemeral replies, the rest are logged.

Domain errors are one tree (economy/core/errors.py: InvalidInput, NotFound, NotPermitted,
InsufficientFunds, Cooldown, Conflict, Unavailable, NeedsConfirmation, OutcomeUnknown); each
carries a message written for the member, shown as is (a Cooldown also says when).

The order of checks: our domain errors (GemsError) first, then discord.py's check and transform
failures, then anything else, which is logged with context and answered with an apology that
carries an error id the admin can find in the log.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC

import discord
from discord import app_commands

from bot.metrics import record_command_outcome
from economy.core.errors import Cooldown, GemsError

log = logging.getLogger("gems.errors")


def describe_error(error: BaseException) -> tuple[str, bool]:
    """The message for the member and whether the error was expected (no log needed)."""
    # A staff check (cogs/_shared/feature_cog.py) carries the domain error as its cause.
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError
                  | app_commands.CheckFailure) and isinstance(error.__cause__, GemsError):
        error = error.__cause__
    if isinstance(error, app_commands.CommandInvokeError) and error.original is not None:
        error = error.original
    if isinstance(error, Cooldown):
        when = discord.utils.format_dt(error.retry_at.astimezone(UTC), "R")
        return f"{error.message} Try again {when}.", True
    if isinstance(error, GemsError):
        return error.message, True
    if isinstance(error, app_commands.TransformerError):
        if error.type in (discord.AppCommandOptionType.user,) and "Member" in repr(error.transformer):
            return "That user isn't a member of this server.", True
        return f"I couldn't understand `{str(error.value)[:50]}` for that option.", True
    # Subclasses of CheckFailure first: a cooldown is not "no permission".
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s.", True
    if isinstance(error, app_commands.BotMissingPermissions):
        return (f"I (the bot) am missing the {_permission_names(error.missing_permissions)} "
                "permission here; ask an admin to grant it."), True
    if isinstance(error, app_commands.MissingPermissions):
        return (f"You need the {_permission_names(error.missing_permissions)} permission "
                "to do that."), True
    if isinstance(error, app_commands.CheckFailure):
        return "You don't have permission to do that.", True
    return "", False


def _permission_names(names: list[str]) -> str:
    """`manage_roles` -> `Manage Roles`, joined for a sentence."""
    return ", ".join(f"**{n.replace('_', ' ').replace('guild', 'server').title()}**" for n in names)


async def handle_interaction_error(
    interaction: discord.Interaction, error: BaseException, *, where: str | None = None
) -> None:
    """Answer the member ephemerally and log unexpected errors with an id."""
    message, expected = describe_error(error)
    record_command_outcome(interaction, "refused" if expected else "error")
    if not expected:
        error_id = secrets.token_hex(4)
        command = where or (interaction.command.qualified_name if interaction.command else "component")
        log.error(
            "error %s in %s (guild=%s user=%s)", error_id, command, interaction.guild_id,
            interaction.user.id, exc_info=error,
        )
        message = f"Sorry, something went wrong on our side. (error id `{error_id}`)"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not deliver an error message to user %s", interaction.user.id)


def install_error_handler(tree: app_commands.CommandTree) -> None:
    """Route every app command error through `handle_interaction_error`."""

    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await handle_interaction_error(interaction, error)

    tree.on_error = on_error  # type: ignore[method-assign]
