"""Persistent buttons (`DynamicItem`s whose failures reach the one error handler), the view that
carries them without being kept in memory, and the bases every component and modal derives from
so that switched-off features are refused (`Gated`, `GatedModal`)."""

from __future__ import annotations

from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from bot.log_format import bind_interaction
from bot.modules_gate import gated


class Gated:
    """Mixin for a component or modal: refused (with one ephemeral answer) while its feature is
    switched off in the guild.

    discord.py runs `interaction_check` before every callback of an item or modal (public API);
    the feature is the cogs/ package of the class. Put it first among the bases.
    """

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """False (after answering) when this control's feature is off in the guild."""
        return await gated(interaction, self)


class GatedModal(Gated, discord.ui.Modal):
    """The base of every modal: refused while its feature is off (see `Gated`)."""


class SafeButton(Gated, discord.ui.DynamicItem[discord.ui.Button], template=r"__abstract_safe_button__"):
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


class RoutedView(discord.ui.View):
    """A view of persistent items only: the client routes their clicks, the view store keeps none.

    Every clickable item is a `DynamicItem` registered with `bot.add_dynamic_items`, so a click is
    dispatched from its custom id alone. discord.py would still store the view when it is sent
    (and give a view on an ephemeral message a 15-minute timeout, keeping it and its buttons
    alive that long: ~5 MiB per 500 result pages). A RoutedView reports itself finished, which
    is what every send/edit path checks before storing a view, so nothing keeps it after the
    send; clicks keep working through the dynamic items.
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def add_item(self, item: discord.ui.Item[Any]) -> RoutedView:
        """Add a DynamicItem (or a link button); any other clickable item would never be routed."""
        if item.is_dispatchable() and not isinstance(item, discord.ui.DynamicItem):
            raise TypeError(f"{type(item).__name__} is not a DynamicItem: its clicks would be lost")
        super().add_item(item)
        return self

    def is_finished(self) -> bool:
        """Always True: this view never listens itself (see the class docstring)."""
        return True
