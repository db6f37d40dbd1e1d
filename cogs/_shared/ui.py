"""A base for persistent buttons: `DynamicItem`s whose failures reach the one error handler."""

from __future__ import annotations

from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from bot.log_format import bind_interaction

INT64_MAX = 2**63 - 1


def store_int(digits: str) -> int:
    """A number parsed from a custom id, or -1 when the store could not hold it.

    Custom ids come back from the client and can be forged: an id no document has (-1) makes
    the service answer "not found" instead of the driver failing on an integer over int64.
    """
    value = int(digits)
    return value if value <= INT64_MAX else -1


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
