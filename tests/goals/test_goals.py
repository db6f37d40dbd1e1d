"""Community goals: validation, progress from the ledger and check-ins, rewards once."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)
G = 4


@pytest.mark.parametrize(("options", "expected"), [
    ({"target": 0}, "at least 1"), ({"reward": -1}, "between 0"), ({"metric": "vibes"}, "metric"),
    ({"deadline": "2020-01-01 00:00"}, "in the future"), ({"deadline": "400d"}, "a year"),
    ({"deadline": "whenever"}, "not a date"),
])
async def test_bad_goals_are_refused(services, options, expected):
    args = {"target": 100, "metric": "gems_earned", "deadline": "7d", "reward": 10, **options}
    with pytest.raises(InvalidInput, match=expected):
        await services.goals.create(G, Actor(1, is_admin=True), **args)
    assert await services.db["community_goals"].count_documents({}) == 0


async def test_gems_goal_pays_every_contributor_once(store, clock):
    a, b = build_services(store.db, clock), build_services(store.db, clock)
    await a.ledger.earn(G, 50, 500, key="before")  # before the goal: does not count
    clock.advance(minutes=1)
    goal = await a.goals.create(G, Actor(1, is_admin=True), target=100, metric="gems_earned", deadline="7d", reward=25)
    clock.advance(minutes=1)
    await a.ledger.grant(G, Actor(1, is_admin=True), 51, 1000, reason="grants do not count", key="g")
    for user, amount in ((52, 40), (53, 30)):
        await a.ledger.earn(G, user, amount, key=f"e{user}")
    assert await a.goals.sweep() == []
    assert (await a.goals.view(G, goal.goal_id)).progress == 70
    await a.ledger.earn(G, 54, 30, key="e54")
    clock.advance(minutes=1)
    batches = await asyncio.gather(a.goals.sweep(), b.goals.sweep(), a.goals.sweep())
    notices = [n for batch in batches for n in batch]
    assert len(notices) == 1 and notices[0].kind == "reached" and notices[0].goal.contributors == 3
    assert [await a.ledger.balance(G, u) for u in (50, 51, 52, 53, 54)] == [500, 1000, 65, 55, 55]
    assert await build_services(store.db, clock).goals.sweep() == []
    report = await audit(a.db)
    assert report.ok, report.render()


async def test_checkin_goal_expires_without_paying(services, clock):
    goal = await services.goals.create(G, Actor(1, is_admin=True), target=3, metric="event_checkins", deadline="1d",
                                       reward=10, title="Three check-ins")
    clock.advance(minutes=1)
    draft = await services.events.draft(G, type="social", start="now", duration_minutes=60,
                                        channel_id=None, capacity=None)
    event = await services.events.create(G, Actor(1, is_admin=True), draft, title="Coffee chat", description=None)
    for user in (60, 61):
        await services.events.checkin(G, event.event_id, user)
    assert (await services.goals.view(G, goal.goal_id)).progress == 2
    clock.advance(days=1)
    notices = await services.goals.sweep()
    assert [(n.kind, n.paid) for n in notices] == [("expired", 0)]
    assert await services.ledger.balance(G, 60) == 0


async def test_deleted_members_and_leavers_count_but_are_not_paid(services, clock):
    """Issue 22: a deleted member's earnings still count toward the goal, but their anonymous
    account is paid nothing; nor is a member who left the server."""
    from tests.directory import install
    install(services, gone={72})
    await services.goals.create(G, Actor(1, is_admin=True), target=90, metric="gems_earned", deadline="7d", reward=25)
    clock.advance(minutes=1)
    for user in (70, 71, 72):
        await services.ledger.earn(G, user, 30, key=f"e{user}")
    await services.privacy.delete(G, 71)
    clock.advance(minutes=1)
    notices = await services.goals.sweep()
    assert len(notices) == 1 and notices[0].kind == "reached" and notices[0].paid == 25
    assert await services.ledger.balance(G, 70) == 55
    assert await services.ledger.balance(G, 72) == 30  # left the server: no reward
    tomb = await services.db["accounts"].find_one({"guild_id": G, "user_id": {"$lt": -(10**12)}})
    assert tomb["balance"] == 30
    report = await audit(services.db)
    assert report.ok, report.render()
