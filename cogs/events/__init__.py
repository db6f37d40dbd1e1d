"""Community events: RSVPs, check-ins, completion with winners, rewards on the ledger."""

from cogs.events._cog import EventsCog
from cogs.events._discord import EventDesk
from cogs.events._views import ConfirmWinnersButton, EventButton, WinnerSelect


async def setup(bot) -> None:
    """Register the cog, persistent buttons and the event sweep."""
    bot.event_desk = EventDesk(bot)
    bot.event_desk.register_work()
    bot.add_dynamic_items(EventButton, WinnerSelect, ConfirmWinnersButton)
    await bot.add_cog(EventsCog(bot))
    bot.jobs.add("event-sweep", bot.event_desk.sweep, every_seconds=60)
