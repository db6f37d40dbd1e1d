"""Escrow trades: buying listings, direct offers, trade rooms, disputes, ratings."""

from cogs.trades._cog import TradesAdminCog, TradesCog
from cogs.trades._rooms import TradeRooms
from cogs.trades._views import BuyButton, ConfirmBuyButton, OfferButton, TradeActionButton

#: What other cogs may use (a marketplace listing card carries the Buy button).
__all__ = ["BuyButton", "setup"]


async def setup(bot) -> None:
    """Register cogs, persistent buttons and the trade rooms (with the timer sweep)."""
    bot.add_dynamic_items(BuyButton, ConfirmBuyButton, OfferButton, TradeActionButton)
    await bot.add_cog(TradesCog(bot))
    await bot.add_cog(TradesAdminCog(bot))
    await bot.add_cog(TradeRooms(bot))  # the rooms, their notices and the timer sweep
