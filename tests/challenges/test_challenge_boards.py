"""/challenge leaderboard: daily, weekly, all-time and streak boards with persistent paging."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from tests.challenges.helpers import CHAT, QUIZ, REACT, fix_day

pytestmark = pytest.mark.timeout(60)


async def test_boards_rank_and_page_across_a_restart(gc):
    guild = gc.guild.id
    names = [f"fan{i:02d}" for i in range(12)]
    for name in names:
        gc.add_member(name)
    await gc.sb.settle()
    ch = gc.services.challenges
    await fix_day(gc.services, guild)
    for name in names:  # day 1: everyone answers the quiz
        await ch.answer(guild, gc[name].id, QUIZ.id, "Colombia")
    # fan00 also completes the chat challenge through the service's completion path
    day = (await ch.window(guild)).key
    await ch.complete(guild, gc["fan00"].id, day, CHAT)
    gc.clock.advance(hours=24)  # (no jobs yet: the test fixes day 2's set before any draw)
    await fix_day(gc.services, guild, defs=(QUIZ, CHAT, REACT))
    for name in names[:3]:  # day 2: three of them keep their streak
        await ch.answer(guild, gc[name].id, QUIZ.id, "colombia")

    daily = await gc.slash("bob", "challenge leaderboard", board="daily")
    assert not daily.ephemeral and "Page 1/1" in daily.text and "3 members" in daily.text
    weekly = await gc.slash("bob", "challenge leaderboard", board="weekly")
    assert f"**#1** <@{gc['fan00'].id}> · 3 completed" in weekly.text
    assert "Page 1/2" in weekly.text and weekly.message.allowed_mentions == {"parse": []}
    streaks = await gc.slash("bob", "challenge leaderboard", board="streaks")
    assert f"<@{gc['fan00'].id}> · 2 days" in streaks.text and "12 members" in streaks.text
    await gc.restart_bot()
    second = await gc.click("carol", weekly, "Next ▶")
    assert "Page 2/2" in second.text and "**#11**" in second.text
    alltime = await gc.slash("bob", "challenge leaderboard", board="all-time", page=99)
    assert "Page 2/2" in alltime.text  # clamped to the last page
    # Scores are exact counts: settling again (a retry) changes nothing.
    await ch.settle_unpaid(guild)
    assert (await gc.db["challenge_scores"].find_one({"_id": f"{guild}:all:{gc['fan00'].id}"}))["n"] == 3


async def test_competition_end_to_end(gc):
    from tests.challenges.test_challenge_commands import answer, state
    announce = gc.sb.create_channel(gc.guild, "challenges")
    await gc.sb.settle()
    await gc.services.settings.set(gc.guild.id, Actor.system(), "challenge_channel_id", str(announce.id))
    await fix_day(gc.services, gc.guild.id)
    before = await state(gc)
    denied = await gc.slash("bob", "challenge-admin competition", kind="any", mode="most", duration=2,
                            prize=100)
    assert denied.ephemeral and "Only admins" in denied.content
    no_target = await gc.slash("admin", "challenge-admin competition", kind="any", mode="first",
                               duration="2h", prize=100)
    assert no_target.ephemeral and "target" in no_target.content
    assert await state(gc) == before
    made = await gc.slash("admin", "challenge-admin competition", kind="knowledge", mode="most",
                          duration="2h", prize=250)
    assert not made.ephemeral and "Competition #1" in made.content
    await answer(gc, "carol", QUIZ.id, "Colombia")
    standings = await gc.slash("dave", "challenge competitions", number=1)
    assert f"1. <@{gc['carol'].id}> · 1 completed" in standings.text
    await gc.advance(hours=3)
    posts = [m.content for m in gc.sb.channel_messages(announce)]
    assert any(p.startswith("🌅 New daily challenges") for p in posts)  # the day's set, once
    result = next(p for p in posts if "Competition #1 ended" in p)
    assert "💎 250 GEMS" in result
    prizes = await gc.db["ledger"].find({"ref": "competition:1"}).to_list()
    assert [(e["user_id"], e["delta"]) for e in prizes] == [(gc["carol"].id, 250)]
    await gc.advance(minutes=5)  # later sweeps pay nothing more
    assert await gc.db["ledger"].count_documents({"ref": "competition:1"}) == 1
