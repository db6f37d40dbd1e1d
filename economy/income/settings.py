"""Settings section of role income: collected by members, or paid by the bot.

Part of the guild settings (economy/registry.py composes them); keys are stored flat.
"""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import Section


class IncomeSettings(Section):
    """Role income: members holding a role earn GEMS each day or week."""

    income_auto_pay: bool = Field(False, description="Pay role income automatically each period (off: members collect it with /gems collect)")
