"""Guides against the embedded store: review rights, rewards once, racing upvotes, search."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import GemsError, InvalidInput, NotPermitted
from economy.mentorship.guides import GuideUnavailable

pytestmark = pytest.mark.timeout(60)
G = 9
BODY = "Warm the wax, carve the bezel seat first, then the shoulders."


async def submit(services, author=1, title="Carving a bezel seat", skills="wax carving, cad"):
    return await services.guides.submit(G, author, title=title, body=BODY, skills=skills)


async def test_submit_validation(services):
    for kwargs, message in [({"skills": "knitting"}, "not a skill"), ({"skills": ""}, "at least one"),
                            ({"title": "ab"}, "at least 3")]:
        with pytest.raises(GemsError, match=message):
            await submit(services, **kwargs)
    with pytest.raises(InvalidInput, match="20-4,000"):
        await services.guides.submit(G, 1, title="Short", body="too short", skills="cad")
    assert await services.db["guides"].count_documents({}) == 0


async def test_review_rights_reward_once_and_search(services):
    guides = services.guides
    guide = await submit(services)
    with pytest.raises(NotPermitted, match="own guide"):
        await guides.review(G, Actor(1, is_moderator=True), guide.guide_id, approve=True)
    with pytest.raises(NotPermitted, match="Only mentors and moderators"):
        await guides.review(G, Actor(2), guide.guide_id, approve=True)
    await services.mentorship.mentors.register_mentor(
        G, 2, joined_at=services.clock.now() - timedelta(days=9), skills="cad:4",
        zone="UTC", availability="mon 9-12", languages="en", capacity=1, bio=None)
    results = await asyncio.gather(
        *(guides.review(G, Actor(2), guide.guide_id, approve=True) for _ in range(4)),
        return_exceptions=True)
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 1 and ok[0][1] == 100
    assert all(isinstance(r, GuideUnavailable) for r in results if isinstance(r, Exception))
    assert await services.ledger.balance(G, 1) == 100
    await submit(services, author=3, title="Casting sterling silver", skills="casting")
    assert [g.guide_id for g in await guides.search(G, "bezels")] == [guide.guide_id]
    assert [g.guide_id for g in await guides.search(G, "bezel wax", skill="cad")] == [1]
    assert await guides.search(G, "casting") == []  # not published yet
    assert await guides.search(G, "bezel platinum") == []


async def test_racing_upvotes_count_once_each_and_pay_each_milestone_once(services):
    guides = services.guides
    await services.settings.set(G, Actor.system(), "guide_vote_milestone", "5")
    guide = await submit(services)
    await guides.review(G, Actor(99, is_moderator=True), guide.guide_id, approve=True)
    with pytest.raises(InvalidInput, match="own guide"):
        await guides.upvote(G, guide.guide_id, 1)
    voters = list(range(100, 112))
    results = await asyncio.gather(*(guides.upvote(G, guide.guide_id, v) for v in voters),
                                   *(guides.upvote(G, guide.guide_id, v) for v in voters[:4]),
                                   return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 4 and all("already upvoted" in str(r) for r in refused)
    assert (await guides.get(G, guide.guide_id)).votes == 12
    # Approval 100 + milestones at 5 and 10 votes (20 each).
    assert await services.ledger.balance(G, 1) == 140
    assert sorted(p for _, p in (r for r in results if not isinstance(r, Exception)) if p) == [20, 20]
    assert (await audit(services.db)).ok


async def test_a_deleted_authors_guide_is_published_without_a_reward(services):
    """Issue 22: a guide whose author deleted their data can still be approved, but its reward
    is forfeited (never minted into the anonymous account)."""
    guide = await submit(services, author=5)
    await services.privacy.delete(G, 5)
    _, paid = await services.guides.review(G, Actor(3, is_moderator=True), guide.guide_id, approve=True)
    assert paid == 0
    assert [g.guide_id for g in await services.guides.search(G, "bezel")] == [guide.guide_id]
    assert await services.db["ledger"].count_documents({"kind": "reward"}) == 0
    report = await audit(services.db)
    assert report.ok, report.render()
