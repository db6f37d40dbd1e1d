"""Escrow trades between members, with disputes resolved by moderators."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.trades.settings import TradesSettings


def build(core: Core) -> dict[str, Any]:
    """The trades services, built from the core: `trades` (offers, purchases, delivery,
    confirmation, cancels, timers), `disputes`, `ratings` and `trade_export`. They share one
    `TradeTransitions` (the guarded writes and the settlement); payments plug in the
    settlement of card trades (`trades.settle_cards_with`)."""
    from economy.marketplace.repo import ListingRepo
    from economy.trades.disputes import DisputeService
    from economy.trades.export import TradeExport
    from economy.trades.ratings import RatingService
    from economy.trades.repo import TradeRepo
    from economy.trades.trades import TradeService
    from economy.trades.transitions import TradeTransitions

    repo = TradeRepo(core.db)
    transitions = TradeTransitions(repo, core.ledger, core.settings, core.clock,
                                   listings=ListingRepo(core.db), signals=core.signals)
    ratings = RatingService(transitions)
    return {
        "trades": TradeService(transitions, ratings, members=core.members),
        "disputes": DisputeService(transitions),
        "ratings": ratings,
        "trade_export": TradeExport(repo, core.clock),
    }


FEATURE = Feature(
    name="trades",
    label="Trades",
    settings=TradesSettings,
    build=build,
    custom_id_prefixes=("trade",),
    settling_custom_ids=("trade:act:", "trade:delivered:", "trade:dispute:",),
    settling_commands=("trades-admin dispute", "trades dispute", "trades list", "trades view",),
)
