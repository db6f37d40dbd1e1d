"""Card payments (Stripe): USD-priced listings and GEMS packs."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.payments.settings import PaymentsSettings


def build(core: Core) -> dict[str, Any]:
    """The payments services, built from the core."""
    from economy.marketplace.repo import ListingRepo
    from economy.payments.repo import PaymentRepo
    from economy.payments.service import PaymentsService
    from economy.trades.repo import TradeRepo

    trades = core.built["trades"]
    payments = PaymentsService(PaymentRepo(core.db), TradeRepo(core.db), ListingRepo(core.db),
                               trades, core.ledger, core.settings, core.clock)
    trades.settle_cards_with(payments)  # card trades settle through the payments service
    return {"payments": payments}


FEATURE = Feature(
    name="payments",
    label="Card payments",
    settings=PaymentsSettings,
    build=build,
)
