"""Insights rollups against the embedded store: hand-computed days, idempotency (a day twice,
two concurrent runs, the job and a backfill agree), the snapshot path equals a full recompute,
Gini/median/velocity edge cases, cohorts and anomaly flags posted once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from economy.core.actor import Actor
from economy.insights import metrics

pytestmark = pytest.mark.timeout(120)
G = 2701
A, B, C = 11, 12, 13
#: The admin who seeds and configures (ids as in the guild).
ADMIN = Actor(1, is_admin=True)
DAY1 = date(2026, 3, 1)


def test_gini_median_velocity_edge_cases():
    assert metrics.gini([]) == 0.0  # no members
    assert metrics.gini([500]) == 0.0  # one member
    assert metrics.gini([7, 7, 7, 7]) == 0.0  # all equal
    assert metrics.gini([0, 0]) == 0.0  # nobody holds anything
    assert metrics.gini([0, 100]) == 0.5  # one of two holds all: (n-1)/n
    assert metrics.gini([0, 0, 0, 100]) == 0.75
    assert metrics.gini([1, 2, 3, 4]) == 0.25
    assert metrics.median([]) == 0 and metrics.median([5]) == 5
    assert metrics.median([1, 9, 3]) == 3 and metrics.median([1, 2, 3, 10]) == 2
    assert metrics.velocity(100, 0) == 0.0 and metrics.velocity(50, 200) == 0.25


async def day_one(services, clock) -> None:
    """Day 1 (UTC, reset hour 0): grants 1000 to A and B, A gives B 200, A earns 40,
    B holds 300 for a trade with C and it is released (fee 0), B burns 50 in the shop."""
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    led = services.ledger
    await led.grant(G, ADMIN, A, 1000, reason="seed", key="g:a")
    await led.grant(G, ADMIN, B, 1000, reason="seed", key="g:b")
    await led.transfer(G, A, B, 200, key="t:1")
    await led.earn(G, A, 40, key="e:1", kind="reward")
    await led.hold(G, B, 300, key="h:1", ref="trade:1")
    await led.settle_hold(G, buyer_id=B, seller_id=C, amount=300, to_seller=300, fee=0,
                          key="s:1", ref="trade:1")
    await led.spend(G, B, 50, key="sp:1", ref="shop:1", burn=True)


async def test_a_day_matches_the_hand_computed_numbers(services, clock):
    await day_one(services, clock)
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))  # the day ended over 5 minutes ago
    (day,) = await services.insights.rollup(G, DAY1)
    assert day.day == "2026-03-01"
    assert (day.minted, day.burned, day.earned) == (2040, 50, 40)
    assert day.transferred == 200 + 300  # the gift and the escrow release
    assert day.supply == 1990 and day.escrow_held == 0
    # A: 1000 - 200 + 40 = 840; B: 1000 + 200 - 300 - 50 = 850; C: 300.
    assert day.members == 3 and day.new_members == 3
    assert day.gini == metrics.gini([840, 850, 300])
    assert day.velocity == round(500 / 1990, 6)
    assert (day.active_earned, day.active_spent, day.active_traded) == (1, 1, 3)
    assert day.active == 3 and day.weekly_active == 3
    assert day.escrow_released == 1 and day.escrow_refunded == 0 and day.median_earned == 40
    # Nothing happens on day 2: the numbers carry over, nobody is new or active.
    clock.set(datetime(2026, 3, 3, 1, tzinfo=UTC))
    (second,) = await services.insights.rollup(G, DAY1 + timedelta(days=1))
    assert second.supply == 1990 and second.members == 3 and second.new_members == 0
    assert second.active == 0 and second.weekly_active == 3 and second.minted == 0


async def test_recomputing_gives_the_same_documents(services, clock):
    await day_one(services, clock)
    clock.set(datetime(2026, 3, 2, 12, tzinfo=UTC))
    await services.ledger.transfer(G, B, A, 100, key="t:2")
    clock.set(datetime(2026, 3, 4, 1, tzinfo=UTC))
    first = await services.insights.rollup(G, DAY1)  # days 1..3, snapshot at the end of day 3
    again = await services.insights.rollup(G, DAY1, DAY1)  # day 1 from the later snapshot
    assert again[0] == first[0]
    both = await asyncio.gather(services.insights.rollup(G, DAY1),
                                services.insights.rollup(G, DAY1))
    assert both[0] == both[1] == first
    stored = await services.insights.daily(G, 3)
    assert stored == first
    assert await services.db["insights_daily"].count_documents({"guild_id": G}) == 3


async def test_the_job_rolls_up_the_days_that_ended_once(services, clock):
    await day_one(services, clock)
    clock.set(datetime(2026, 3, 2, 0, 3, tzinfo=UTC))  # within the grace: not yet
    assert await services.insights.run_due([G]) == 0
    clock.set(datetime(2026, 3, 2, 0, 6, tzinfo=UTC))
    assert await services.insights.run_due([G]) == 1
    assert await services.insights.run_due([G]) == 0  # already done
    clock.set(datetime(2026, 3, 5, 0, 6, tzinfo=UTC))
    runs = await asyncio.gather(services.insights.run_due([G]), services.insights.run_due([G]))
    assert sorted(runs) in ([0, 3], [3, 3])  # two processes: the same days, the same documents
    days = await services.insights.daily(G, 4)
    assert [d.day for d in days] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    backfilled = await services.insights.backfill(DAY1, [G])
    assert backfilled == {G: 4}
    assert await services.insights.daily(G, 4) == days


async def test_a_guild_time_zone_and_reset_hour_set_the_day(services, clock):
    await services.settings.set(G, ADMIN, "timezone", "America/New_York")
    await services.settings.set(G, ADMIN, "daily_reset_hour", "6")
    # 2026-03-02 10:00 UTC is 05:00 in New York: still the local day of 2026-03-01.
    clock.set(datetime(2026, 3, 2, 10, tzinfo=UTC))
    await services.ledger.grant(G, ADMIN, A, 10, reason="seed", key="g:ny")
    clock.set(datetime(2026, 3, 2, 11, 10, tzinfo=UTC))  # 06:10 local: the day has ended
    (day,) = await services.insights.rollup(G, DAY1)
    assert day.day == "2026-03-01" and day.minted == 10
    assert datetime.fromtimestamp(day.start_ms / 1000, UTC) == datetime(2026, 3, 1, 11, tzinfo=UTC)


async def test_cohorts_count_members_by_first_week(services, clock):
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))  # a Monday
    await services.ledger.grant(G, ADMIN, A, 100, reason="seed", key="g:a")
    await services.ledger.grant(G, ADMIN, B, 100, reason="seed", key="g:b")
    await services.ledger.transfer(G, A, B, 10, key="t:w1")
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))  # the next week: only A is active
    await services.ledger.earn(G, A, 5, key="e:w2", kind="reward")
    clock.set(datetime(2026, 3, 11, 1, tzinfo=UTC))
    await services.insights.rollup(G, date(2026, 3, 2))
    (cohort,) = await services.insights.cohorts(G, 4)
    assert cohort.week == "2026-03-02" and cohort.size == 2 and cohort.retention == (1.0, 0.5)


async def test_an_anomaly_is_flagged_once(services, clock):
    await services.settings.set(G, ADMIN, "insights_earning_multiple", "3")
    await services.settings.set(G, ADMIN, "insights_earning_min", "100")
    await services.settings.set(G, ADMIN, "insights_supply_min", "500")
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    for user, amount in ((A, 10), (B, 10), (C, 500)):
        await services.ledger.earn(G, user, amount, key=f"e:{user}", kind="reward")
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))
    await asyncio.gather(services.insights.rollup(G, DAY1), services.insights.rollup(G, DAY1))
    await services.insights.rollup(G, DAY1)
    flags = await services.insights.pending_flags(G)
    kinds = sorted(f.kind for f in flags)
    assert kinds == ["earning"], flags  # C earned 50x the median; a supply from 0 is no jump
    earning = next(f for f in flags if f.kind == "earning")
    assert earning.user_id == C and "50x the median" in earning.text
    claims = await asyncio.gather(*(services.insights.claim_flag(earning) for _ in range(3)))
    assert sorted(claims) == [False, False, True]
    # Day 2: an admin grant multiplies the supply: one supply flag, whatever the reruns.
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    await services.ledger.grant(G, ADMIN, A, 10_000, reason="seed", key="g:big")
    clock.set(datetime(2026, 3, 3, 1, tzinfo=UTC))
    for _ in range(2):
        await services.insights.run_due([G])
        await services.insights.rollup(G, DAY1 + timedelta(days=1))
    (supply,) = await services.insights.pending_flags(G)
    assert supply.kind == "supply" and "520 -> 10,520" in supply.text


async def test_backfilled_old_days_raise_no_flags(services, clock):
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    for user, amount in ((A, 10), (B, 10), (C, 5000)):
        await services.ledger.earn(G, user, amount, key=f"e:{user}", kind="reward")
    clock.set(datetime(2026, 3, 20, 1, tzinfo=UTC))
    await services.insights.backfill(DAY1, [G])
    assert await services.insights.pending_flags(G) == []


async def test_privacy_export_leaves_out_other_members_and_delete_keeps_rollups_exact(
        services, clock):
    import json

    await day_one(services, clock)
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))
    (before,) = await services.insights.rollup(G, DAY1)
    body = json.loads(await services.privacy.export(G, A))
    # A snapshot chunk and an active set list other members: never in A's copy.
    assert not {"insights_snapshots", "insights_active"} & set(body["collections"])
    assert "ledger" in body["collections"]
    result = await services.privacy.delete(G, A)
    (after,) = await services.insights.rollup(G, DAY1)  # from the re-pointed snapshot
    assert after.supply == before.supply and after.minted == before.minted
    # The member is now the tombstone, a system account: one member fewer.
    assert after.members == before.members - 1
    snapshot = await services.db["insights_snapshots"].find_one({"guild_id": G})
    assert A not in snapshot["users"] and result.tombstone in snapshot["users"]


def test_csv_cells_never_run_as_formulas():
    from economy.core.settings import GuildSettings
    from economy.insights.models import CategoryStats, DailyRollup
    from economy.insights.service import _csv, _marketplace

    text = _csv(["name", "n"], [["=HYPERLINK(\"http://x\")", 1], ["+1", 2], ["@SUM(A1)", 3],
                                ["-2", -2], ["plain", 4]])
    rows = [line.split(",", 1)[0] for line in text.splitlines()[1:]]
    assert rows == ['"\'=HYPERLINK(""http://x"")"', "'+1", "'@SUM(A1)", "'-2", "plain"]
    assert text.splitlines()[4].endswith(",-2")  # numbers stay numbers
    day = DailyRollup(guild_id=G, day="2026-03-01", start_ms=0, end_ms=1, categories=(
        CategoryStats(category="=cmd|' /C calc'!A0", listings=1),))
    report = _marketplace(GuildSettings(), [day])
    assert "'=cmd" in report.csv and "\n2026-03-01,=cmd" not in report.csv


async def test_a_pruned_snapshot_is_never_read_half(services, clock):
    from economy.core.errors import Conflict

    await day_one(services, clock)
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))
    await services.insights.rollup(G, DAY1)
    state = await services.db["insights_state"].find_one({"_id": str(G)})
    await services.db["insights_snapshots"].update_many({"guild_id": G}, {"$set": {"chunks": 2}})
    repo = services.insights._repo
    with pytest.raises(Conflict):
        await repo.load_snapshot(G, state["snapshot_ms"])
    with pytest.raises(Conflict):
        await services.insights.rollup(G, DAY1)
    await services.db["insights_snapshots"].update_many({"guild_id": G}, {"$set": {"chunks": 1}})
    assert len(await services.insights.rollup(G, DAY1)) == 1


async def test_new_accounts_trading_with_one_member_and_a_disputed_seller_are_flagged(
        services, clock):
    from tests.conftest import relax_offer_limits

    await services.settings.set(G, ADMIN, "insights_new_traders", "3")
    await services.settings.set(G, ADMIN, "insights_dispute_min_trades", "2")
    await services.settings.set(G, ADMIN, "insights_dispute_rate_pct", "40")
    await relax_offer_limits(services, G)
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    await services.ledger.grant(G, ADMIN, A, 5000, reason="seed", key="g:a")
    for n, user in enumerate((21, 22, 23)):  # three brand-new accounts, each paid by A
        await services.ledger.transfer(G, A, user, 10, key=f"fan:{n}")
    # Seller B: two trades with A, one of them disputed (50% > 40%).
    for n in range(2):
        offer = await services.trades.offer(G, B, A, 100, f"A hand-made ring, number {n}")
        await services.trades.accept(G, offer.trade_id, A)
        if n == 0:
            await services.disputes.open(G, offer.trade_id, A, "It never arrived at all")
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))
    for _ in range(2):
        await services.insights.rollup(G, DAY1)
    flags = {f.kind: f for f in await services.insights.pending_flags(G)}
    assert set(flags) == {"new_accounts", "disputes"}, flags
    assert flags["new_accounts"].user_id == A and "3 new accounts" in flags["new_accounts"].text
    assert flags["disputes"].user_id == B and "1 of 2 trades" in flags["disputes"].text
    (day,) = await services.insights.daily(G, 1)
    assert day.disputes_opened == 1 and day.escrow_held == 200
