"""The one place switched-off features are refused (/settings modules): slash commands, context menus,
autocomplete, buttons, selects and modals.

A slash command's feature is the cogs/ package that defines its root group; a component's is
found from its custom_id prefix (`mkt:...` -> marketplace), learned from the registered dynamic
items plus the persistent prefixes below; a modal's from the class of the open modal. Refused
interactions get one clear ephemeral answer and reach no cog code, so they change no state.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
from discord import app_commands

from economy.core.modules import FEATURES, off_message
from economy.registry import FEATURES as REGISTERED

log = logging.getLogger(__name__)

#: custom_id prefixes of persistent components that are not dynamic items (declared by features).
STATIC_PREFIXES = {prefix: f.name for f in REGISTERED for prefix in f.custom_id_prefixes}

#: Interactions that still run while their feature is off, because they only settle GEMS
#: already held (declared by features: e.g. the parties' trade-card buttons and the moderators'
#: dispute commands). A member's held GEMS never wait on a switch; new trades (offers,
#: accepting, buying) stay refused, in the gate and in the trades service.
SETTLING_PREFIXES = tuple(p for f in REGISTERED for p in f.settling_custom_ids)
SETTLING_COMMANDS = frozenset(c for f in REGISTERED for c in f.settling_commands)


def settles(interaction: discord.Interaction) -> bool:
    """True for an interaction in SETTLING_PREFIXES / SETTLING_COMMANDS."""
    data = interaction.data or {}
    if interaction.type in (discord.InteractionType.application_command,
                            discord.InteractionType.autocomplete):
        name = str(data.get("name", ""))
        options = data.get("options") or []
        if options and options[0].get("type") in (1, 2):  # a subcommand (or a group of them)
            name = f"{name} {options[0].get('name', '')}"
        return name in SETTLING_COMMANDS or name.split(" ")[0] in SETTLING_COMMANDS
    return str(data.get("custom_id", "")).startswith(SETTLING_PREFIXES)


def feature_of_module(module: str | None) -> str | None:
    """`cogs.marketplace._cog` -> `marketplace`; None outside a switchable feature package."""
    parts = (module or "").split(".")
    if len(parts) >= 2 and parts[0] == "cogs" and parts[1] in FEATURES:
        return parts[1]
    return None


class ModulesGate:
    """Maps interactions to features and refuses those switched off in the guild."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self._commands: dict[str, str] | None = None
        self._prefixes: dict[str, str] | None = None
        self.refused = 0

    # -- mapping -----------------------------------------------------------------------------------

    def command_features(self) -> dict[str, str]:
        """Root command name (slash or context menu) -> feature, from the loaded command tree."""
        if self._commands is None:
            found: dict[str, str] = {}
            for command in self._bot.tree.get_commands():
                feature = feature_of_module(getattr(command, "module", None))
                if feature:
                    found[command.name] = feature
            self._commands = found
        return self._commands

    def prefix_features(self) -> dict[str, str]:
        """custom_id prefix -> feature (dynamic items' templates plus STATIC_PREFIXES)."""
        if self._prefixes is None:
            found = dict(STATIC_PREFIXES)
            store = self._bot._connection._view_store
            for pattern, item_cls in getattr(store, "_dynamic_items", {}).items():
                match = re.match(r"\^?([A-Za-z0-9_-]+):", pattern.pattern)
                feature = feature_of_module(item_cls.__module__)
                if match and feature:
                    found[match.group(1)] = feature
            self._prefixes = found
        return self._prefixes

    def feature_of(self, interaction: discord.Interaction) -> str | None:
        """The switchable feature an interaction belongs to, or None (core or unknown)."""
        data = interaction.data or {}
        if interaction.type in (discord.InteractionType.application_command,
                                discord.InteractionType.autocomplete):
            return self.command_features().get(str(data.get("name", "")))
        custom_id = str(data.get("custom_id", ""))
        if interaction.type is discord.InteractionType.modal_submit:
            modal = self._bot._connection._view_store._modals.get(custom_id)
            if modal is not None:
                return feature_of_module(type(modal).__module__)
        return self.prefix_features().get(custom_id.split(":", 1)[0])

    # -- checking ----------------------------------------------------------------------------------

    async def refuse_if_off(self, interaction: discord.Interaction) -> bool:
        """Answer and return True when the interaction's feature is off in its guild."""
        feature = self.feature_of(interaction)
        if feature is None or interaction.guild_id is None:
            return False
        if await self._bot.services.modules.enabled(interaction.guild_id, feature):
            return False
        if settles(interaction):
            return False
        self.refused += 1
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        elif not interaction.response.is_done():
            await interaction.response.send_message(
                off_message(feature), ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        return True


def install_modules_gate(bot: Any) -> ModulesGate:
    """Hook the gate in front of the command tree and the component/modal dispatch."""
    gate = ModulesGate(bot)
    tree: app_commands.CommandTree = bot.tree
    previous_check = tree.interaction_check

    async def interaction_check(interaction: discord.Interaction) -> bool:
        if await gate.refuse_if_off(interaction):
            return False
        return await previous_check(interaction)

    tree.interaction_check = interaction_check  # type: ignore[method-assign]

    store = bot._connection._view_store
    dispatch_view, dispatch_modal = store.dispatch_view, store.dispatch_modal

    def gated(dispatch):
        def run(*args: Any) -> None:
            interaction = next(a for a in args if isinstance(a, discord.Interaction))
            store.add_task(asyncio.create_task(_check_then(dispatch, args, interaction),
                                               name="gems-modules-gate"))
        return run

    async def _check_then(dispatch, args: tuple, interaction: discord.Interaction) -> None:
        try:
            if await gate.refuse_if_off(interaction):
                return
        except Exception:
            log.exception("modules gate failed; handling the interaction normally")
        # The feature is on: dispatch as discord.py would, and finish only when the work
        # started by it ends (so whoever waits on this task waits on the whole interaction).
        before = asyncio.all_tasks()
        dispatch(*args)
        spawned = asyncio.all_tasks() - before
        if spawned:
            await asyncio.wait(spawned)

    store.dispatch_view = gated(dispatch_view)  # type: ignore[method-assign]
    store.dispatch_modal = gated(dispatch_modal)  # type: ignore[method-assign]
    return gate
