"""/dashboard: where the web dashboard is, and logging out of it everywhere (admins)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.interaction import actor_of, reply, services_of
from economy.core.wording import plural


class DashboardCog(commands.Cog):
    """The web dashboard's commands (a core admin command, hidden by Manage Server)."""

    group = app_commands.Group(name="dashboard", description="The GEMS web dashboard",
                               guild_only=True,
                               default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, bot) -> None:
        self.bot = bot

    @group.command(name="link", description="The address of the web dashboard")
    async def link(self, interaction: discord.Interaction):
        if not self.bot.settings.dashboard_enabled:
            await reply(interaction, "The web dashboard is not set up on this bot (its host "
                        "sets DASHBOARD_CLIENT_ID, DASHBOARD_CLIENT_SECRET and "
                        "DASHBOARD_SESSION_SECRET).", ephemeral=True)
            return
        await reply(interaction, f"Open {self.bot.web.public_url}/dashboard and log in with "
                    "Discord.", ephemeral=True)

    @group.command(name="logout-all",
                   description="Log yourself out of the web dashboard on every device")
    async def logout_all(self, interaction: discord.Interaction):
        ended = await services_of(interaction).dashboard.close_all_sessions(
            await actor_of(interaction))
        text = (f"Logged out of the web dashboard: {plural(ended, 'session')} ended."
                if ended else "You were not logged in to the web dashboard anywhere.")
        await reply(interaction, text, ephemeral=True)
