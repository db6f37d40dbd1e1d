"""Community goals: /goal with a live progress bar; contributors rewarded once."""

from cogs.goals._cog import GoalsCog
from economy.goals.service import GoalNotice


async def setup(bot) -> None:
    """Register the cog and the goal sweep."""
    cog = GoalsCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("goal-sweep", cog.sweep, every_seconds=60)
    # Results are posted by the process that owns the guild's shard.
    bot.guild_work.register("goal-announce", "goals", cog._announce, notice_type=GoalNotice)
