"""The settings feature: admins view and change per-guild settings (typed or clicked)."""

from cogs._shared.settings_pages import DYNAMIC_ITEMS
from cogs.settings._cog import SettingsCog
from cogs.settings._modules import ModulesGroup


async def setup(bot) -> None:
    """Register the cog (and `/settings modules`, the feature switches) and the persistent
    controls of the settings pages (and /setup)."""
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(SettingsCog(bot))
    bot.tree.get_command("settings").add_command(ModulesGroup())
