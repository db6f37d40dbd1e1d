"""Double-GEMS weekends and one-off earning boosts (/boost-admin), with start/end announcements."""

from cogs.boosts._cog import BoostsCog
from economy.boosts.service import BoostNotice


async def setup(bot) -> None:
    """Register the cog and the announcement sweep."""
    cog = BoostsCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("boost-announce", cog.sweep, every_seconds=60)
    bot.guild_work.register("boost-announce", "boosts", cog.announce, notice_type=BoostNotice)
