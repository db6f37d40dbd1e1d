"""Data rights: /privacy export (a copy of your data by DM) and /privacy delete (anonymise)."""

from cogs.privacy._cog import PrivacyCog
from cogs.privacy._views import ConfirmDeleteButton


async def setup(bot) -> None:
    """Register the cog and its persistent confirm button."""
    bot.add_dynamic_items(ConfirmDeleteButton)
    await bot.add_cog(PrivacyCog(bot))
