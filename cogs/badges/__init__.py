"""Badges: /badge-admin (create, give, revoke, rule); members see theirs under /profile."""

from cogs.badges._cog import BadgesCog
from cogs.badges._render import badge_line, list_embed

__all__ = ["badge_line", "list_embed", "setup"]


async def setup(bot) -> None:
    """Register the cog."""
    await bot.add_cog(BadgesCog(bot))
