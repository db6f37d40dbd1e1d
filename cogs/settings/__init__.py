"""The settings feature: admins view and change per-guild settings."""

from cogs.settings._cog import SettingsCog


async def setup(bot) -> None:
    """Register the cog."""
    await bot.add_cog(SettingsCog(bot))
