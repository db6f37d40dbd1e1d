"""The /setup command (admins). Thin: render the first step; the shared controls do the rest.

The steps are derived from the settings sections (cogs/_shared/settings_fields.py): for every
feature switched on, its channels, roles and switches, and a form for its first numbers. A
feature switched off (even in the first step) has no step.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.interaction import NO_PINGS, require_admin
from cogs._shared.settings_pages import render, setup_steps


class SetupCog(commands.Cog):
    """Walks an admin through the essentials of every enabled feature."""

    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="setup", description="Walk through the essential settings (admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def setup_command(self, interaction: discord.Interaction):
        settings = await require_admin(interaction)
        section, part = setup_steps(settings)[0]
        embed, view = render(settings, section, part, setup=True)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True,
                                                allowed_mentions=NO_PINGS)
