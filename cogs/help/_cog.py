"""/help and the first-run welcome. Thin: the catalog comes from the command tree itself."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.feature_cog import FeatureCog
from cogs._shared.interaction import reply, safe_text
from cogs.help._renames import renamed_to
from cogs.help._views import HelpPageButton, detail_embed, overview_page, visible_commands
from cogs.help._welcome import send_welcome
from economy.core.errors import NotFound

log = logging.getLogger(__name__)


class HelpCog(FeatureCog):
    """What a member can run, and a welcome for the admin when the bot joins a server."""

    @app_commands.command(name="help", description="What you can do with GEMS, or one command in detail")
    @app_commands.describe(command="A command to explain, e.g. gems give (leave empty for all)")
    async def help(self, interaction: discord.Interaction, command: str | None = None):
        visible = visible_commands(interaction)
        if command:
            wanted = "/" + command.strip().lstrip("/").lower()
            match = next((c for c in visible if c.path == wanted), None)
            renamed = renamed_to(wanted) if match is None else None
            if renamed is not None:  # an old name (docs/renamed-commands.md)
                new = next((c for c in visible if c.path == f"/{renamed}"), None)
                await reply(interaction, f"`{safe_text(wanted, limit=60)}` was renamed to "
                            f"`/{renamed}`.", embed=detail_embed(new) if new else None,
                            ephemeral=True)
                return
            if match is None:
                raise NotFound(f"There is no command `{safe_text(wanted, limit=60)}` that you can "
                               "run here. `/help` lists them all.")
            await reply(interaction, embed=detail_embed(match), ephemeral=True)
            return
        embed, pages, page = overview_page(visible, 1)
        await reply(interaction, embed=embed, ephemeral=True,
                    view=HelpPageButton.view_for(interaction.user.id, page, pages))

    @help.autocomplete("command")
    async def _command_names(self, interaction: discord.Interaction, current: str):
        current = current.strip().lstrip("/").lower()
        names = [c.path[1:] for c in visible_commands(interaction) if current in c.path]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """The first time the bot joins a server, tell the admins how to set it up (once, even
        with several bot processes or a re-invite)."""
        if not await self.bot.services.onboarding.first_join(guild.id):
            return
        await send_welcome(guild)
