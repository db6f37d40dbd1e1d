"""Escrow trades: buying listings, direct offers, trade rooms, disputes, ratings."""

from cogs.trades._cog import DisputesCog, TradesAdminCog, TradesCog
from cogs.trades._rooms import TradeRooms
from cogs.trades._views import BuyButton, ConfirmBuyButton, OfferButton, TradeActionButton
from economy.trades.models import SweepEvent

#: What other cogs may use (a marketplace listing card carries the Buy button).
__all__ = ["BuyButton", "setup"]


async def setup(bot) -> None:
    """Register cogs, persistent buttons and the timer sweep."""
    bot.trade_rooms = TradeRooms(bot)
    bot.add_dynamic_items(BuyButton, ConfirmBuyButton, OfferButton, TradeActionButton)
    await bot.add_cog(TradesCog(bot))
    await bot.add_cog(DisputesCog(bot))
    await bot.add_cog(TradesAdminCog(bot))
    bot.jobs.add("escrow-sweep", bot.trade_rooms.sweep, every_seconds=60)
    bot.guild_work.register("trade-announce", "trades", bot.trade_rooms.announce,
                            notice_type=SweepEvent)
