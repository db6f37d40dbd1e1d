"""Card payments (Stripe): USD-priced listings and GEMS packs."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.payments.settings import PaymentsSettings


def build(core: Core) -> dict[str, Any]:
    """The payments services, built from the core: one namespace, `services.payments`
    (`.stripe`, `.checkout`, `.packs`, `.settlement`, `.payouts`, `.reports`; see
    economy/payments/services.py)."""
    from economy.payments.services import build_payments

    trades = core.built["trades"]
    payments = build_payments(core.db, trades, core.ledger, core.settings, core.clock)
    trades.settle_cards_with(payments.payouts)  # card trades settle through the payouts service
    return {"payments": payments}


FEATURE = Feature(
    name="payments",
    label="Card payments",
    settings=PaymentsSettings,
    build=build,
)
