"""The shipped pool, answer matching and the deterministic daily draw."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from economy.challenges import answers, rotation
from economy.challenges.days import guild_day
from economy.challenges.pool import parse_def, shipped_pool
from economy.challenges.service import SUPPORTED_METRICS
from economy.core.errors import InvalidInput

pytestmark = pytest.mark.timeout(60)


def test_shipped_pool_has_forty_over_four_types():
    pool = shipped_pool()
    assert len(pool) >= 40
    kinds = Counter(c.type for c in pool)
    assert set(kinds) == {"activity", "knowledge", "creativity", "community"}
    assert {c.metric for c in pool if c.type == "activity"} == {"messages", "reactions", "voice_minutes"}
    assert len({c.id for c in pool}) == len(pool)
    assert all(len(c.description) <= 100 for c in pool if c.type == "knowledge")


@pytest.mark.parametrize("given,ok", [
    ("colombia", True), ("COLÔMBIA", True), ("  Colombia. ", True), ("Columbia", True),
    ("Colmbia", True), ("Brazil", False), ("", False), ("Col", False),
])
def test_answers_forgive_case_accents_and_a_typo(given, ok):
    assert answers.matches(given, ("Colombia",)) is ok


def test_short_answers_need_exact_match():
    assert answers.matches("ten", ("10", "ten"))
    assert not answers.matches("tan", ("10", "ten"))
    assert answers.matches("Émeraude", ("emeraude",))


def test_answer_text_limits():
    for bad in ("", "   ", "x" * 10_000):
        with pytest.raises(InvalidInput):
            answers.check_answer_text(bad)


def _draw(guild, day, recent=()):
    pool = [c for c in shipped_pool() if c.metric in SUPPORTED_METRICS]
    return rotation.draw(pool, guild_id=guild, day=day, count=3, recent=recent)


def test_draw_is_deterministic_and_mixed():
    day = date(2026, 3, 3)
    first = [c.id for c in _draw(1, day)]
    assert first == [c.id for c in _draw(1, day)]  # same guild and day -> same set
    assert [c.id for c in _draw(2, day)] != first or [c.id for c in _draw(3, day)] != first
    picked = _draw(1, day)
    assert len({c.type for c in picked}) == 3  # one of each validated type before a repeat
    assert len({c.difficulty for c in picked}) >= 2


def test_no_repeat_within_fourteen_days():
    recent: list[list[str]] = []
    start = date(2026, 3, 1)
    for offset in range(40):
        window = {cid for ids in recent[-14:] for cid in ids}
        ids = [c.id for c in _draw(7, start + timedelta(days=offset), recent=window)]
        assert not set(ids) & window
        recent.append(ids)


def test_seasonal_only_in_season():
    pool = shipped_pool()
    december = [c.id for c in pool if c.season and not c.in_season(date(2026, 6, 1))]
    assert december
    for offset in range(30):
        ids = {c.id for c in rotation.draw(pool, guild_id=3, day=date(2026, 6, 1) + timedelta(days=offset), count=4)}
        assert not ids & set(december)


def test_custom_definition_validation():
    with pytest.raises(InvalidInput, match="target"):
        parse_def({"id": "c1", "type": "activity", "metric": "messages", "target": 0,
                   "title": "Chat", "description": "Chat a lot"})
    with pytest.raises(InvalidInput, match="answer"):
        parse_def({"id": "c1", "type": "knowledge", "title": "Quiz", "description": "Why?",
                   "answers": ["  "]})


def test_guild_day_respects_zone_reset_and_dst():
    paris = ZoneInfo("Europe/Paris")
    # 2026-03-29: clocks go 02:00 -> 03:00 in Paris; the day is 23 hours long.
    w = guild_day(datetime(2026, 3, 29, 12, tzinfo=UTC), paris, 0)
    assert w.key == "2026-03-29" and w.end - w.start == timedelta(hours=23)
    w = guild_day(datetime(2026, 10, 25, 12, tzinfo=UTC), paris, 0)
    assert w.end - w.start == timedelta(hours=25)
    # Reset hour 6 in Auckland (UTC+13 in January): 16:59 UTC is 05:59 local -> still yesterday.
    akl = ZoneInfo("Pacific/Auckland")
    assert guild_day(datetime(2026, 1, 5, 16, 59, tzinfo=UTC), akl, 6).key == "2026-01-05"
    assert guild_day(datetime(2026, 1, 5, 17, 0, tzinfo=UTC), akl, 6).key == "2026-01-06"
