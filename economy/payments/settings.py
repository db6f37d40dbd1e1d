"""Settings section of payments: card payments (Stripe).

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from economy.core.sections import Section
from economy.payments.currencies import CARD_CURRENCIES as PAYMENT_CURRENCIES


class PaymentsSettings(Section):
    """Card payments (Stripe)."""

    payments_usd: bool = Field(False, description="Members can pay USD-priced listings by card (Stripe Checkout; needs the operator's Stripe keys)")
    payments_currency: str = Field("usd", description="Currency of card payments (a Stripe currency with a documented minimum charge: usd, eur, gbp, jpy, chf, ...; USD listings need usd)")
    payments_fee_bps: int = Field(500, ge=0, le=5000, description="Fee on card trades in basis points (500 = 5%), kept on the payment account")
    payments_payout_mode: Literal["connect", "manual"] = Field("manual", description="Pay sellers by Stripe Connect transfer (connect) or yourselves, recorded with /pay-admin paid (manual)")
    payments_packs: bool = Field(False, description="Members can buy GEMS packs by card (/pay packs)")

    @field_validator("payments_currency")
    @classmethod
    def _payment_currency(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in PAYMENT_CURRENCIES:
            raise ValueError(f"one of {', '.join(PAYMENT_CURRENCIES)}")
        return value
