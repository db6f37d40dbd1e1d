"""Insights: /stats (charts, key numbers and CSVs) and the daily rollup job with its flags."""

from cogs.insights._cog import InsightsCog
from economy.insights.models import Flag


async def setup(bot) -> None:
    """Register the cog, the rollup job (the scheduler leader runs it) and the flag posts (the
    process that owns the guild's shard posts them)."""
    cog = InsightsCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("insights-rollup", cog.sweep, every_seconds=300)
    bot.guild_work.register("insights-flag", "insights", cog.post_flag, notice_type=Flag)
