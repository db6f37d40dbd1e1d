"""Seasonal celebrations: /season, seasonal leaderboards, end-of-season winners, anniversaries."""

from cogs.seasons._cog import SeasonsCog


async def setup(bot) -> None:
    """Register the cog and the season sweep."""
    cog = SeasonsCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("season-sweep", cog.sweep, every_seconds=60)
    bot.jobs.add("anniversaries", cog.anniversaries, every_seconds=900)
