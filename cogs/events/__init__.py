"""Community events: RSVPs, check-ins, completion with winners, rewards on the ledger."""

from cogs.events._cog import EventsCog
from cogs.events._discord import EventDesk
from cogs.events._views import ConfirmWinnersButton, EventButton, WinnerSelect


async def setup(bot) -> None:
    """Register the cog, persistent buttons and the event sweep."""
    bot.add_dynamic_items(EventButton, WinnerSelect, ConfirmWinnersButton)
    await bot.add_cog(EventsCog(bot))
    await bot.add_cog(EventDesk(bot))  # posts, mirrored events, roles and the sweep
