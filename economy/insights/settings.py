"""Settings section of insights: the anomaly thresholds and how far back /stats reaches."""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import Section


class InsightsSettings(Section):
    """Insights: daily rollups, /stats and anomaly flags for staff."""

    insights_flags: bool = Field(True, description="Post anomaly flags in the moderators' queue channel (dispute channel)")
    insights_earning_multiple: int = Field(10, ge=2, le=1_000, description="Flag a member who earns more than this many times the guild's median earner in one day")
    insights_earning_min: int = Field(500, ge=0, le=1_000_000_000, description="Only flag daily earnings of at least this many GEMS")
    insights_supply_jump_pct: int = Field(50, ge=1, le=10_000, description="Flag a day whose supply grew by more than this percent")
    insights_supply_min: int = Field(10_000, ge=0, le=1_000_000_000_000, description="Only judge supply jumps once the supply is at least this many GEMS")
    insights_dispute_rate_pct: int = Field(30, ge=1, le=100, description="Flag a seller whose disputed share of trades (last 30 days) passes this percent")
    insights_dispute_min_trades: int = Field(3, ge=1, le=1_000, description="Trades a seller needs in 30 days before their dispute rate is judged")
    insights_new_account_days: int = Field(7, ge=1, le=365, description="A member whose first GEMS activity is this recent counts as a new account")
    insights_new_traders: int = Field(5, ge=2, le=1_000, description="Flag a member who trades with this many new accounts in one day")
