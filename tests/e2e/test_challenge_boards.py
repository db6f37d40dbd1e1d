"""/challenge leaderboard: daily, weekly, all-time and streak boards with persistent paging."""

from __future__ import annotations

import pytest

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
    assert not daily.ephemeral and "Page 1/1" in daily.text and "3 member(s)" in daily.text
    weekly = await gc.slash("bob", "challenge leaderboard", board="weekly")
    assert f"**#1** <@{gc['fan00'].id}> · 3 completed" in weekly.text
    assert "Page 1/2" in weekly.text and weekly.message.allowed_mentions == {"parse": []}
    streaks = await gc.slash("bob", "challenge leaderboard", board="streaks")
    assert f"<@{gc['fan00'].id}> · 2 day(s)" in streaks.text and "12 member(s)" in streaks.text
    await gc.restart_bot()
    second = await gc.click("carol", weekly, "Next ▶")
    assert "Page 2/2" in second.text and "**#11**" in second.text
    alltime = await gc.slash("bob", "challenge leaderboard", board="all-time", page=99)
    assert "Page 2/2" in alltime.text  # clamped to the last page
    # Scores are exact counts: settling again (a retry) changes nothing.
    await ch.settle_unpaid(guild)
    assert (await gc.db["challenge_scores"].find_one({"_id": f"{guild}:all:{gc['fan00'].id}"}))["n"] == 3
