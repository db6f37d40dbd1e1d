"""The settings feature: admins view and change per-guild settings."""

from cogs.settings._cog import SettingsCog
from cogs.settings._modules import ModulesGroup


async def setup(bot) -> None:
    """Register the cog (and `/settings modules`, the feature switches)."""
    await bot.add_cog(SettingsCog(bot))
    bot.tree.get_command("settings").add_command(ModulesGroup())
