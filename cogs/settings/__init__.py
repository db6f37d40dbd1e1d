"""The settings feature: admins view and change per-guild settings (typed or clicked)."""

from cogs._shared.settings_pages import DYNAMIC_ITEMS
from cogs.settings._cog import SettingsCog


async def setup(bot) -> None:
    """Register the cog and the persistent controls of the settings pages (and /setup)."""
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(SettingsCog(bot))
