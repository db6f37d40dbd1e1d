"""Badges: /badge-admin (create, give, revoke, rule); members see theirs under /profile."""

from cogs.badges._cog import BadgesCog
from cogs.badges._render import badge_line, list_embed

__all__ = ["badge_line", "list_embed", "setup"]


async def setup(bot) -> None:
    """Register the cog and its jobs (backfill, role rewards)."""
    cog = BadgesCog(bot)
    await bot.add_cog(cog)
    # Per process: each process backfills the servers of its own shards.
    bot.jobs.add("badge-backfill", cog.backfill, every_seconds=60, per_process=True)
    bot.jobs.add("badge-roles", cog.grant_roles, every_seconds=30, per_process=True)
