"""Escrow trades between members, with disputes resolved by moderators."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.trades.settings import TradesSettings


def build(core: Core) -> dict[str, Any]:
    """The trades services, built from the core."""
    from economy.marketplace.repo import ListingRepo
    from economy.trades.repo import TradeRepo
    from economy.trades.service import EscrowService

    escrow = EscrowService(TradeRepo(core.db), core.ledger, core.settings, core.clock,
                           listings=ListingRepo(core.db), members=core.members)
    return {"escrow": escrow}


FEATURE = Feature(
    name="trades",
    label="Trades",
    settings=TradesSettings,
    build=build,
    custom_id_prefixes=("trade",),
    settling_custom_ids=("trade:act:", "trade:delivered:", "trade:dispute:",),
    settling_commands=("trades-admin dispute", "trades dispute", "trades list", "trades view",),
)
