"""/my: a member's own preferences (today: their time zone, the one place it is asked; every
time option and mentoring hours read it, and it sets their streak days)."""

from __future__ import annotations

import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, member_group
from cogs._shared.interaction import guild_id_of, reply, services_of
from economy.core.member_prefs import suggest_zones


async def _zones(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in suggest_zones(current)]


class ProfileCog(FeatureCog):
    """Member settings."""

    my = member_group("my", "Your own settings")

    @my.command(name="timezone", description="Show or set your time zone (for times you type and your streak days)")
    @app_commands.describe(zone="An IANA time zone like Europe/Paris, or `reset` for the server's")
    @app_commands.autocomplete(zone=_zones)
    async def timezone(self, interaction: discord.Interaction,
                       zone: app_commands.Range[str, 1, 64] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        prefs = services.member_prefs
        if zone is None:
            own = await prefs.own_zone(guild_id, interaction.user.id)
            server = (await services.settings.get(guild_id)).timezone
            text = (f"Your time zone is `{own}`." if own else
                    f"You use the server's time zone (`{server}`). Set yours with `/my timezone Europe/Paris`.")
            await reply(interaction, text, ephemeral=True)
            return
        stored = await prefs.set_zone(guild_id, interaction.user.id, zone)
        text = (f"Your time zone is now `{stored}`: times you type (like `tomorrow 18:00`) and "
                "mentoring hours you register from now on are read there, and your challenge "
                "streak counts your days there."
                if stored else "Your time zone now follows the server's.")
        await reply(interaction, text, ephemeral=True)
