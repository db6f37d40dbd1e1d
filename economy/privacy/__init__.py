"""Data rights (/privacy): a member's export and deletion."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The privacy services, built from the core."""
    from economy.marketplace.repo import ListingRepo
    from economy.mentorship.repo import MentorshipRepo
    from economy.privacy.repo import PrivacyRepo
    from economy.privacy.service import PrivacyService
    from economy.repos.ledger_repo import LedgerRepo
    from economy.trades.repo import TradeRepo

    return {"privacy": PrivacyService(PrivacyRepo(core.db), LedgerRepo(core.db),
                                      TradeRepo(core.db), ListingRepo(core.db),
                                      core.built["marketplace"].listings, MentorshipRepo(core.db),
                                      core.clock)}


FEATURE = Feature(
    name="privacy",
    label="Data rights",
    switchable=False,
    build=build,
)
