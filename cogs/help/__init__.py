"""/help: what the member can run, and one command in detail; the welcome when the bot joins."""

from cogs.help._cog import HelpCog
from cogs.help._views import HelpPageButton


async def setup(bot) -> None:
    """Register the cog and its page buttons."""
    bot.add_dynamic_items(HelpPageButton)
    await bot.add_cog(HelpCog(bot))
