"""The wallet (/gems): balances, daily claims, earning by messages, gifts."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.currency.settings import CurrencySettings


def build(core: Core) -> dict[str, Any]:
    """The currency services, built from the core."""
    from economy.currency.activity import ActivityService
    from economy.currency.gifts import GiftService
    from economy.currency.repo import GiftNoticeRepo
    from economy.currency.review import MemberReviewService
    from economy.nft.wallet_repo import WalletRepo
    from economy.repos.ledger_repo import LedgerRepo
    from economy.repos.member_repo import MemberRepo
    from economy.trades.repo import TradeRepo

    boosts = core.shared["boosts"]
    from economy.currency.admin import EconomyAdminService
    from economy.currency.importing.service import EconomyImportService

    return {
        "economy_import": EconomyImportService(core.ledger, LedgerRepo(core.db)),
        "economy_admin": EconomyAdminService(core.ledger, LedgerRepo(core.db), core.settings,
                                             core.clock),
        "activity": ActivityService(core.ledger, core.settings, core.clock, boosts=boosts),
        "gifts": GiftService(core.ledger, LedgerRepo(core.db), MemberRepo(core.db), core.settings,
                             core.clock, notices=GiftNoticeRepo(core.db)),
        # Staff's look at one member reads the trades' and wallets' repositories directly: it
        # works whatever those features' switches say (records stay records).
        "member_review": MemberReviewService(core.ledger, TradeRepo(core.db), MemberRepo(core.db),
                                             WalletRepo(core.db), core.settings, core.clock),
    }


FEATURE = Feature(
    name="currency",
    label="The wallet",
    switchable=False,
    settings=CurrencySettings,
    build=build,
    personal_collections=frozenset({"member_quotas", "member_prefs", "gift_notices"}),
)
