"""Double-GEMS weekends and /boost-admin through the sandbox with the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor
from economy.services import build_services
from tests.e2e_fixtures import balance, db_state

pytestmark = pytest.mark.timeout(60)


async def _setup(gc, zone: str, *, weekend: bool = True):
    s = gc.services.settings
    g = gc.guild.id
    announce = gc.sb.create_channel(gc.guild, "announcements")
    await s.set(g, Actor.system(), "timezone", zone)
    await s.set(g, Actor.system(), "announcements_channel_id", str(announce.id))
    if weekend:
        await s.set(g, Actor.system(), "double_weekend", "on")
    await gc.sb.settle()
    return announce


def _texts(gc, channel) -> list[str]:
    return [m.content for m in gc.sb.channel_messages(channel)]


async def _activity(gc, name: str) -> list[tuple[int, int, list]]:
    entries = await gc.db["ledger"].find(
        {"guild_id": gc.guild.id, "user_id": gc[name].id, "kind": "activity"}).sort("at_ms").to_list()
    return [(e["delta"], e["multiplier_bps"], e["boost_ids"]) for e in entries]


async def test_full_double_weekend_in_new_york(gc, clock):
    announce = await _setup(gc, "America/New_York")
    # Friday 2026-01-09 17:59 in New York (EST, UTC-5) = 22:59 UTC.
    clock.set(datetime(2026, 1, 9, 22, 59, tzinfo=UTC))
    await gc.say("alice", "before the weekend starts")
    await gc.advance(minutes=1)  # 18:00 local: the window opens and is announced
    await gc.say("alice", "first message of the weekend")
    assert sum("x2 GEMS" in t for t in _texts(gc, announce)) == 1
    # Sunday 23:59 local = Monday 04:59 UTC; the flush happens after the window closed.
    clock.set(datetime(2026, 1, 12, 4, 59, tzinfo=UTC))
    await gc.say("alice", "last minute of the weekend")
    await gc.advance(minutes=1)  # Monday 00:00 local: closed, flushed, end announced once
    await gc.say("alice", "monday again, back to normal")
    await gc.advance(minutes=2)
    await gc.advance(minutes=2)
    # The two weekend messages were coalesced and flushed after the window closed: still x2.
    assert await _activity(gc, "alice") == [
        (5, 10_000, []), (20, 20_000, ["wk-20260109"]), (5, 10_000, [])]
    assert await balance(gc, "alice") == 30
    texts = _texts(gc, announce)
    assert len(texts) == 2 and "has ended" in texts[1], texts


async def test_weekend_across_the_dst_change_in_berlin(gc, clock):
    announce = await _setup(gc, "Europe/Berlin")
    # DST ends Sunday 2026-10-25 03:00 CEST -> 02:00 CET: the weekend lasts 55 hours in UTC.
    # Friday 18:00 CEST = 16:00 UTC; Monday 00:00 CET = Sunday 23:00 UTC.
    steps = [(datetime(2026, 10, 23, 15, 59, tzinfo=UTC), 5),
             (datetime(2026, 10, 23, 16, 0, tzinfo=UTC), 10),
             (datetime(2026, 10, 25, 22, 59, tzinfo=UTC), 10),   # Sunday 23:59 CET
             (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), 5)]     # Monday 00:00 CET
    for index, (when, _) in enumerate(steps):
        clock.set(when)
        await gc.say("bob", f"message number {index} this weekend")
        await gc.services.activity.flush()
    await gc.advance(minutes=1)
    assert [d for d, _, _ in await _activity(gc, "bob")] == [amount for _, amount in steps]
    assert _texts(gc, announce) == []  # the clock jumped past every sweep: nothing stale posted


async def test_boost_restart_and_two_sweeps_announce_once(gc, clock):
    announce = await _setup(gc, "UTC", weekend=False)
    r = await gc.slash("admin", "boost-admin schedule", factor="3", start="now", end="2h",
                       reason="Launch party @everyone")
    assert r.ephemeral and "Scheduled boost `b1`" in r.content and "x3" in r.content
    texts = _texts(gc, announce)
    assert len(texts) == 1 and "Launch party @\u200beveryone" not in texts[0]
    assert "x3 GEMS" in texts[0]
    await gc.say("carol", "earning during the party")
    await gc.restart_bot()  # pending earnings are flushed on the way down at x3
    cog = gc.bot.get_cog("BoostsCog")
    await asyncio.gather(cog.sweep(), cog.sweep(), gc.bot.jobs.run_due())
    await gc.advance(minutes=2)
    await gc.say("carol", "still earning after the restart")
    await gc.advance(hours=2)  # the boost ended: announced once, even by two sweeps
    other = build_services(gc.db, clock)  # a second bot process over the same database
    await asyncio.gather(cog.sweep(), other.boosts.sweep(), gc.bot.jobs.run_due())
    await gc.say("carol", "after the party")
    await gc.advance(minutes=2)
    assert [d for d, _, _ in await _activity(gc, "carol")] == [15, 15, 5]
    texts = _texts(gc, announce)
    assert len(texts) == 2 and "has ended" in texts[1], texts
    await gc.restart_bot()
    await gc.advance(minutes=5)
    assert len(_texts(gc, announce)) == 2


async def _boost_state(gc):
    windows = await gc.db["multipliers"].find({}, {"_id": 0}).to_list()
    return await db_state(gc), sorted(map(repr, windows))


@pytest.mark.parametrize(("options", "expected"), [
    ({"factor": "1.05", "start": "now", "end": "2h"}, "between 1.1 and 10"),
    ({"factor": "11", "start": "now", "end": "2h"}, "between 1.1 and 10"),
    ({"factor": "abc", "start": "now", "end": "2h"}, "not a factor"),
    ({"factor": "1.234", "start": "now", "end": "2h"}, "two decimals"),
    ({"factor": "2", "start": "2026-01-06 10:00", "end": "2026-01-06 09:00"}, "after the start"),
    ({"factor": "2", "start": "2026-01-04 10:00", "end": "2h"}, "in the past"),
    ({"factor": "2", "start": "now", "end": "40d"}, "at most 31 days"),
    ({"factor": "2", "start": "tomorrow-ish", "end": "2h"}, "not a date"),
])
async def test_bad_boost_input_changes_nothing(gc, options, expected):
    before = await _boost_state(gc)
    r = await gc.slash("admin", "boost-admin schedule", **options)
    assert r.ephemeral and expected in r.content, r.content
    assert await _boost_state(gc) == before


async def test_members_cannot_manage_boosts_and_overlaps_state_the_rule(gc):
    before = await _boost_state(gc)
    for command, options in (("boost-admin schedule", {"factor": "2", "start": "now", "end": "1h"}),
                             ("boost-admin list", {}), ("boost-admin cancel", {"boost": "b1"}),
                             ("boost-admin stats", {"boost": "b1"})):
        r = await gc.slash("bob", command, **options)
        assert r.ephemeral and "Only server admins" in r.content
    assert await _boost_state(gc) == before
    await gc.slash("admin", "boost-admin schedule", factor="2", start="now", end="3h")
    r = await gc.slash("admin", "boost-admin schedule", factor="1.5", start="now", end="1h")
    assert "overlaps `b1`" in r.content and "highest factor applies" in r.content
    listed = await gc.slash("admin", "boost-admin list")
    assert "`b1`" in listed.text and "`b2`" in listed.text and "x1.5" in listed.text
    await gc.say("dave", "the highest of two boosts applies")
    await gc.advance(minutes=1)
    assert await _activity(gc, "dave") == [(10, 20_000, ["b1"])]
    r = await gc.slash("admin", "boost-admin cancel", boost="b1")
    assert "Cancelled boost `b1`" in r.content
    again = await gc.slash("admin", "boost-admin cancel", boost="b1")
    assert again.ephemeral and "already cancelled" in again.content
    missing = await gc.slash("admin", "boost-admin cancel", boost="b99")
    assert "no boost `b99`" in missing.content
    await gc.say("dave", "now only the smaller boost is left")
    await gc.advance(minutes=2)
    assert (await _activity(gc, "dave"))[-1] == (7, 15_000, ["b2"])


async def test_boost_stats_compare_with_the_week_before(gc, clock):
    async def an_hour_of_earning(text: str) -> None:
        await gc.advance(minutes=1)
        await gc.say("erin", text)
        await gc.slash("erin", "gems daily")
        await gc.advance(minutes=1)

    await an_hour_of_earning("a normal monday message")
    await gc.advance(days=7, minutes=-2)
    await gc.slash("admin", "boost-admin schedule", factor="2", start="now", end="1h", reason="Test")
    await an_hour_of_earning("a boosted monday message")
    await gc.advance(minutes=30)
    r = await gc.slash("admin", "boost-admin stats", boost="b1")
    assert r.ephemeral and "Chat activity: 10 during vs 5 before" in r.text, r.text
    assert "Daily: 200 during vs 100 before" in r.text and "+100 %" in r.text
    png = r.files["boost-stats.png"]
    assert png.startswith(b"\x89PNG")


async def test_many_long_boosts_still_list_within_discord_limits(gc):
    for i in range(30):
        r = await gc.slash("admin", "boost-admin schedule", factor="1.5", start=f"2026-02-{i % 27 + 1:02d} 10:00",
                           end="2h", reason="*" * 100)
        assert "Scheduled" in r.content
    listed = await gc.slash("admin", "boost-admin list")
    assert not listed.errors and "more" in listed.text


async def test_boost_ids_autocomplete(gc):
    await gc.slash("admin", "boost-admin schedule", factor="2", start="now", end="1h", reason="Launch")
    choices = await gc.sb.autocomplete(gc["admin"], "boost-admin cancel", "boost", "laun")
    assert [c["value"] for c in choices] == ["b1"] and "x2 Launch" in choices[0]["name"]
