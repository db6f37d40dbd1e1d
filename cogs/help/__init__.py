"""/help: what the member can run, and one command in detail; the welcome when the bot joins."""

from cogs.help._cog import HelpCog
from cogs.help._renames import RENAMED, renamed_to
from cogs.help._views import HelpPageButton

#: What other packages may use (the rename map: docs, devtools/rename_commands.py, tests).
__all__ = ["RENAMED", "renamed_to", "setup"]


async def setup(bot) -> None:
    """Register the cog and its page buttons."""
    bot.add_dynamic_items(HelpPageButton)
    await bot.add_cog(HelpCog(bot))
