"""Several days through the sandbox: streaks in members' own zones, grace days, DST, weekly bonus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor

pytestmark = pytest.mark.timeout(60)


async def answer_today(gc, who: str):
    """Answer today's knowledge challenge correctly (whatever the draw picked)."""
    _, defs = await gc.services.challenges.todays_set(gc.guild.id)
    quiz = next(c for c in defs if c.type == "knowledge")
    opened = await gc.slash(who, "challenge submit", challenge_id=quiz.id)
    return await gc.sb.submit_modal(gc[who], opened, {"answer": quiz.answers[0]})


async def streak_doc(gc, who: str) -> dict:
    doc = await gc.db["challenge_streaks"].find_one({"user_id": gc[who].id})
    return doc["state"]


async def goto(gc, when: datetime) -> None:
    gc.clock.set(when)
    await gc.bot.jobs.run_due()


async def configure(gc, **values) -> None:
    for key, value in values.items():
        await gc.services.settings.set(gc.guild.id, Actor.system(), key, str(value))


async def test_streaks_on_both_sides_of_utc_with_grace_and_weekly_bonus(gc):
    await configure(gc, challenge_weekly_target=3, challenge_weekly_bonus=100,
                    challenge_streak_bonus="3:50", challenge_grace_days=1)
    await gc.slash("alice", "profile timezone", zone="Pacific/Auckland")  # UTC+13 in January
    await gc.slash("bob", "profile timezone", zone="America/Los_Angeles")  # UTC-8
    texts = {}
    for day in (5, 6, 7):  # Mon-Wed, 12:00 UTC: Auckland is already the next day, LA the same
        await goto(gc, datetime(2026, 1, day, 12, tzinfo=UTC))
        for who in ("alice", "bob"):
            texts[(who, day)] = (await answer_today(gc, who)).content
    for who in ("alice", "bob"):
        assert "Streak: **3**" in texts[(who, 7)]
        assert "3-day streak bonus: 💎 50 GEMS" in texts[(who, 7)]
        assert "weekly bonus: 💎 100 GEMS" in texts[(who, 7)]
    assert (await streak_doc(gc, "alice"))["last"] == "2026-01-08"
    assert (await streak_doc(gc, "bob"))["last"] == "2026-01-07"

    # Nobody plays on the 8th. On the 9th at 10:30 UTC it is 23:30 on the 9th in Auckland (the
    # day after alice's last local day: no gap) but 02:30 on the 9th in LA (bob missed the 8th).
    await goto(gc, datetime(2026, 1, 9, 10, 30, tzinfo=UTC))
    for who in ("alice", "bob"):
        assert "Streak: **4**" in (await answer_today(gc, who)).content
    assert (await streak_doc(gc, "alice"))["graces"] == []
    assert (await streak_doc(gc, "bob"))["graces"] == ["2026-01-08"]  # bob's grace day

    # Both miss a day again: alice uses her grace day, bob's is spent (one per 7 days).
    await goto(gc, datetime(2026, 1, 11, 10, 30, tzinfo=UTC))
    assert "Streak: **5**" in (await answer_today(gc, "alice")).content
    assert "Streak: **1**" in (await answer_today(gc, "bob")).content
    hist = await gc.slash("bob", "challenge history")
    assert "streak: **1**" in hist.text and "5 completed" in hist.text

    # The weekly bonus was paid once per member for ISO week 2, never again that week.
    weekly = await gc.db["ledger"].find({"ref": "challenge-week:2026-W02"}).to_list()
    assert sorted(e["user_id"] for e in weekly) == sorted([gc["alice"].id, gc["bob"].id])


async def test_streak_days_follow_dst(gc):
    # New York leaves EST (UTC-5) for EDT (UTC-4) at 02:00 on 2026-03-08.
    await configure(gc, challenge_grace_days=0)
    await gc.slash("carol", "profile timezone", zone="America/New_York")
    await goto(gc, datetime(2026, 3, 8, 5, 30, tzinfo=UTC))  # 00:30 EST on the 8th
    assert "Streak: **1**" in (await answer_today(gc, "carol")).content
    # 04:30 UTC on the 9th is 00:30 EDT on the 9th: a new local day (with a fixed -5 offset it
    # would still be the 8th and the streak would not grow).
    await goto(gc, datetime(2026, 3, 9, 4, 30, tzinfo=UTC))
    assert "Streak: **2**" in (await answer_today(gc, "carol")).content
    assert (await streak_doc(gc, "carol"))["last"] == "2026-03-09"
    # Without a grace day a missed local day ends the streak.
    await goto(gc, datetime(2026, 3, 11, 4, 30, tzinfo=UTC))
    assert "Streak: **1**" in (await answer_today(gc, "carol")).content
