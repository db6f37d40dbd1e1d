"""Badges: /badge (list, showcase, profile) and /badge-admin (create, give, revoke, rule)."""

from cogs.badges._cog import BadgesCog


async def setup(bot) -> None:
    """Register the cog."""
    await bot.add_cog(BadgesCog(bot))
