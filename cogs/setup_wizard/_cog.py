"""The /setup command (admins). Thin: render the first step; the controls do the rest."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.interaction import NO_PINGS, require_admin
from cogs.setup_wizard._views import render_step


class SetupCog(commands.Cog):
    """Walks an admin through currency, roles and channels."""

    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="setup", description="Walk through the essential settings (admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def setup_command(self, interaction: discord.Interaction):
        settings = await require_admin(interaction)
        embed, view = render_step(1, settings)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True,
                                                allowed_mentions=NO_PINGS)
