"""Seasonal celebrations: /season, seasonal leaderboards, end-of-season winners, anniversaries."""

from cogs.seasons._cog import SeasonsCog, season_board
from economy.seasons.service import SeasonNotice

#: What other cogs may use.
__all__ = ["season_board", "setup"]


async def setup(bot) -> None:
    """Register the cog and the season sweep."""
    cog = SeasonsCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("season-sweep", cog.sweep, every_seconds=60)
    bot.guild_work.register("season-announce", "seasons", cog._announce, notice_type=SeasonNotice)
    # Per process: anniversaries need the member list, which each process has for its shards.
    bot.jobs.add("anniversaries", cog.anniversaries, every_seconds=900, per_process=True)
