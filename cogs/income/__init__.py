"""Role income: /income-admin (add, remove, list) and the job that pays it automatically where
the server turned `income_auto_pay` on. Members collect with `/gems collect` (the wallet's
group: the grammar keeps the number of top-level member commands down)."""

from cogs.income._cog import IncomeCog

SWEEP_SECONDS = 600

__all__ = ["IncomeCog", "setup"]


async def setup(bot) -> None:
    """Register the cog and the automatic payment (one process: the scheduler lease holder)."""
    cog = IncomeCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("income-pay", cog.pay_due, every_seconds=SWEEP_SECONDS)
