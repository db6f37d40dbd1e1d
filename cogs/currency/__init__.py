"""The currency feature: balances, gifts, dailies, leaderboard, history, admin grants."""

from cogs.currency._cog import CurrencyAdminCog, CurrencyCog
from cogs.currency._views import HistoryButton, LeaderboardButton


async def setup(bot) -> None:
    """Register the cog and its persistent buttons."""
    bot.add_dynamic_items(LeaderboardButton, HistoryButton)
    await bot.add_cog(CurrencyCog(bot))
    await bot.add_cog(CurrencyAdminCog(bot))
