"""GemsTree: the bot's command tree, with a list of checks in front of every command.

`CommandTree.interaction_check` is discord.py's public hook before every slash command, context
menu and autocomplete (it runs in the command's own task, before option transforms). Features of
the process (the modules gate, the command metrics) add a check here instead of wrapping the
tree's method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

#: A check: returns False to stop the interaction (after answering it).
Check = Callable[[discord.Interaction], Awaitable[bool]]


class GemsTree(app_commands.CommandTree):
    """A CommandTree whose `interaction_check` runs the checks added with `add_check`, in order."""

    def __init__(self, client: Any, **options: Any) -> None:
        super().__init__(client, **options)
        self._checks: list[Check] = []

    def add_check(self, check: Check, *, first: bool = False) -> None:
        """Run `check` before every app command (`first`: before the checks already added)."""
        if first:
            self._checks.insert(0, check)
        else:
            self._checks.append(check)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """True when every check lets the interaction through (stops at the first False)."""
        for check in self._checks:
            if not await check(interaction):
                return False
        return True
