"""/setup: a two-step walkthrough of the settings every server should choose first."""

from cogs.setup_wizard._cog import SetupCog
from cogs.setup_wizard._views import SetupButton, SetupChannelSelect, SetupRoleSelect


async def setup(bot) -> None:
    """Register the cog and its persistent controls."""
    bot.add_dynamic_items(SetupButton, SetupRoleSelect, SetupChannelSelect)
    await bot.add_cog(SetupCog(bot))
