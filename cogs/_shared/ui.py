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


class RoutedModal(GatedModal):
    """A modal whose submit is routed by its custom id (`route_modal_submit`), not by the object.

    discord.py keeps a sent modal in memory and drops its submit when the object is gone (a
    restart between opening and submitting the form). A RoutedModal reports itself finished,
    which is what `send_modal` checks before storing it, so nothing keeps it; the owner's
    `on_interaction` listener handles the submit from the interaction's data alone, so the form
    survives a restart and two staff opening the same form never share one object.
    """

    def is_finished(self) -> bool:
        """Always True: the submit is routed by custom id (see the class docstring)."""
        return True


def modal_values(data: Any) -> dict[str, str]:
    """custom_id -> typed text of a modal submit's text inputs (in rows or in labels)."""
    found: dict[str, str] = {}

    def leaf(node: Any) -> None:
        if isinstance(node, dict) and node.get("type") == 4 and "custom_id" in node:
            found[str(node["custom_id"])] = str(node.get("value") or "")

    for top in (data or {}).get("components") or []:
        if not isinstance(top, dict):
            continue
        for node in top.get("components") or [top.get("component")]:
            leaf(node)
        leaf(top)
    return found


async def route_modal_submit(interaction: discord.Interaction, prefix: str, owner: object,
                             handle: Any) -> None:
    """From an `on_interaction` listener: run `handle(interaction, rest, values)` for a modal
    submit whose custom id starts with `prefix` (`rest`: what follows it; `values`: the typed
    text by field custom id), behind the modules gate, with errors answered by the one error
    handler. Anything else is ignored. The handler must check who may act: a submit can be
    crafted by anyone, with any custom id."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    if not custom_id.startswith(prefix):
        return
    bind_interaction(interaction)
    try:
        if not await gated(interaction, owner):
            return
        await handle(interaction, custom_id[len(prefix):], modal_values(interaction.data))
    except Exception as error:  # the one place that maps errors to friendly replies
        await handle_interaction_error(interaction, error, where=prefix.rstrip(":"))
