"""Competitions: creation rules, standings, settlement paid once (also with two processes)."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidAmount, InvalidInput, NotPermitted
from economy.services import build_services
from tests.challenges.helpers import CHAT, QUIZ, REACT, fix_day

pytestmark = pytest.mark.timeout(60)
G = 77
ADMIN = Actor(1, is_admin=True)


async def test_create_validates_and_checks_permission(services):
    comps = services.competitions
    with pytest.raises(NotPermitted):
        await comps.create(G, Actor(5), kind="any", mode="most", hours=24, prize=100)
    bad = [{"kind": "poetry", "mode": "most"}, {"kind": "any", "mode": "fastest"},
           {"kind": "any", "mode": "most", "hours": 0}, {"kind": "any", "mode": "most", "prize": 0},
           {"kind": "any", "mode": "most", "places": 4}, {"kind": "any", "mode": "first"}]
    for options in bad:
        kwargs = {"hours": 24, "prize": 100, **options}
        with pytest.raises((InvalidInput, InvalidAmount)):
            await comps.create(G, ADMIN, **kwargs)
    assert await services.db["challenge_competitions"].count_documents({}) == 0


async def test_most_and_first_settle_once(services, clock):
    comps, ch = services.competitions, services.challenges
    await fix_day(services, G)
    most = await comps.create(G, ADMIN, kind="any", mode="most", hours=48, prize=500, places=2)
    first = await comps.create(G, ADMIN, kind="knowledge", mode="first", hours=48, prize=300,
                               target=2)
    assert first["competition_id"] == 2 and first["target"] == 2
    day = (await ch.window(G)).key
    await ch.complete(G, 10, day, QUIZ)
    clock.advance(minutes=1)
    await ch.complete(G, 11, day, QUIZ)
    await ch.complete(G, 11, day, CHAT)
    await ch.complete(G, 12, day, REACT)
    clock.advance(hours=24)
    await fix_day(services, G)
    day = (await ch.window(G)).key
    await ch.complete(G, 10, day, QUIZ)  # user 10 reaches 2 knowledge completions first
    clock.advance(minutes=1)
    await ch.complete(G, 11, day, QUIZ)
    standings = await comps.standings(most)
    assert [(s.user_id, s.completions) for s in standings] == [(11, 3), (10, 2), (12, 1)]
    assert await comps.settle_due(G) == []  # not over yet
    clock.advance(hours=25)
    other = build_services(services.db, clock)
    results = await asyncio.gather(comps.settle_due(G), other.competitions.settle_due(G))
    settled = [s for r in results for s in r]
    assert sorted(s.competition["competition_id"] for s in settled) == [1, 2]
    prizes = await services.db["ledger"].find({"ref": {"$in": ["competition:1", "competition:2"]}}).to_list()
    assert sorted((e["ref"], e["user_id"], e["delta"]) for e in prizes) == [
        ("competition:1", 10, 500), ("competition:1", 11, 500), ("competition:2", 10, 300)]
    assert await comps.settle_due(G) == []
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_a_deleted_winner_is_not_paid_and_completes_nothing_more(services, clock):
    """Issue 22: a competition place held by a member who deleted their data stays unpaid (the
    tombstone is never paid), and their anonymous record completes no further challenge."""
    comps, ch = services.competitions, services.challenges
    await fix_day(services, G)
    await comps.create(G, ADMIN, kind="any", mode="most", hours=48, prize=500, places=2)
    day = (await ch.window(G)).key
    await ch.complete(G, 10, day, QUIZ)
    await ch.complete(G, 10, day, CHAT)
    await ch.complete(G, 11, day, QUIZ)
    deleted = await services.privacy.delete(G, 10)
    assert await ch.complete(G, deleted.tombstone, day, REACT) is None
    clock.advance(hours=49)
    settled = await comps.settle_due(G)
    assert [(s.user_id, amount) for s, amount in settled[0].winners] == [(11, 500)]
    tomb = await services.db["ledger"].find({"user_id": deleted.tombstone}).to_list()
    assert all(e.get("ref") != "competition:1" and "challenge:" + day + ":react" not in
               e["idempotency_key"] for e in tomb)
    report = await audit(services.db)
    assert report.ok, report.render()
