"""The payments feature's services, reached as `services.payments.<part>.<method>`.

    stripe      the bot's Stripe connection: `configure` at start-up, `gateway`, `configured`
    checkout    quotes checked, USD listings reserved, Checkout links for listings and packs
    packs       the GEMS packs on sale (admins add and retire them)
    settlement  webhooks applied once (paid, mismatched, late, expired, refunded); the sweep
    payouts     Connect onboarding, what settled card trades owe (refund / transfer / manual),
                retries, manual payouts recorded
    reports     admin views: status, history (and CSV)
"""

from __future__ import annotations

from dataclasses import dataclass

from economy.core.clock import Clock
from economy.core.ledger import LedgerService
from economy.core.settings import SettingsService
from economy.marketplace.repo import ListingRepo
from economy.payments._shared import StripeLink
from economy.payments.checkout import CheckoutService
from economy.payments.packs import PackService
from economy.payments.payouts import PayoutService
from economy.payments.repo import PaymentRepo
from economy.payments.reports import ReportService
from economy.payments.settlement import SettlementService
from economy.repos.base import Database
from economy.trades.repo import TradeRepo
from economy.trades.trades import TradeService


@dataclass(frozen=True)
class Payments:
    """The payments feature's services (one object per seam, sharing one Stripe connection)."""

    stripe: StripeLink
    checkout: CheckoutService
    packs: PackService
    settlement: SettlementService
    payouts: PayoutService
    reports: ReportService


def build_payments(db: Database, escrow: TradeService, ledger: LedgerService,
                   settings: SettingsService, clock: Clock) -> Payments:
    """Wire the payments services over one database; `escrow` is the trades service card
    trades go through.

    Raises: nothing.
    """
    repo, trade_repo, listings = PaymentRepo(db), TradeRepo(db), ListingRepo(db)
    stripe = StripeLink()
    payouts = PayoutService(repo, trade_repo, settings, clock, stripe)
    checkout = CheckoutService(repo, trade_repo, listings, escrow, settings, clock, stripe,
                               payouts)
    return Payments(
        stripe=stripe,
        checkout=checkout,
        packs=PackService(repo, settings, clock),
        settlement=SettlementService(repo, trade_repo, listings, escrow, ledger, settings,
                                     clock, stripe, checkout, payouts),
        payouts=payouts,
        reports=ReportService(repo, settings, stripe),
    )
