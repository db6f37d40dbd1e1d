"""Daily challenges: today's set, answers, history, pool management, progress from chat."""

from cogs.challenges._boards import BOARD_BUTTONS
from cogs.challenges._cog import ChallengeAdminCog, ChallengeCog
from cogs.challenges._views import AcceptButton, VoteButton


async def setup(bot) -> None:
    """Register the cogs and the progress flush / daily sweep jobs."""
    bot.add_dynamic_items(VoteButton, AcceptButton, *BOARD_BUTTONS.values())
    cog = ChallengeCog(bot)
    await bot.add_cog(cog)
    await bot.add_cog(ChallengeAdminCog(bot))
    bot.jobs.add("challenge-progress-flush", bot.services.challenge_progress.flush,
                 every_seconds=bot.settings.challenge_flush_seconds, per_process=True,
                 flush_on_stop=True)
    # Per process: each process draws and announces for the guilds of its own shards.
    bot.jobs.add("challenge-sweep", cog.sweep, every_seconds=60, per_process=True)
