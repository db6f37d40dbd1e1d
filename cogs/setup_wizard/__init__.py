"""/setup: a walk through the essential settings of every feature switched on."""

from cogs._shared.settings_pages import DYNAMIC_ITEMS
from cogs.setup_wizard._cog import SetupCog


async def setup(bot) -> None:
    """Register the cog and its persistent controls (shared with /settings edit)."""
    bot.add_dynamic_items(*DYNAMIC_ITEMS)  # idempotent: keyed by template
    await bot.add_cog(SetupCog(bot))
