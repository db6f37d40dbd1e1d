"""A base for persistent buttons: `DynamicItem`s whose failures reach the one error handler."""

from __future__ import annotations

from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from bot.log_format import bind_interaction


class SafeButton(discord.ui.DynamicItem[discord.ui.Button], template=r"__abstract_safe_button__"):
    """Subclass with a `template=` and implement `run`; errors become friendly replies."""

    async def callback(self, interaction: discord.Interaction) -> Any:
        bind_interaction(interaction)  # the click's ids on every log line it causes
        try:
            await self.run(interaction)
        except Exception as error:  # the one place that maps errors to friendly replies
            await handle_interaction_error(interaction, error, where=type(self).__name__)

    async def run(self, interaction: discord.Interaction) -> None:
        """The button's action."""
        raise NotImplementedError  # pragma: no cover - every subclass defines it
