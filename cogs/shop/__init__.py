"""The shop: /shop (browse, buy, inventory, use) and /shop-admin (add, edit, remove, restock,
list), its persistent buttons and the sweep of timed roles."""

from cogs.shop._cog import ShopCog
from cogs.shop._roles import deliver
from cogs.shop._tickets import post_ticket
from cogs.shop._views import DYNAMIC_ITEMS

SWEEP_SECONDS = 60

__all__ = ["DYNAMIC_ITEMS", "ShopCog", "deliver", "post_ticket", "setup"]


async def setup(bot) -> None:
    """Register the cog, its buttons and the role sweep."""
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    cog = ShopCog(bot)
    await bot.add_cog(cog)
    bot.jobs.add("shop-sweep", cog.sweep, every_seconds=SWEEP_SECONDS, per_process=True)
