"""Ratings between the two sides of a finished trade, and a member's reputation as a trader."""

from __future__ import annotations

from economy.core.errors import AlreadyRecorded, InvalidInput, NotPermitted
from economy.core.text import clean_text
from economy.trades.models import TEXT_MAX, RatingSummary, Trade, TradeUnavailable
from economy.trades.transitions import TradeTransitions


class RatingService:
    """Rates trades (once per side) and summarises what a member received."""

    def __init__(self, transitions: TradeTransitions) -> None:
        self._t = transitions
        self._repo = transitions.repo
        self._clock = transitions.clock

    async def rate(self, guild_id: int, trade_id: int, rater_id: int, stars: int,
                   text: str | None = None) -> Trade:
        """Rate the other side of a finished trade, once.

        Raises: InvalidInput, NotFound, NotPermitted, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        role = trade.role_of(rater_id)
        if role is None:
            raise NotPermitted("Only the buyer and the seller can rate this trade.")
        if trade.status not in ("completed", "resolved"):
            raise TradeUnavailable("You can rate a trade once it is completed.")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise InvalidInput("Stars go from 1 to 5.")
        text = clean_text(text, TEXT_MAX, "review")
        ratee = trade.seller_id if role == "buyer" else trade.buyer_id
        try:
            await self._repo.add_rating({
                "guild_id": guild_id, "trade_id": trade_id, "rater_id": rater_id,
                "ratee_id": ratee, "role": role, "stars": stars, "text": text,
                "at": self._clock.now(),
            })
        except AlreadyRecorded:
            raise InvalidInput("You already rated this trade.") from None
        await self._t.signals.send("trade_rated", guild_id, ratee)
        return trade

    async def recent_reviews(self, guild_id: int, user_id: int, limit: int = 5) -> list[tuple[int, str]]:
        """(stars, text) of the latest written reviews a member received.

        Raises: nothing expected.
        """
        docs = await self._repo.reviews_for(guild_id, user_id, limit=limit)
        return [(d["stars"], d["text"]) for d in docs if d.get("text")]

    async def summary(self, guild_id: int, user_id: int) -> RatingSummary:
        """How a member is rated as a trading partner.

        Raises: nothing expected.
        """
        n, stars = await self._repo.rating_summary(guild_id, user_id)
        completed = await self._repo.completed_count(guild_id, user_id)
        return RatingSummary(count=n, stars_total=stars, completed_trades=completed)
