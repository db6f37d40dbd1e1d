"""/season end to end: enable, boost while running, leaderboard, winners announced once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor
from tests.e2e_fixtures import db_state

pytestmark = pytest.mark.timeout(60)


async def _state(gc):
    return await db_state(gc), sorted(map(repr, await gc.db["seasons"].find({}, {"_id": 0}).to_list()))


async def test_season_from_start_to_winners(gc, clock):
    announce = gc.sb.create_channel(gc.guild, "announcements")
    await gc.sb.settle()
    await gc.services.settings.set(gc.guild.id, Actor.system(), "announcements_channel_id", str(announce.id))
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    before = await _state(gc)
    for who, options, expected in [
        ("bob", {"name": "spooky-gems"}, "Only server admins"),
        ("admin", {"name": "Gem Week", "start": "31-12", "end": "01-07"}, "not a date"),
        ("admin", {"name": "Gem Week", "start": "02-29", "end": "03-07"}, "every year"),
        ("admin", {"name": "Gem Week"}, "needs `start` and `end`"),
    ]:
        r = await gc.sb.slash(gc[who], "season-admin add", options)  # `name` clashes with a keyword
        assert r.ephemeral and expected in r.content, r.content
    assert await _state(gc) == before
    r = await gc.sb.slash(gc["admin"], "season-admin add", {"name": "Spooky Gems"})
    assert "Enabled 🎃 `spooky-gems`" in r.content
    listed = await gc.slash("bob", "season list")
    assert "spooky-gems" in listed.text and "winter-festival" in listed.text
    clock.set(datetime(2026, 10, 24, 0, 0, 30, tzinfo=UTC))
    await gc.advance(seconds=30)  # the season starts: the sweep opens its x1.25 boost window
    await gc.advance(seconds=30)  # ... which the next boost sweep announces
    assert any("x1.25 GEMS" in m.content for m in gc.sb.channel_messages(announce))
    await gc.say("alice", "spooky season is here")
    await gc.say("bob", "love the pumpkin opals")
    await gc.advance(minutes=1)
    board = await gc.slash("carol", "season leaderboard")
    assert f"<@{gc['alice'].id}> — 6" in board.text and "running" in board.text, board.text
    clock.set(datetime(2026, 11, 1, 0, 0, 30, tzinfo=UTC))
    await gc.advance(seconds=30)
    await gc.restart_bot()
    await gc.advance(minutes=5)
    over = [m.content for m in gc.sb.channel_messages(announce) if "is over" in m.content]
    assert len(over) == 1 and "🥇" in over[0] and "prize 💎 500 GEMS" in over[0], over
    assert await gc.services.ledger.balance(gc.guild.id, gc["alice"].id) == 506
    winners = await gc.slash("dave", "season winners")
    assert "spooky-gems-2026" in winners.text


async def test_anniversary_bonus_is_paid_and_announced_once(gc, clock):
    announce = gc.sb.create_channel(gc.guild, "announcements")
    gc.sb.member(gc.guild, gc["erin"]).joined_at = datetime(2025, 1, 5, 9, tzinfo=UTC)
    await gc.services.settings.set(gc.guild.id, Actor.system(), "announcements_channel_id", str(announce.id))
    await gc.restart_bot()  # the new session's member list carries the join date
    await gc.advance(minutes=15)
    await gc.restart_bot()
    await gc.advance(minutes=15)
    posts = [m.content for m in gc.sb.channel_messages(announce)]
    assert len(posts) == 1 and "1-year anniversary" in posts[0] and str(gc["erin"].id) in posts[0]
    assert await gc.services.ledger.balance(gc.guild.id, gc["erin"].id) == 100
