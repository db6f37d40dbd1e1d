"""The bot's own slash commands, as a member sees them: only those their permissions allow."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands


@dataclass(frozen=True)
class CommandInfo:
    """One runnable slash command (a leaf: `/gems give`, not the `/gems` group)."""

    path: str
    description: str
    options: tuple[tuple[str, bool, str], ...]  # (name, required, description)
    permissions: discord.Permissions | None
    feature: str = ""  # the cogs/ package of its root command (`marketplace` for /market)

    @property
    def root(self) -> str:
        """The top-level command: `market` for `/market alert add`."""
        return self.path[1:].split(" ", 1)[0]

    @property
    def who(self) -> str:
        """Who may run it by default, in words."""
        if self.permissions is None or self.permissions.value == 0:
            return "everyone"
        names = [name.replace("_", " ").title() for name, on in self.permissions if on]
        return "members with " + " / ".join(names)


def _leaves(command: app_commands.Command | app_commands.Group, root_perms, prefix: str,
            feature: str):
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from _leaves(child, root_perms, f"{prefix}{command.name} ", feature)
        return
    options = tuple((p.display_name, p.required, p.description) for p in command.parameters)
    yield CommandInfo(f"/{prefix}{command.name}", command.description, options, root_perms,
                      feature)


def feature_of(command: app_commands.Command | app_commands.Group) -> str:
    """The cogs/ package that defines a root command (`cogs.marketplace._cog` -> marketplace)."""
    parts = (command.module or "").split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "cogs" else ""


def catalog(tree: app_commands.CommandTree) -> list[CommandInfo]:
    """Every slash command of the bot, sorted by name."""
    found: list[CommandInfo] = []
    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        found.extend(_leaves(command, command.default_permissions, "", feature_of(command)))
    return sorted(found, key=lambda c: c.path)


def runnable_by(commands: list[CommandInfo], permissions: discord.Permissions,
                in_guild: bool) -> list[CommandInfo]:
    """The commands whose default permissions `permissions` meet (Discord's own rule: every
    listed permission, or Administrator). Outside a server only the member commands count."""
    def allowed(info: CommandInfo) -> bool:
        if info.permissions is None or info.permissions.value == 0:
            return True
        if not in_guild:
            return False
        return permissions.administrator or info.permissions.is_subset(permissions)
    return [c for c in commands if allowed(c)]
