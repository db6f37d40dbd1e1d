"""The one place switched-off features are refused (/settings modules): slash commands, context menus,
autocomplete, buttons, selects and modals.

A slash command's feature is the cogs/ package that defines its root group; a button's, select's
or modal's is the cogs/ package of its class (else its custom_id prefix, declared by the
features). Refused interactions get one clear ephemeral answer and reach no cog code, so they
change no state.

Everything goes through discord.py's public hooks: the command tree's `interaction_check`
(`GemsTree.add_check`: slash commands, context menus, autocomplete) and the `interaction_check`
of the shared component and modal bases (`gated` below, called by `cogs/_shared/ui.py`), which
discord.py runs before an item's or modal's callback.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from economy.core.modules import FEATURES, off_message
from economy.registry import FEATURES as REGISTERED

log = logging.getLogger(__name__)

#: custom_id prefix -> feature (declared by features): the feature of a control whose class lives
#: outside a feature package.
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

    def feature_of(self, interaction: discord.Interaction, owner: object = None) -> str | None:
        """The switchable feature an interaction belongs to, or None (core or unknown).

        `owner` is the component or modal being run: its class's cogs/ package names the
        feature; without one (or outside a feature package) the custom_id prefix does.
        """
        data = interaction.data or {}
        if interaction.type in (discord.InteractionType.application_command,
                                discord.InteractionType.autocomplete):
            return self.command_features().get(str(data.get("name", "")))
        if owner is not None:
            feature = feature_of_module(type(owner).__module__)
            if feature is not None:
                return feature
        custom_id = str(data.get("custom_id", ""))
        return STATIC_PREFIXES.get(custom_id.split(":", 1)[0])

    # -- checking ----------------------------------------------------------------------------------

    async def refuse_if_off(self, interaction: discord.Interaction, owner: object = None) -> bool:
        """Answer and return True when the interaction's feature is off in its guild."""
        feature = self.feature_of(interaction, owner)
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

    async def allows(self, interaction: discord.Interaction, owner: object = None) -> bool:
        """The check form of `refuse_if_off`: False when refused (and answered).

        A failure of the gate itself is logged and lets the interaction through, as a feature
        switch must never break a working feature.
        """
        try:
            return not await self.refuse_if_off(interaction, owner)
        except Exception:
            log.exception("modules gate failed; handling the interaction normally")
            return True


def install_modules_gate(bot: Any) -> ModulesGate:
    """Put the gate in front of every app command (the tree's first check); components and
    modals call `gated` from their `interaction_check`."""
    gate = ModulesGate(bot)
    bot.tree.add_check(gate.allows, first=True)
    return gate


async def gated(interaction: discord.Interaction, owner: object) -> bool:
    """For a component's or modal's `interaction_check`: False when its feature is off here."""
    gate = getattr(interaction.client, "modules_gate", None)
    if gate is None:  # a client without the gate (not a GemsBot)
        return True
    return await gate.allows(interaction, owner)
