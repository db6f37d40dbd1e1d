"""/settings modules: admins switch whole features off (and on) in their server.

The refusal itself lives in bot/modules_gate.py, in front of every command and component.
"""

from __future__ import annotations

import discord
from discord import app_commands

from cogs._shared.feature_cog import admin_only
from cogs._shared.interaction import actor_of, guild_id_of, reply, services_of
from economy.core.modules import FEATURES

COLOUR = discord.Colour.from_rgb(120, 130, 150)
FEATURE_CHOICES = [app_commands.Choice(name=f"{key} — {label}"[:100], value=key)
                   for key, label in FEATURES.items()]


class ModulesGroup(app_commands.Group):
    """Turn GEMS features on or off per server (Manage Server or the admin role): the subgroup
    `/settings modules`, attached to the /settings group when the settings cog loads."""

    def __init__(self) -> None:
        super().__init__(name="modules", description="Turn GEMS features on or off in this server")

    @app_commands.command(name="list", description="Which features are on and which are off")
    @admin_only
    async def list_(self, interaction: discord.Interaction):
        off = set(await services_of(interaction).modules.disabled(guild_id_of(interaction)))
        lines = [f"{'⛔ off' if key in off else '✅ on'} · `{key}` — {label}"
                 for key, label in FEATURES.items()]
        embed = discord.Embed(title="GEMS features", description="\n".join(lines), colour=COLOUR)
        embed.set_footer(text="/settings modules disable feature: … turns one off; the currency and "
                              "settings are always on")
        await reply(interaction, embed=embed, ephemeral=True)

    @app_commands.command(name="enable", description="Turn a feature back on")
    @admin_only
    @app_commands.describe(feature="The feature to turn on")
    @app_commands.choices(feature=FEATURE_CHOICES)
    async def enable(self, interaction: discord.Interaction, feature: str):
        await self._switch(interaction, feature, on=True)

    @app_commands.command(name="disable", description="Turn a feature off: its commands and buttons stop")
    @admin_only
    @app_commands.describe(feature="The feature to turn off")
    @app_commands.choices(feature=FEATURE_CHOICES)
    async def disable(self, interaction: discord.Interaction, feature: str):
        await self._switch(interaction, feature, on=False)

    async def _switch(self, interaction: discord.Interaction, feature: str, *, on: bool) -> None:
        changed = await services_of(interaction).modules.switch(
            guild_id_of(interaction), await actor_of(interaction), feature, on=on)
        state = "on" if on else "off"
        label = FEATURES.get(feature, feature)
        if not changed:
            await reply(interaction, f"{label} was already {state}.", ephemeral=True)
            return
        note = "" if on else (" Its commands and buttons now answer that it is off and it stops "
                              "changing balances; money already owed (escrow, payouts, refunds) "
                              "still settles.")
        await reply(interaction, f"{label}: turned **{state}**.{note}", ephemeral=True)
