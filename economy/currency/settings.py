"""Settings section of currency: the wallet: daily claims, earning by messages, giving, and the alt-farming limits.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import MAX_AMOUNT, Section


class CurrencySettings(Section):
    """The wallet: daily claims, earning by messages, giving, and the alt-farming limits."""

    daily_amount: int = Field(100, ge=1, le=1_000_000, description="GEMS for a daily claim")
    daily_streak_bonus: int = Field(10, ge=0, le=100_000, description="Extra GEMS per streak day")
    daily_streak_cap: int = Field(7, ge=0, le=365, description="Streak days that count for the bonus")
    daily_public: bool = Field(True, description="Post /gems daily claims in the channel (off: only the member sees theirs)")
    daily_reset_hour: int = Field(0, ge=0, le=23, description="Local hour at which the daily resets")
    activity_amount: int = Field(5, ge=0, le=10_000, description="GEMS per qualifying message (0 = off)")
    activity_cooldown_seconds: int = Field(60, ge=0, le=86_400, description="Seconds between earning messages")
    activity_min_length: int = Field(5, ge=0, le=2_000, description="Minimum message length that earns")
    activity_excluded_channels: list[int] = Field(default_factory=list, description="Channels that never earn")
    activity_excluded_roles: list[int] = Field(default_factory=list, description="Roles that never earn")
    max_transfer: int = Field(MAX_AMOUNT, ge=1, le=MAX_AMOUNT, description="Largest single /gems give")
    min_account_age_days: int = Field(7, ge=0, le=365, description="Discord account age (days) before a member earns, claims dailies or gives (0 = off)")
    min_member_days: int = Field(1, ge=0, le=365, description="Days in this server before a member earns, claims dailies or gives (0 = off)")
    give_daily_cap: int = Field(50_000, ge=1, le=MAX_AMOUNT, description="Most GEMS one member may give away per day")
    give_cooldown_seconds: int = Field(0, ge=0, le=86_400, description="Seconds a member waits between two /gems give (0 = off)")
    gift_dm_minutes: int = Field(2, ge=1, le=60, description="Gifts to one member within this many minutes arrive as one DM (at most one gift DM per window)")
    fanin_flag_senders: int = Field(3, ge=0, le=100, description="Young accounts giving to one member within 24 h before moderators are told (0 = off)")
    activity_repeat_memory: int = Field(5, ge=1, le=50, description="Recent messages a member can't repeat to earn")
