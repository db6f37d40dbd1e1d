"""Abuse limits on new trades: repeated trades between one pair (`escrow_wash_trade_*`, refused
when `escrow_wash_trade_block` is on; flagged to moderators on completion in
economy/trades/transitions.py) and the cap on members with few completed trades."""

from __future__ import annotations

from datetime import timedelta

from economy.core.clock import Clock
from economy.core.errors import NotPermitted
from economy.core.settings import GuildSettings
from economy.trades.repo import TradeRepo


class TradeLimits:
    """Checks a new trade (an offer, an accepted offer, a purchase) against the guild's limits."""

    def __init__(self, repo: TradeRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def check_pair(self, guild_id: int, buyer_id: int, seller_id: int,
                         settings: GuildSettings) -> None:
        """With `escrow_wash_trade_block` on, a pair over the repeated-trade limit can't trade.

        Raises: NotPermitted.
        """
        if not settings.escrow_wash_trade_block:
            return
        since = self._clock.now() - timedelta(days=settings.escrow_wash_trade_days)
        if await self._repo.recent_pair_trades(guild_id, buyer_id, seller_id, since) \
                >= settings.escrow_wash_trade_count:
            raise NotPermitted(
                f"You two completed {settings.escrow_wash_trade_count} or more trades in "
                f"{settings.escrow_wash_trade_days} days, which this server limits (repeated "
                "trades between the same pair). Ask a moderator if this is a mistake.")

    async def check(self, guild_id: int, buyer_id: int, seller_id: int, price: int,
                    settings: GuildSettings) -> None:
        """Refuse a pair over the repeated-trade limit, and a price over the new-trader cap when
        either side has fewer completed trades than `escrow_new_member_trades`.

        Raises: NotPermitted.
        """
        await self.check_pair(guild_id, buyer_id, seller_id, settings)
        if price <= settings.escrow_new_member_max:
            return
        for user_id in (buyer_id, seller_id):
            if await self._repo.completed_count(guild_id, user_id) < settings.escrow_new_member_trades:
                raise NotPermitted(
                    f"Members with fewer than {settings.escrow_new_member_trades} completed trades "
                    f"can trade up to {settings.money(settings.escrow_new_member_max)} at a time."
                )
