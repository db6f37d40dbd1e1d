"""The currency feature: balances, gifts, dailies, leaderboard, history, admin grants."""

from cogs.currency._cog import CurrencyAdminCog, CurrencyCog
from cogs.currency._views import HistoryButton, LeaderboardButton
from economy.currency.gifts import GiftDigest

#: How often queued gift DMs are looked at (each waits `gift_dm_minutes` first).
GIFT_DM_SWEEP_SECONDS = 30


async def setup(bot) -> None:
    """Register the cogs, their persistent buttons and the gift-DM sweep."""
    bot.add_dynamic_items(LeaderboardButton, HistoryButton)
    cog = CurrencyCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("gift-dm-sweep", cog.sweep_gift_dms, every_seconds=GIFT_DM_SWEEP_SECONDS)
    bot.guild_work.register("gift-dm", "currency", cog.deliver_gifts, notice_type=GiftDigest)
    await bot.add_cog(CurrencyAdminCog(bot))
