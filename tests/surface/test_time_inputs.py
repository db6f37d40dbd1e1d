"""Issue 24 (inputs): every date/duration option reads one grammar in the member's own zone
(`/profile timezone`, else the server's), previews it while typing, and refuses nonsense privately
with nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from economy.core.clock import to_ms
from tests.events import event_form

pytestmark = pytest.mark.timeout(60)

# The test clock starts on Monday 2026-01-05 12:00 UTC.


async def _boosts(gc) -> list[dict]:
    return [d async for d in gc.db["multipliers"].find({}, {"_id": 0})]


async def test_autocomplete_previews_the_time_in_the_members_zone(gc):
    await gc.slash("admin", "profile timezone", zone="America/New_York")
    choices = await gc.sb.autocomplete(gc["admin"], "boost-admin schedule", "start", "tomorrow 18:00")
    assert choices[0] == {"name": "Tue 6 Jan 18:00 (America/New_York) — in 1 day 11 h",
                          "value": "tomorrow 18:00"}
    # without a zone of their own, a member sees the server's
    await gc.slash("admin", "profile timezone", zone="reset")
    await gc.slash("admin", "settings set", key="timezone", value="Europe/Berlin")
    choices = await gc.sb.autocomplete(gc["admin"], "boost-admin schedule", "start", "friday 9pm")
    assert choices[0]["name"] == "Fri 9 Jan 21:00 (Europe/Berlin) — in 4 days 8 h"
    # nonsense is explained right in the list; an empty field offers examples with meanings
    choices = await gc.sb.autocomplete(gc["admin"], "boost-admin schedule", "start", "someday")
    assert "⚠️" in choices[0]["name"] and "not a date or time" in choices[0]["name"]
    choices = await gc.sb.autocomplete(gc["admin"], "boost-admin schedule", "start", "")
    assert any(c["value"] == "tomorrow 18:00" and "(Europe/Berlin)" in c["name"] for c in choices)
    assert all(1 <= len(c["name"]) <= 100 and 1 <= len(c["value"]) <= 100 for c in choices)


async def test_end_and_duration_previews(gc):
    choices = await gc.sb.autocomplete(gc["admin"], "boost-admin schedule", "end", "48h",
                                       start="tomorrow 18:00")
    assert choices[0]["name"] == "Thu 8 Jan 18:00 (UTC) — in 3 days 6 h"
    choices = await gc.sb.autocomplete(gc["admin"], "event-admin create", "duration", "90",
                                       type="social", start="now")
    assert choices[0] == {"name": "1 h 30 min", "value": "90"}
    choices = await gc.sb.autocomplete(gc["admin"], "goal-admin create", "deadline", "30d",
                                       target=10, metric="gems_earned", reward=5)
    assert choices[0]["name"] == "Wed 4 Feb 12:00 (UTC) — in 4 weeks 2 days"


async def test_a_boost_is_scheduled_in_the_members_own_zone(gc):
    await gc.slash("admin", "profile timezone", zone="Asia/Kolkata")
    r = await gc.slash("admin", "boost-admin schedule", factor="2", start="tomorrow 18:00", end="2h")
    assert "Scheduled" in r.content, r.content
    [boost] = await _boosts(gc)
    starts = datetime(2026, 1, 6, 18, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert boost["starts_ms"] == to_ms(starts)
    assert boost["ends_ms"] - boost["starts_ms"] == 2 * 3600 * 1000
    # a Discord timestamp is absolute: no zone involved
    stamp = int(datetime(2026, 1, 10, 9, 0, tzinfo=UTC).timestamp())
    r = await gc.slash("admin", "boost-admin schedule", factor="2", start=f"<t:{stamp}:F>", end="1d")
    assert "Scheduled" in r.content, r.content
    assert (await _boosts(gc))[1]["starts_ms"] == stamp * 1000


@pytest.mark.parametrize(("command", "options", "expected"), [
    ("boost-admin schedule", {"factor": "2", "start": "someday", "end": "2h"}, "not a date or time"),
    ("boost-admin schedule", {"factor": "2", "start": "now", "end": "whenever"}, "not a date or time"),
    ("boost-admin schedule", {"factor": "2", "start": "2025-12-24 10:00", "end": "2h"}, "in the past"),
    ("boost-admin schedule", {"factor": "2", "start": "now", "end": "0h"}, "longer than zero"),
    ("goal-admin create", {"target": 10, "metric": "gems_earned", "reward": 5,
                           "deadline": "yesterday"}, "not a date or time"),
    ("goal-admin create", {"target": 10, "metric": "gems_earned", "reward": 5,
                           "deadline": "monday 9:00"}, None),  # next Monday: fine
    ("event-admin create", {"type": "social", "start": "today 8:00", "duration": "1h"}, "in the past"),
    ("event-admin create", {"type": "social", "start": "now", "duration": "1 fortnight"},
     "as a duration"),
    ("challenge-admin competition", {"kind": "any", "mode": "most", "prize": 100,
                                     "duration": "90m"}, "whole hours"),
    ("challenge-admin competition", {"kind": "any", "mode": "most", "prize": 100,
                                     "duration": "31d"}, "1 to 720 hours"),
    ("challenge-admin competition", {"kind": "any", "mode": "most", "prize": 100,
                                     "duration": "soon"}, "as a duration"),
])
async def test_bad_times_are_refused_privately_and_store_nothing(gc, command, options, expected):
    async def state():
        return (await _boosts(gc), await gc.db["community_goals"].count_documents({}),
                await gc.db["community_events"].count_documents({}),
                await gc.db["challenge_competitions"].count_documents({}))

    before = await state()
    r = await gc.slash("admin", command, **options)
    if expected is None:
        assert "Created goal" in r.content, r.content
        return
    assert r.modal is None and r.ephemeral and expected in r.content, r.content
    assert await state() == before


async def test_old_inputs_keep_working(gc):
    """Events' plain minutes, boosts' `48h` and ISO times typed before the grammar."""
    _, done = await event_form.create(gc, "admin", type="social", start="2026-01-06 18:00",
                                      duration=90)
    assert "Created event #" in done.content, done.content
    event = await gc.db["community_events"].find_one({})
    assert event["ends_ms"] - event["starts_ms"] == 90 * 60_000
    r = await gc.slash("admin", "boost-admin schedule", factor="2", start="2026-01-07T10:00+01:00",
                       end="48h")
    assert "Scheduled" in r.content, r.content
    [boost] = await _boosts(gc)
    assert boost["starts_ms"] == to_ms(datetime(2026, 1, 7, 9, 0, tzinfo=UTC))
    # a competition's plain number is still hours; `2d` is new
    for duration, hours in ((6, 6), ("2d", 48)):
        r = await gc.slash("admin", "challenge-admin competition", kind="any", mode="most",
                           prize=10, duration=duration)
        assert "Competition #" in r.content, r.content
        doc = await gc.db["challenge_competitions"].find_one({}, sort=[("_id", -1)])
        assert doc["ends_ms"] - doc["starts_ms"] == hours * 3_600_000, doc


async def test_an_event_start_is_pinned_when_the_form_opens(gc, clock):
    """`in 1h` means an hour after the command, however long the form takes."""
    opened = await event_form.open_form(gc, "admin", type="social", start="in 1h", duration="2h")
    clock.advance(minutes=10)
    done = await gc.sb.submit_modal(gc["admin"], opened, {"Title": "Slow typist"})
    assert "Created event #" in done.content, done.content
    event = await gc.db["community_events"].find_one({})
    assert event["starts_ms"] == to_ms(datetime(2026, 1, 5, 13, 0, tzinfo=UTC))


async def test_season_days_accept_month_names_and_full_dates(gc):
    """Seasons repeat every year: a day of the year, written `12-24`, `Dec 24` or a full date
    (its year dropped)."""
    async def seasons():
        return [d async for d in gc.db["seasons"].find({}, {"_id": 0, "start_md": 1, "end_md": 1})]

    for start, end, expected in [("christmas", "12-31", "not a date"),
                                 ("Feb 29", "03-07", "every year"),
                                 ("tomorrow", "12-31", "not a date")]:
        r = await gc.sb.slash(gc["admin"], "season-admin add",
                              {"name": "Gem Fair", "start": start, "end": end})
        assert r.ephemeral and expected in r.content, r.content
    assert await seasons() == []
    r = await gc.sb.slash(gc["admin"], "season-admin add",
                          {"name": "Gem Fair", "start": "Dec 24", "end": "2027-01-02"})
    assert "Enabled" in r.content, r.content
    assert await seasons() == [{"start_md": "12-24", "end_md": "01-02"}]
