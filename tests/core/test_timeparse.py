"""The one time grammar (economy/core/timeparse.py): examples, edges, DST, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from economy.core.errors import InvalidInput
from economy.core.timeparse import (
    MAX_AHEAD,
    describe,
    describe_duration,
    parse_duration,
    parse_end,
    parse_month_day,
    parse_when,
    preview,
)

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)  # a Monday; 20:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland",
                               "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns")]


def at(text: str, zone=BERLIN, now=NOW) -> datetime:
    return parse_when(text, now, zone)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOW + timedelta(hours=2)), ("3d", NOW + timedelta(days=3)),
    ("1w", NOW + timedelta(weeks=1)), ("90m", NOW + timedelta(minutes=90)),
    ("1h30m", NOW + timedelta(minutes=90)), ("in 2 hours", NOW + timedelta(hours=2)),
    ("now", NOW), ("NOW", NOW),
    ("tomorrow 18:00", local(2026, 12, 8, 18, 0)), ("today 9pm", local(2026, 12, 7, 21, 0)),
    ("today 9 PM", local(2026, 12, 7, 21, 0)),
    ("2026-12-24 19:00", local(2026, 12, 24, 19, 0)), ("12-24 19:00", local(2026, 12, 24, 19, 0)),
    ("Dec 24 19:00", local(2026, 12, 24, 19, 0)), ("24 december 7pm", local(2026, 12, 24, 19, 0)),
    ("friday 18:00", local(2026, 12, 11, 18, 0)), ("Fri 6pm", local(2026, 12, 11, 18, 0)),
    ("monday 21:00", local(2026, 12, 7, 21, 0)),   # today, still ahead
    ("monday 8:00", local(2026, 12, 14, 8, 0)),    # today, gone: next week
    ("18:00", local(2026, 12, 8, 18, 0)),          # gone today: tomorrow
    ("21:30", local(2026, 12, 7, 21, 30)), ("noon", local(2026, 12, 8, 12, 0)),
    ("01-05 10:00", local(2027, 1, 5, 10, 0)),     # a month-day gone this year: next year
    ("2026-12-24", local(2026, 12, 24, 0, 0)),     # a date alone: its midnight
    ("<t:1797000000>", datetime.fromtimestamp(1797000000, UTC)),
    ("<t:1797000000:F>", datetime.fromtimestamp(1797000000, UTC)),
    ("2026-12-24T19:00+01:00", local(2026, 12, 24, 19, 0)),  # ISO with offset still works
])
def test_examples(text, expected):
    assert at(text) == expected
    assert at(text).tzinfo is not None


@pytest.mark.parametrize(("text", "match"), [
    ("whenever", "not a date or time"), ("", "not a date or time"), ("13pm", "not a date or time"),
    ("25:00", "not a date or time"), ("18", "not a date or time"), ("2026-02-30 10:00", "not a date"),
    ("yesterday", "not a date or time"), ("today 8:00", "in the past"),
    ("2026-12-01 10:00", "in the past"), ("<t:1767225600>", "in the past"),
    ("2030-01-01", "too far ahead"), ("400d", "too far ahead"),
    ("<t:99999999999999>", "out of range"), ("5 parsecs", "not a date or time"),
])
def test_bad_input_is_friendly(text, match):
    with pytest.raises(InvalidInput, match=match):
        at(text)


def test_member_zone_changes_the_meaning():
    assert at("tomorrow 18:00", ZoneInfo("UTC")) == datetime(2026, 12, 8, 18, 0, tzinfo=UTC)
    assert at("tomorrow 18:00", ZoneInfo("America/New_York")) == datetime(2026, 12, 8, 23, 0,
                                                                         tzinfo=UTC)
    # "today" is the member's today: 19:00 UTC is already tomorrow in Auckland
    assert at("today 10:00", ZoneInfo("Pacific/Auckland")) == datetime(2026, 12, 7, 21, 0,
                                                                      tzinfo=UTC)


def test_dst_gap_moves_forward_and_overlap_takes_the_first():
    now = datetime(2027, 3, 1, tzinfo=UTC)
    # 02:30 does not exist in Berlin on 2027-03-28: the wall clock shows 03:30 then
    gap = parse_when("2027-03-28 02:30", now, BERLIN)
    assert gap == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert gap.astimezone(BERLIN).hour == 3
    # 02:30 happens twice on 2027-10-31: the first one (summer time, UTC+2)
    twice = parse_when("2027-10-31 02:30", now, BERLIN)
    assert twice == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_durations():
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2 days") == timedelta(days=2)
    assert parse_duration("90", bare="minutes") == timedelta(minutes=90)
    with pytest.raises(InvalidInput, match="duration"):
        parse_duration("90")  # a plain number needs a declared unit
    with pytest.raises(InvalidInput, match="longer than zero"):
        parse_duration("0m")
    with pytest.raises(InvalidInput, match="too long"):
        parse_duration("32d", maximum=timedelta(days=31))
    with pytest.raises(InvalidInput, match="duration"):
        parse_duration("tomorrow")


def test_end_is_a_duration_after_the_start_or_a_moment():
    start = NOW + timedelta(days=1)
    assert parse_end("48h", start, NOW, BERLIN) == start + timedelta(hours=48)
    assert parse_end("friday 18:00", start, NOW, BERLIN) == local(2026, 12, 11, 18, 0)
    with pytest.raises(InvalidInput):
        parse_end("0h", start, NOW, BERLIN)


def test_month_days():
    assert parse_month_day("12-24") == (12, 24)
    assert parse_month_day("Dec 24") == (12, 24)
    assert parse_month_day("24 December") == (12, 24)
    assert parse_month_day("2027-12-24") == (12, 24)
    for bad in ("02-29", "13-01", "christmas", "12-32"):
        with pytest.raises(InvalidInput):
            parse_month_day(bad)


def test_describe_and_preview():
    assert describe(local(2026, 12, 24, 19, 0), NOW, BERLIN) == (
        "Thu 24 Dec 19:00 (Europe/Berlin) — in 2 weeks 2 days")
    assert describe(local(2027, 1, 1, 0, 0), NOW, BERLIN).startswith("Fri 1 Jan 2027 00:00")
    assert preview("friday 18:00", NOW, BERLIN) == (
        "Fri 11 Dec 18:00 (Europe/Berlin) — in 3 days 22 h")
    assert preview("nonsense", NOW, BERLIN).startswith("⚠️ `nonsense` is not a date or time")
    assert preview("90", NOW, BERLIN, duration_only=True, bare="minutes") == "1 h 30 min"
    assert describe_duration(timedelta(days=200)) == "about 7 months"


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                       timezones=st.just(UTC))


@pytest.mark.slow  # many examples (300)
@settings(max_examples=300, deadline=None)
@given(now=moments, zone=st.sampled_from(ZONES), hour=st.integers(0, 23),
       minute=st.integers(0, 59), days=st.integers(0, 300))
def test_local_times_land_on_that_wall_clock(now, zone, hour, minute, days):
    """Any `YYYY-MM-DD HH:MM` ahead is read in the zone (shifted only by a DST gap)."""
    day = (now.astimezone(zone) + timedelta(days=days + 1)).date()
    when = parse_when(f"{day:%Y-%m-%d} {hour:02d}:{minute:02d}", now, zone)
    assert when.tzinfo == UTC
    back = when.astimezone(zone)
    assert back.date() == day
    shift = (back.hour * 60 + back.minute) - (hour * 60 + minute)
    assert 0 <= shift <= 120  # 0 except in a gap (Lord Howe's is 30 min, most are 60)


@pytest.mark.slow  # many examples (300)
@settings(max_examples=300, deadline=None)
@given(now=moments, zone=st.sampled_from(ZONES), text=st.sampled_from([
    "18:00", "9pm", "noon", "tomorrow 7am", "friday 18:00", "sun 23:59", "12-24 19:00",
    "jan 1", "2h", "1w", "now"]))
def test_relative_inputs_are_never_past_nor_too_far(now, zone, text):
    when = parse_when(text, now, zone)
    assert now - timedelta(minutes=1) <= when <= now + MAX_AHEAD


@pytest.mark.slow  # many examples
@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30), now=moments, zone=st.sampled_from(ZONES))
def test_any_text_parses_or_is_refused_politely(text, now, zone):
    try:
        when = parse_when(text, now, zone)
    except InvalidInput as error:
        assert error.message and len(error.message) < 300
    else:
        assert when.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(h=st.integers(0, 500), m=st.integers(0, 59))
def test_duration_round_trip(h, m):
    if h == m == 0:
        return
    assert parse_duration(f"{h}h{m}m") == timedelta(hours=h, minutes=m)
