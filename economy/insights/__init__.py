"""Insights: daily rollups of each guild's economy, retention cohorts, anomaly flags, /stats.

Read API (`services.insights`, an `economy.insights.service.InsightsService`), for /stats and the
web dashboard:
- `await daily(guild_id, days) -> list[DailyRollup]`: the stored rollups of the last `days`
  complete guild-local days, oldest first (`economy/insights/models.py` lists every field).
- `await cohorts(guild_id, weeks=8) -> list[Cohort]`: retention by week of first activity.
- `await member_days(guild_id, user_id, days) -> list[MemberDay]`: one member's in and out.
- `chart(title, days, series) -> bytes`: a PNG line chart (`series`: (name, values) pairs).
- `await staff_stats(guild_id, actor, view, days)` / `await my_stats(...) -> StatsReport`: a
  chart, the key numbers and a formula-safe CSV.
Computing: `await run_due(guild_ids)` (the job, at each guild's reset hour + 5 minutes),
`await rollup(guild_id, first, last)` and `await backfill(since, guild_ids)` (`./gems rollup`).
"""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.insights.settings import InsightsSettings


def build(core: Core) -> dict[str, Any]:
    """The insights service, reading the other features through their repositories."""
    from economy.challenges.repo import ChallengeRepo
    from economy.events.repo import EventRepo
    from economy.insights.repo import InsightsRepo
    from economy.insights.rollup import Sources
    from economy.insights.service import InsightsService
    from economy.marketplace.repo import ListingRepo
    from economy.mentorship.repo import MentorshipRepo
    from economy.payments.repo import PaymentRepo
    from economy.repos.ledger_repo import LedgerRepo
    from economy.trades.repo import TradeRepo

    db = core.db
    sources = Sources(ledger=LedgerRepo(db), listings=ListingRepo(db), trades=TradeRepo(db),
                      events=EventRepo(db), challenges=ChallengeRepo(db),
                      mentorship=MentorshipRepo(db), payments=PaymentRepo(db))
    return {"insights": InsightsService(InsightsRepo(db), sources, core.settings, core.clock)}


FEATURE = Feature(
    name="insights",
    label="Insights",
    settings=InsightsSettings,
    build=build,
    # A snapshot chunk holds 20,000 members' GEMS and an active set a day's members: a member's
    # /privacy export must not carry them; /privacy delete re-points the member's id in them.
    shared_collections=frozenset({"insights_snapshots", "insights_active"}),
)
