"""Raffles: staff create a raffle (prize, ticket price, per-member cap, end); members buy
tickets with GEMS (`/shop raffles`, `/shop tickets`); a verifiable draw picks the winners."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.raffles.settings import RaffleSettings


def build(core: Core) -> dict[str, Any]:
    """The raffle service, built from the core."""
    from economy.raffles.repo import RaffleRepo
    from economy.raffles.service import RaffleService

    # Item prizes are given by the shop's own grant (built before raffles, see the registry).
    return {"raffles": RaffleService(RaffleRepo(core.db), core.ledger, core.settings,
                                     core.clock, shop=core.built.get("shop"))}


FEATURE = Feature(
    name="raffles",
    label="Raffles",
    settings=RaffleSettings,
    build=build,
    custom_id_prefixes=("raffle",),
)
