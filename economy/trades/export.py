"""Every trade of a guild as CSV for admins, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from economy.core.actor import Actor
from economy.core.clock import Clock
from economy.trades.models import Trade
from economy.trades.repo import TradeRepo


class TradeExport:
    """Writes the guild's trades as CSV and records each export in the audit log."""

    def __init__(self, repo: TradeRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def to_csv(self, guild_id: int, actor: Actor) -> str:
        """Every trade of the guild as CSV (admins of the guild), recorded in the audit log.

        Raises: NotPermitted (not an admin of the guild).
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["trade_id", "kind", "listing_id", "title", "buyer_id", "seller_id",
                         "price", "fee_bps", "status", "created_at", "delivered_at",
                         "completed_at", "dispute_reason", "resolution", "seller_share",
                         "currency"])  # gems, or a card currency (price in cents)
        for doc in await self._repo.all_for_guild(guild_id):
            t = Trade.model_validate(doc)
            res = t.resolution or {}
            writer.writerow([
                t.trade_id, t.kind, t.listing_id or "", csv_safe(t.title), t.buyer_id,
                t.seller_id, t.price, t.fee_bps, t.status, t.created_at.isoformat(),
                t.delivered_at.isoformat() if t.delivered_at else "",
                t.completed_at.isoformat() if t.completed_at else "",
                csv_safe((t.dispute or {}).get("reason") or ""), res.get("outcome", ""),
                res.get("to_seller", ""), t.currency,
            ])
        await self._repo.log({"guild_id": guild_id, "at": self._clock.now(), "actor_id": actor_id,
                              "action": "trades.export", "target": "trades", "details": {}})
        return out.getvalue()


def csv_safe(text: str) -> str:
    """`text` as a cell no spreadsheet runs as a formula."""
    # Spreadsheet apps run cells that start with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
