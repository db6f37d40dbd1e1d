"""The marketplace feature: listings, approval, browse and search, wishlists, alerts, expiry."""

from cogs.marketplace._cog import MarketplaceCog
from cogs.marketplace._views import ALL_ITEMS
from economy.marketplace.models import Notice, PublishResult

SWEEP_SECONDS = 300


async def setup(bot) -> None:
    """Register the cog, its persistent buttons and the expiry/reminder sweep job."""
    bot.add_dynamic_items(*ALL_ITEMS)
    cog = MarketplaceCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("marketplace-sweep", cog.sweep, every_seconds=SWEEP_SECONDS)
    bot.guild_work.register("market-dm", "marketplace", cog.deliver_one, notice_type=Notice)
    bot.guild_work.register("market-reviewed", "marketplace", cog.after_review,
                            notice_type=PublishResult)
