"""/goal end to end: create, progress bar image, reached once with rewards, refusals."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from tests.e2e_fixtures import balance, db_state

pytestmark = pytest.mark.timeout(60)


async def test_goal_progress_and_reward_once(gc, clock):
    announce = gc.sb.create_channel(gc.guild, "announcements")
    await gc.sb.settle()
    await gc.services.settings.set(gc.guild.id, Actor.system(), "announcements_channel_id", str(announce.id))
    before = await db_state(gc), await gc.db["community_goals"].count_documents({})
    for who, options, expected in [
        ("bob", {}, "Only server admins"),
        ("admin", {"target": -5}, "at least 1"),
        ("admin", {"deadline": "2020-01-01 10:00"}, "in the future"),
        ("admin", {"reward": 10**7}, "between 0"),
    ]:
        r = await gc.slash(who, "goal-admin create", **{"target": 12, "metric": "gems_earned",
                                                  "deadline": "7d", "reward": 20, **options})
        assert r.ephemeral and expected in r.content, r.content
    assert (await db_state(gc), await gc.db["community_goals"].count_documents({})) == before
    r = await gc.slash("admin", "goal-admin create", target=12, metric="gems_earned", deadline="7d",
                       reward=20, title="Chat up a storm")
    assert "Created goal **#1**" in r.content
    await gc.advance(minutes=1)
    await gc.say("alice", "working towards the goal")
    await gc.advance(minutes=1)
    view = await gc.slash("carol", "goal view", goal=1)
    assert "5/12" in view.content and view.files["goal.png"].startswith(b"\x89PNG")
    await gc.say("bob", "me too, me too")
    await gc.advance(minutes=2)
    await gc.say("alice", "and one more for luck")
    await gc.advance(minutes=1)
    await gc.advance(minutes=1)
    await gc.restart_bot()
    await gc.advance(minutes=1)
    posts = [m for m in gc.sb.channel_messages(announce) if "Goal reached" in m.content]
    assert len(posts) == 1 and "2 contributors" in posts[0].content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (10 + 20, 5 + 20)
    done = await gc.slash("carol", "goal view", goal=1)
    assert "Status: **reached**" in done.content
