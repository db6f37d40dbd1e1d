"""Seasons: the shipped catalog, admin input, season boosts, leaderboards, prizes once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotFound
from economy.seasons.service import catalog
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)
G = 8


def test_shipped_catalog():
    seasons = catalog()
    assert {"winter-festival", "spring-bloom", "summer-solstice", "spooky-gems"} <= set(seasons)
    assert seasons["winter-festival"].boost_bps == 15_000
    assert seasons["spring-bloom"].boost_bps is None


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("13-01", "12-31", "not a date"), ("02-30", "03-01", "every year"),
    ("02-29", "03-01", "every year"), ("soon", "12-31", "not a date"), ("01-01", None, "needs"),
])
async def test_unparseable_season_dates_are_refused(services, start, end, expected):
    with pytest.raises(InvalidInput, match=expected):
        await services.seasons.add(G, Actor(1, is_admin=True), "Gem Week", start=start, end=end)
    assert await services.db["seasons"].count_documents({}) == 0


async def test_add_remove_and_duplicates(services):
    await services.seasons.add(G, Actor(1, is_admin=True), "spooky-gems")
    custom = await services.seasons.add(G, Actor(1, is_admin=True), "Gem Week", start="5-1", end="05-07", boost="2",
                                        emoji="💎", colour="#112233")
    assert (custom.key, custom.start_md, custom.boost_bps) == ("gem-week", "05-01", 20_000)
    with pytest.raises(InvalidInput, match="already enabled"):
        await services.seasons.add(G, Actor(1, is_admin=True), "Spooky Gems")
    with pytest.raises(InvalidInput, match=r"between 1\.1 and 10"):
        await services.seasons.add(G, Actor(1, is_admin=True), "Big Week", start="06-01", end="06-07", boost="50")
    with pytest.raises(InvalidInput, match="colour"):
        await services.seasons.add(G, Actor(1, is_admin=True), "Red Week", start="06-01", end="06-07", colour="red")
    await services.seasons.remove(G, Actor(1, is_admin=True), "gem-week")
    with pytest.raises(NotFound):
        await services.seasons.remove(G, Actor(1, is_admin=True), "gem-week")
    assert [s.key for s in await services.seasons.seasons(G)] == ["spooky-gems"]


async def test_season_boost_leaderboard_and_prizes_once(store, clock):
    a, b = build_services(store.db, clock), build_services(store.db, clock)
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    await a.seasons.add(G, Actor(1, is_admin=True), "spooky-gems")  # 10-24 .. 10-31, boost x1.25
    clock.set(datetime(2026, 10, 25, 12, tzinfo=UTC))
    await a.seasons.sweep()
    movement = await a.ledger.earn(G, 10, 100, key="e10")
    assert movement.entries[0].delta == 125
    assert movement.entries[0].boost_ids == ("s-spooky-gems-2026",)
    for user, amount in ((11, 300), (12, 200), (13, 50), (14, 10)):
        await a.ledger.earn(G, user, amount, key=f"e{user}")
    _, occurrence, rows, running = await a.seasons.leaderboard(G)
    assert running and occurrence == "spooky-gems-2026"
    assert rows[:3] == [(11, 375), (12, 250), (10, 125)]
    clock.set(datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    batches = await asyncio.gather(a.seasons.sweep(), b.seasons.sweep(), a.seasons.sweep())
    notices = [n for batch in batches for n in batch]
    assert len(notices) == 1 and [w[0] for w in notices[0].winners] == [11, 12, 10]
    assert [await a.ledger.balance(G, u) for u in (11, 12, 10)] == [375 + 500, 250 + 250, 125 + 100]
    assert await build_services(store.db, clock).seasons.sweep() == []
    results = await a.seasons.winners(G)
    assert results[0]["occurrence"] == "spooky-gems-2026"
    report = await audit(a.db)
    assert report.ok, report.render()


async def test_a_season_added_late_does_not_pay_old_occurrences(services, clock):
    await services.seasons.add(G, Actor(1, is_admin=True), "summer-solstice")
    assert await services.seasons.sweep() == []
    assert await services.db["season_results"].count_documents({}) == 0


def test_leap_day_members_celebrate_on_the_28th():
    from datetime import date

    from economy.seasons.anniversaries import celebrates_on
    assert celebrates_on(date(2024, 2, 29), date(2027, 2, 28))
    assert not celebrates_on(date(2024, 2, 29), date(2028, 2, 28))
    assert celebrates_on(date(2024, 2, 29), date(2028, 2, 29))
    assert not celebrates_on(date(2024, 3, 1), date(2025, 2, 28))


async def test_anniversary_bonus_once_per_year(store, clock):
    a, b = build_services(store.db, clock), build_services(store.db, clock)
    await a.settings.set(G, Actor(1, is_admin=True), "timezone", "Pacific/Auckland")
    joined = datetime(2024, 1, 5, 20, tzinfo=UTC)  # 6 January in Auckland
    members = [(21, joined), (22, datetime(2025, 12, 1, tzinfo=UTC)), (23, None)]
    clock.set(datetime(2026, 1, 5, 10, 30, tzinfo=UTC))  # 23:30 on 5 January in Auckland
    assert await a.anniversaries.pay_due(G, members) == []
    clock.set(datetime(2026, 1, 5, 11, 30, tzinfo=UTC))  # 00:30 on 6 January in Auckland
    paid = await asyncio.gather(a.anniversaries.pay_due(G, members),
                                b.anniversaries.pay_due(G, members))
    rows = [p for batch in paid for p in batch]
    assert [(p.user_id, p.years, p.amount) for p in rows] == [(21, 2, 100)]
    assert await a.anniversaries.pay_due(G, members) == []
    await a.settings.set(G, Actor(1, is_admin=True), "anniversary_bonus", "0")
    clock.set(datetime(2027, 1, 5, 12, 30, tzinfo=UTC))
    assert await a.anniversaries.pay_due(G, members) == []
    assert await a.ledger.balance(G, 21) == 100


async def test_season_places_never_go_to_deleted_members_or_leavers(services, clock):
    """Issue 22: a deleted member's account never holds a season place, and a winner recorded
    before they deleted their data (or left) is not paid."""
    from tests.directory import install
    directory = install(services)
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    await services.seasons.add(G, Actor(1, is_admin=True), "spooky-gems")
    clock.set(datetime(2026, 10, 25, 12, tzinfo=UTC))  # no sweep yet: no boost, plain amounts
    for user, amount in ((21, 900), (22, 800), (23, 700), (24, 600)):
        await services.ledger.earn(G, user, amount, key=f"e{user}")
    await services.privacy.delete(G, 21)  # the top earner deletes their data
    directory.gone.add(23)                # and the third one leaves the server
    clock.set(datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    notices = await services.seasons.sweep()
    assert [w[0] for w in notices[0].winners] == [22, 23, 24]  # no tombstone among them
    assert [w[2] for w in notices[0].winners] == [500, 0, 100]  # 23 left: unpaid
    assert await services.ledger.balance(G, 23) == 700
    tomb = await services.db["accounts"].find_one({"guild_id": G, "user_id": {"$lt": -(10**12)}})
    assert tomb["balance"] == 900
    report = await audit(services.db)
    assert report.ok, report.render()
