"""Member preferences: `/profile timezone`."""

from cogs.profile._cog import ProfileCog


async def setup(bot) -> None:
    """Register the cog."""
    await bot.add_cog(ProfileCog(bot))
