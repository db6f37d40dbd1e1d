"""The error handler maps each failure to the right friendly message (order matters)."""

from __future__ import annotations

from discord import app_commands

from bot.error_handler import describe_error
from economy.core.errors import InsufficientFunds


def test_cooldown_and_dm_are_not_reported_as_missing_permission():
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 12.4)
    assert describe_error(cooldown) == ("Slow down: try again in 12 s.", True)
    assert describe_error(app_commands.NoPrivateMessage()) == (
        "This command only works in a server.", True)


def test_member_and_bot_missing_permissions_are_told_apart():
    mine, _ = describe_error(app_commands.MissingPermissions(["manage_guild"]))
    assert "You need the **Manage Server** permission" in mine
    bots, _ = describe_error(app_commands.BotMissingPermissions(["manage_roles", "embed_links"]))
    assert "I (the bot) am missing the **Manage Roles**, **Embed Links**" in bots
    assert describe_error(app_commands.CheckFailure()) == (
        "You don't have permission to do that.", True)


def test_domain_errors_pass_through_and_unknown_ones_are_logged():
    assert describe_error(InsufficientFunds("Not enough GEMS.")) == ("Not enough GEMS.", True)
    assert describe_error(RuntimeError("boom")) == ("", False)
