"""Matching by hand: parsing, the score and its explanation, greedy vs global vs random."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from economy.core.errors import InvalidInput
from economy.mentorship.matching import (
    DEFAULT_SKILLS,
    MenteeProfile,
    MentorProfile,
    format_ranges,
    global_assignment,
    greedy,
    parse_availability,
    parse_languages,
    parse_skill_levels,
    random_assignment,
    ranked_mentors,
    score_pair,
    utc_mask,
)

JAN = datetime(2026, 1, 5, 12, tzinfo=UTC)  # winter: Paris is UTC+1, New York UTC-5
ALL_WEEK = (1 << 168) - 1


def mentor(uid, skills, *, mask=ALL_WEEK, langs=("English",), slots=1):
    return MentorProfile(uid, dict(skills), mask, tuple(langs), slots)


def mentee(uid, wanted, *, mask=ALL_WEEK, langs=("English",)):
    return MenteeProfile(uid, tuple(wanted), mask, tuple(langs))


def test_parse_skills_levels_and_errors():
    assert parse_skill_levels("CAD:4,  Stone   Setting:5", DEFAULT_SKILLS) == [
        ("cad", 4), ("stone setting", 5)]
    assert parse_skill_levels("casting, gemology:2", DEFAULT_SKILLS, mentee=True) == [
        ("casting", 0), ("gemology", 2)]
    for text, message in [("knitting:3", "not a skill"), ("cad:0", "from 1 to 5"),
                          ("cad:6", "from 1 to 5"), ("cad", "Give a level"),
                          ("cad:2, cad:3", "twice"), ("", "at least one")]:
        with pytest.raises(InvalidInput, match=message):
            parse_skill_levels(text, DEFAULT_SKILLS)


def test_availability_merges_and_refuses_backwards_ranges():
    # Overlapping and touching ranges merge; day groups expand.
    assert parse_availability("mon 18-21, mon 20-23, mon 23-24") == [(18, 24)]
    assert parse_availability("weekends 10-12") == [(5 * 24 + 10, 5 * 24 + 12),
                                                   (6 * 24 + 10, 6 * 24 + 12)]
    assert format_ranges(parse_availability("tue-wed 9-11")) == "tue 9-11, wed 9-11"
    for text, message in [("mon 21-18", "end must be after"), ("mon 9-9", "end must be after"),
                          ("funday 1-2", "days are"), ("mon 9-25", "0 to 24"),
                          ("whenever", "couldn't read"), ("sun-mon 1-2", "from Monday")]:
        with pytest.raises(InvalidInput, match=message):
            parse_availability(text)


def test_languages():
    assert parse_languages("en, French, fr") == ["English", "French"]
    with pytest.raises(InvalidInput, match="not a language"):
        parse_languages("klingon")


def test_overlap_is_computed_in_utc_from_both_zones():
    # Paris 19-22 local (UTC+1) is 18-21 UTC; New York 13-16 local (UTC-5) is 18-21 UTC.
    paris = utc_mask(parse_availability("mon 19-22"), "Europe/Paris", JAN)
    new_york = utc_mask(parse_availability("mon 13-16"), "America/New_York", JAN)
    assert (paris & new_york).bit_count() == 3
    # In July Paris is UTC+2 and New York UTC-4: the same local hours still meet fully.
    july = datetime(2026, 7, 6, tzinfo=UTC)
    paris = utc_mask(parse_availability("mon 19-22"), "Europe/Paris", july)
    new_york = utc_mask(parse_availability("mon 13-16"), "America/New_York", july)
    assert (paris & new_york).bit_count() == 3
    # Sunday late evening in Tokyo wraps to Sunday UTC, not outside the week.
    tokyo = utc_mask([(0, 2)], "Asia/Tokyo", JAN)  # Mon 00-02 JST = Sun 15-17 UTC
    assert tokyo == (1 << 159) | (1 << 160)


def test_score_by_hand_and_explanation():
    # Wants (priority order) cad (weight 3), casting (2), gemology (1) = 6 in all.
    who = mentee(1, [("cad", 1), ("casting", 0), ("gemology", 2)], langs=("German", "French"))
    # cad gap 2 -> fit 1.0 (x3), casting gap 1 -> 0.7 (x2), gemology not above -> uncovered.
    hours = sum(1 << h for h in range(9))  # 9 h/week together: overlap factor 1
    who = MenteeProfile(1, who.wanted, hours, who.languages)
    teacher = mentor(2, {"cad": 3, "casting": 1, "gemology": 2}, langs=("French",))
    s = score_pair(who, teacher)
    assert s.score == pytest.approx((3 * 1.0 + 2 * 0.7) / 6)
    assert s.explain() == "2 of 3 skills, 9 h/week overlap, both speak French"
    assert s.coverage == pytest.approx(5 / 6)
    # Three hours together halve the score (6 h/week is full overlap).
    short = score_pair(MenteeProfile(1, who.wanted, 0b111, who.languages), teacher)
    assert short.score == pytest.approx(s.score / 2, abs=1e-6)
    # No shared language, no shared hour, or no covered skill -> 0.
    assert score_pair(who, mentor(2, {"cad": 3}, mask=hours, langs=("Thai",))).score == 0
    assert score_pair(who, mentor(2, {"cad": 3}, mask=1 << 100, langs=("French",))).score == 0
    assert score_pair(who, mentor(2, {"cad": 1}, mask=hours, langs=("French",))).score == 0
    assert score_pair(who, mentor(1, {"cad": 3}, mask=hours, langs=("French",))).score == 0


def test_ranked_respects_capacity_and_exclusions():
    who = mentee(1, [("cad", 0)])
    best, good, full = mentor(2, {"cad": 2}), mentor(3, {"cad": 1}), mentor(4, {"cad": 2}, slots=0)
    assert [m.user_id for m, _ in ranked_mentors(who, [good, best, full])] == [2, 3]
    assert [m.user_id for m, _ in ranked_mentors(who, [good, best], {(1, 2)})] == [3]


def test_global_beats_greedy_on_a_known_instance():
    # A (first in line) likes X (gap 2: 1.0) a bit more than Y (gap 1: 0.7).
    # B can only learn from X (gap 1: 0.7); Y's level equals B's.
    a, b = mentee(1, [("cad", 0)]), mentee(2, [("cad", 1)])
    x, y = mentor(10, {"cad": 2}), mentor(11, {"cad": 1})
    g = greedy([a, b], [x, y])
    assert g.pairs == {1: 10} and g.total == pytest.approx(1.0)  # B is left without a mentor
    best = global_assignment([a, b], [x, y])
    assert best.pairs == {1: 11, 2: 10} and best.total == pytest.approx(1.4)
    # Capacity expands into slots: X with two slots takes both.
    x2 = mentor(10, {"cad": 2}, slots=2)
    assert global_assignment([a, b], [x2, y]).pairs == {1: 10, 2: 10}
    # Excluded pairs never match, even when that lowers the total.
    assert global_assignment([a, b], [x, y], {(2, 10)}).pairs == {1: 10}
    r = random_assignment([a, b], [x, y], seed=1)
    assert r.total <= best.total and set(r.pairs.values()) <= {10, 11}
