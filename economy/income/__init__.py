"""Role income: members holding a role earn GEMS each day or week (`/income-admin`), collected
with `/gems collect` or paid by the bot (`income_auto_pay`)."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.income.settings import IncomeSettings


def build(core: Core) -> dict[str, Any]:
    """The income service, built from the core."""
    from economy.income.repo import IncomeRepo
    from economy.income.service import IncomeService

    return {"income": IncomeService(IncomeRepo(core.db), core.ledger, core.settings,
                                    core.clock)}


FEATURE = Feature(
    name="income",
    label="Role income",
    settings=IncomeSettings,
    build=build,
)
