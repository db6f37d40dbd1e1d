"""Raffles: /raffle-admin (create, cancel, list) and the sweep that draws ended raffles, finishes
cancellations' refunds and announces results. Members buy tickets under /shop (`/shop raffles`,
`/shop tickets`): the grammar keeps the number of top-level member commands down."""

from cogs.raffles._cog import RaffleNotice, RafflesCog, RefundNotice
from cogs.raffles._render import raffle_line

SWEEP_SECONDS = 60

__all__ = ["RaffleNotice", "RafflesCog", "raffle_line", "setup"]


async def setup(bot) -> None:
    """Register the cog, the sweep (one process: the scheduler lease holder) and the result
    posts (on the process owning the guild)."""
    cog = RafflesCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("raffle-sweep", cog.sweep, every_seconds=SWEEP_SECONDS)
    bot.guild_work.register("raffle-result", "raffles", cog.announce, notice_type=RaffleNotice)
    bot.guild_work.register("raffle-refunds", "raffles", cog.tell_refunds,
                            notice_type=RefundNotice)
