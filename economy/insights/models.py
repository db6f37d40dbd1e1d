"""What insights returns: daily rollups, retention cohorts, a member's own series, flags, reports.

Plain pydantic records (the dashboard reads them through `services.insights`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CategoryStats(BaseModel):
    """The marketplace of one category on one day."""

    model_config = ConfigDict(frozen=True)

    category: str
    listings: int = 0  # listings created that day
    sales: int = 0  # listings sold that day
    volume: int = 0  # GEMS of those sales
    median_price: int = 0  # median GEMS price of those sales (0: no sale)


class DailyRollup(BaseModel):
    """One guild-local day of one guild (the day starts at the guild's daily reset hour).

    GEMS amounts are integers; `supply`, `escrow_held`, `members` and `gini` describe the end of
    the day. Members are accounts of people (not the treasury, its shards or deleted members).
    """

    model_config = ConfigDict(frozen=True)

    guild_id: int
    day: str  # ISO date of the guild-local day
    start_ms: int
    end_ms: int
    minted: int = 0  # GEMS created (earnings, grants, card purchases, mint refunds)
    burned: int = 0  # GEMS destroyed (spending into the void, admin takes)
    transferred: int = 0  # GEMS moved member to member (gifts, escrow releases to sellers)
    earned: int = 0  # GEMS members earned (messages, dailies, rewards)
    escrow_held: int = 0  # GEMS held in escrow at the end of the day
    supply: int = 0  # every account's GEMS (balance + held) at the end of the day
    velocity: float = 0.0  # transferred / supply
    gini: float = 0.0  # Gini coefficient of members' GEMS (0 = equal, 1 = one holds all)
    members: int = 0  # members with an account at the end of the day
    new_members: int = 0  # members whose first GEMS activity was this day
    active: int = 0  # members who earned, spent or traded
    active_earned: int = 0
    active_spent: int = 0
    active_traded: int = 0
    weekly_active: int = 0  # members active in the 7 days ending with this one
    median_earned: int = 0  # median GEMS earned by the members who earned
    messages_earned: int = 0  # estimated: activity GEMS / the per-message amount
    listings: int = 0
    sales: int = 0
    sales_volume: int = 0
    categories: tuple[CategoryStats, ...] = ()
    escrow_released: int = 0
    escrow_refunded: int = 0
    escrow_split: int = 0
    disputes_opened: int = 0
    dispute_rate: float = 0.0  # disputes opened / escrow trades settled (0 when none settled)
    event_attendance: int = 0
    challenge_completions: int = 0
    mentorship_matches: int = 0
    mentorship_milestones: int = 0
    card_revenue: dict[str, int] = Field(default_factory=dict)  # currency -> minor units


class Cohort(BaseModel):
    """Members whose first GEMS activity fell in one ISO week, and who came back."""

    model_config = ConfigDict(frozen=True)

    week: str  # Monday of the week, ISO date
    size: int
    retention: tuple[float, ...]  # share active in week 0, 1, 2, ... after


class MemberDay(BaseModel):
    """A member's own GEMS in and out on one guild-local day."""

    model_config = ConfigDict(frozen=True)

    day: str
    earned: int = 0  # GEMS in (every credit)
    spent: int = 0  # GEMS out (every debit), a positive number


class Flag(BaseModel):
    """An anomaly found by a rollup, posted once to the moderators' queue."""

    model_config = ConfigDict(frozen=True)

    flag_id: str
    guild_id: int
    kind: str  # earning | supply | disputes | new_accounts
    day: str
    user_id: int | None = None
    text: str


class StatsReport(BaseModel):
    """What /stats shows: a chart, the key numbers and a CSV."""

    model_config = ConfigDict(frozen=True)

    title: str
    days: int  # days shown (fewer than asked when the rollups start later)
    numbers: tuple[tuple[str, str], ...]
    png: bytes
    csv: str
    filename: str
