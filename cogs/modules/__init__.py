"""Per-guild feature switches: /modules list | enable | disable (admins)."""

from cogs.modules._cog import ModulesCog


async def setup(bot) -> None:
    """Register the cog."""
    await bot.add_cog(ModulesCog(bot))
