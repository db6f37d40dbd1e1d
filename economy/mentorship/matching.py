"""Mentorship matching: parsing profiles, scoring a pair, and assigning mentees to mentors.

Pure functions (no storage, no Discord), so the scores and assignments can be checked by hand.

Score of a (mentee, mentor) pair, in 0..1:

    weighted skill coverage x level-gap fit x availability overlap x shared language

- Skill coverage: the mentee lists wanted skills in priority order (the first weighs most:
  weight n, n-1, ..., 1). A skill is covered when the mentor's level is above the mentee's.
- Level-gap fit: how well the mentor's level suits the mentee's on covered skills (GAP_FIT):
  one level above is a little close, two is ideal, five is far.
  Coverage x fit = sum(weight x fit) / sum(weight).
- Overlap: hours per week both are free, computed in UTC from both time zones;
  min(1, hours / FULL_OVERLAP_HOURS). No common hour -> 0 (they could never meet).
- Language: 1 when they share one, else 0.
Capacity is a hard limit; pairs in `excluded` (declined, reported, tried before) never match.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from economy.core.errors import InvalidInput

HOURS_PER_WEEK = 168
FULL_OVERLAP_HOURS = 6
MIN_LEVEL, MAX_LEVEL = 1, 5
MAX_WANTED = 8
MAX_SKILLS = 15
MAX_LANGUAGES = 6
# Mentor level minus mentee level -> fit. Levels are 1-5 (mentee 0 = complete beginner).
GAP_FIT = {1: 0.7, 2: 1.0, 3: 0.9, 4: 0.6, 5: 0.4}

DEFAULT_SKILLS: tuple[str, ...] = (
    "stone setting", "cad", "casting", "gemology", "appraisal", "photography", "pricing",
    "selling online", "metalsmithing", "stone cutting", "enamelling", "engraving", "polishing",
    "wax carving", "repair", "beading", "wire wrapping", "design sketching",
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {"daily": DAYS, "everyday": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}

LANGUAGES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "nl": "Dutch", "pt": "Portuguese", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian",
    "tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "ja": "Japanese", "ko": "Korean",
    "zh": "Chinese", "th": "Thai", "vi": "Vietnamese", "id": "Indonesian", "sv": "Swedish",
    "da": "Danish", "no": "Norwegian", "fi": "Finnish", "el": "Greek", "he": "Hebrew",
    "cs": "Czech", "ro": "Romanian", "hu": "Hungarian",
}
_LANGUAGE_NAMES = {name.lower(): name for name in LANGUAGES.values()}


# --- parsing -------------------------------------------------------------------------------
def normalize_skill(raw: str, skills: Sequence[str]) -> str:
    """The guild's skill `raw` names (case and spacing ignored); InvalidInput when unknown."""
    name = " ".join(raw.lower().split())
    if name in skills:
        return name
    close = [s for s in skills if s.startswith(name[:3])][:3] if name else []
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise InvalidInput(f"`{raw.strip()[:40]}` is not a skill of this server.{hint} "
                       "Pick skills from the autocomplete list.")


def _level(text: str, what: str, *, low: int) -> int:
    if not re.fullmatch(r"\d", text.strip()):
        raise InvalidInput(f"The level of {what} must be a number from {low} to {MAX_LEVEL}.")
    level = int(text)
    if not low <= level <= MAX_LEVEL:
        raise InvalidInput(f"The level of {what} must be from {low} to {MAX_LEVEL}.")
    return level


def parse_skill_levels(text: str, skills: Sequence[str], *, mentee: bool = False
                       ) -> list[tuple[str, int]]:
    """Parse `cad:4, stone setting:5` into [(skill, level)], in the order given.

    Mentors give levels 1-5; mentees give their current level 0-5 (0 = beginner, the default
    when omitted). The order is the mentee's priority. Raises InvalidInput.
    """
    items = [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]
    if not items:
        raise InvalidInput("List at least one skill, like `cad:3, casting:2`.")
    limit = MAX_WANTED if mentee else MAX_SKILLS
    if len(items) > limit:
        raise InvalidInput(f"List at most {limit} skills.")
    found: dict[str, int] = {}
    for item in items:
        name, sep, level_text = item.rpartition(":")
        if not sep:
            if not mentee:
                raise InvalidInput(f"Give a level for `{item[:40]}`, like `{item[:40]}:3` (1-5).")
            name, level_text = item, "0"
        skill = normalize_skill(name, skills)
        if skill in found:
            raise InvalidInput(f"`{skill}` is listed twice.")
        found[skill] = _level(level_text, skill, low=0 if mentee else MIN_LEVEL)
    return list(found.items())


def parse_availability(text: str) -> list[tuple[int, int]]:
    """Parse weekly hour ranges in local time into merged [start, end) hours of the week.

    Format: `mon-fri 18-21, sat 10-14, daily 7-8` (days: mon..sun, a day range, `daily`,
    `weekdays`, `weekends`; hours 0-24). Overlapping or touching ranges are merged; a range
    whose end is not after its start is refused (split overnight ranges at midnight).
    """
    items = [part.strip().lower() for part in re.split(r"[,;\n]", text or "") if part.strip()]
    if not items:
        raise InvalidInput("Give your free hours, like `mon-fri 18-21, sat 10-14`.")
    if len(items) > 21:
        raise InvalidInput("Give at most 21 availability ranges.")
    ranges: list[tuple[int, int]] = []
    for item in items:
        match = re.fullmatch(r"([a-z]+)(?:\s*-\s*([a-z]+))?\s+(\d{1,2})\s*-\s*(\d{1,2})", item)
        if not match:
            raise InvalidInput(f"I couldn't read `{item[:40]}`: write a day and hours, "
                               "like `mon-fri 18-21`.")
        days = _days(match[1], match[2], item)
        start, end = int(match[3]), int(match[4])
        if start > 24 or end > 24:
            raise InvalidInput(f"`{item[:40]}`: hours go from 0 to 24.")
        if end <= start:
            raise InvalidInput(f"`{item[:40]}`: the end must be after the start "
                               "(split overnight times: `mon 22-24, tue 0-2`).")
        ranges += [(DAYS.index(day) * 24 + start, DAYS.index(day) * 24 + end) for day in days]
    return merge_ranges(ranges)


def _days(first: str, last: str | None, item: str) -> tuple[str, ...]:
    if last is None and first in _DAY_GROUPS:
        return _DAY_GROUPS[first]
    names = [first[:3], (last or first)[:3]]
    if any(name not in DAYS for name in names):
        raise InvalidInput(f"`{item[:40]}`: days are mon, tue, wed, thu, fri, sat, sun "
                           "(or daily, weekdays, weekends).")
    a, b = DAYS.index(names[0]), DAYS.index(names[1])
    if b < a:
        raise InvalidInput(f"`{item[:40]}`: write day ranges from Monday on, like `fri-sun`.")
    return DAYS[a:b + 1]


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or touching [start, end) ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def format_ranges(ranges: Sequence[Sequence[int]]) -> str:
    """`mon 18-21, sat 10-14` from week-hour ranges (ranges over midnight split per day)."""
    parts = []
    for start, end in ranges:
        while start < end:
            day, hour = divmod(start, 24)
            stop = min(end, (day + 1) * 24)
            parts.append(f"{DAYS[day]} {hour}-{stop - day * 24}")
            start = stop
    return ", ".join(parts)


def check_zone(name: str) -> str:
    """A valid IANA time zone name, else InvalidInput."""
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"`{name[:40]}` is not a time zone I know; use a name like "
                           "Europe/Paris or America/New_York.") from None
    return name.strip()


def parse_languages(text: str) -> list[str]:
    """`en, French` -> ['English', 'French'] (codes or names); InvalidInput when unknown."""
    items = [part.strip().lower() for part in re.split(r"[,;/]", text or "") if part.strip()]
    if not items:
        raise InvalidInput("Give at least one language, like `English, French`.")
    if len(items) > MAX_LANGUAGES:
        raise InvalidInput(f"Give at most {MAX_LANGUAGES} languages.")
    found: list[str] = []
    for item in items:
        name = LANGUAGES.get(item) or _LANGUAGE_NAMES.get(item)
        if name is None:
            raise InvalidInput(f"`{item[:30]}` is not a language I know; use a name like "
                               "English or a code like fr.")
        if name not in found:
            found.append(name)
    return found


def utc_mask(ranges: Sequence[Sequence[int]], zone: str, at: datetime) -> int:
    """The week's free hours as a 168-bit mask in UTC (bit h = hour h after Monday 00:00 UTC).

    Uses the zone's offset at `at` (so daylight-saving time follows the calendar); offsets that
    are not whole hours round down to the hour.
    """
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    shift = int(offset.total_seconds() // 3600) if offset else 0
    mask = 0
    for start, end in ranges:
        for hour in range(start, end):
            mask |= 1 << ((hour - shift) % HOURS_PER_WEEK)
    return mask


# --- scoring -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MentorProfile:
    """What matching needs of a mentor."""

    user_id: int
    skills: dict[str, int]
    mask: int
    languages: tuple[str, ...]
    free_slots: int


@dataclass(frozen=True)
class MenteeProfile:
    """What matching needs of a mentee: wanted skills (priority order) with current levels."""

    user_id: int
    wanted: tuple[tuple[str, int], ...]
    mask: int
    languages: tuple[str, ...]


@dataclass(frozen=True)
class PairScore:
    """A pair's score and its parts, with a sentence that explains it."""

    score: float
    covered: int
    wanted: int
    coverage: float
    overlap_hours: int
    language: str | None

    def explain(self) -> str:
        """`3 of 4 skills, 9 h/week overlap, both speak French`."""
        language = f"both speak {self.language}" if self.language else "no common language"
        return (f"{self.covered} of {self.wanted} skill{'s' if self.wanted != 1 else ''}, "
                f"{self.overlap_hours} h/week overlap, {language}")


def score_pair(mentee: MenteeProfile, mentor: MentorProfile) -> PairScore:
    """Score one pair (see the module docstring); 0 when they cannot work together."""
    n = len(mentee.wanted)
    total_weight = n * (n + 1) / 2 or 1
    weighted_fit = 0.0
    covered = 0
    covered_weight = 0
    for index, (skill, level) in enumerate(mentee.wanted):
        gap = mentor.skills.get(skill, 0) - level
        if gap > 0:
            weight = n - index
            covered += 1
            covered_weight += weight
            weighted_fit += weight * GAP_FIT[min(gap, 5)]
    hours = (mentee.mask & mentor.mask).bit_count()
    language = next((lang for lang in mentee.languages if lang in mentor.languages), None)
    if mentee.user_id == mentor.user_id or not covered or not hours or language is None:
        score = 0.0
    else:
        score = weighted_fit / total_weight * min(1.0, hours / FULL_OVERLAP_HOURS)
    return PairScore(score=round(score, 6), covered=covered, wanted=n,
                     coverage=covered_weight / total_weight, overlap_hours=hours,
                     language=language)


# --- assignment ----------------------------------------------------------------------------
@dataclass
class Assignment:
    """Who gets whom, with totals for comparing strategies."""

    pairs: dict[int, int] = field(default_factory=dict)  # mentee -> mentor
    scores: dict[int, PairScore] = field(default_factory=dict)  # mentee -> its pair's score

    @property
    def total(self) -> float:
        """Sum of the assigned pairs' scores."""
        return sum(s.score for s in self.scores.values())

    @property
    def coverage(self) -> float:
        """Sum of the assigned pairs' weighted skill coverage."""
        return sum(s.coverage for s in self.scores.values())


Excluded = set[tuple[int, int]]


def _allowed(mentee: MenteeProfile, mentor: MentorProfile, excluded: Excluded) -> bool:
    # Cheap checks first (a common hour, a common language): most pairs of a large community
    # fail one of them, and scoring is the expensive part of a round.
    return (mentee.mask & mentor.mask != 0
            and not set(mentee.languages).isdisjoint(mentor.languages)
            and mentee.user_id != mentor.user_id
            and (mentee.user_id, mentor.user_id) not in excluded)


def ranked_mentors(mentee: MenteeProfile, mentors: Sequence[MentorProfile],
                   excluded: Excluded = frozenset()) -> list[tuple[MentorProfile, PairScore]]:
    """Mentors with a free slot and a positive score for `mentee`, best first."""
    found = []
    for mentor in mentors:
        if mentor.free_slots <= 0 or not _allowed(mentee, mentor, excluded):
            continue
        score = score_pair(mentee, mentor)
        if score.score > 0:
            found.append((mentor, score))
    found.sort(key=lambda pair: (-pair[1].score, pair[0].user_id))
    return found


def greedy(mentees: Sequence[MenteeProfile], mentors: Sequence[MentorProfile],
           excluded: Excluded = frozenset()) -> Assignment:
    """First come, first served: each mentee in turn takes the best mentor still free."""
    free = {m.user_id: m.free_slots for m in mentors}
    result = Assignment()
    for mentee in mentees:
        best = None
        for mentor in mentors:
            if free[mentor.user_id] <= 0 or not _allowed(mentee, mentor, excluded):
                continue
            score = score_pair(mentee, mentor)
            if score.score > 0 and (best is None or score.score > best[1].score):
                best = (mentor, score)
        if best:
            free[best[0].user_id] -= 1
            result.pairs[mentee.user_id] = best[0].user_id
            result.scores[mentee.user_id] = best[1]
    return result


def random_assignment(mentees: Sequence[MenteeProfile], mentors: Sequence[MentorProfile],
                      excluded: Excluded = frozenset(), *, seed: int = 0) -> Assignment:
    """A baseline: each mentee, in random order, gets a random mentor that can work with them."""
    rng = random.Random(seed)
    free = {m.user_id: m.free_slots for m in mentors}
    order = list(mentees)
    rng.shuffle(order)
    result = Assignment()
    for mentee in order:
        options = [(m, s) for m in mentors
                   if free[m.user_id] > 0 and _allowed(mentee, m, excluded)
                   and (s := score_pair(mentee, m)).score > 0]
        if options:
            mentor, score = rng.choice(options)
            free[mentor.user_id] -= 1
            result.pairs[mentee.user_id] = mentor.user_id
            result.scores[mentee.user_id] = score
    return result


def global_assignment(mentees: Sequence[MenteeProfile], mentors: Sequence[MentorProfile],
                      excluded: Excluded = frozenset()) -> Assignment:
    """The assignment with the highest total score (each mentor's capacity as that many slots).

    Solved with scipy's linear_sum_assignment (Hungarian/JV) on a mentees x slots matrix;
    pairs with score 0 are dropped from the result.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    result = Assignment()
    columns = [j for j, m in enumerate(mentors) for _ in range(max(0, m.free_slots))]
    if not mentees or not columns:
        return result
    # Score each (mentee, mentor) once, then copy the column into the mentor's slots.
    per_mentor = np.zeros((len(mentees), len(mentors)))
    cache: dict[tuple[int, int], PairScore] = {}
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            if mentor.free_slots > 0 and _allowed(mentee, mentor, excluded):
                score = score_pair(mentee, mentor)
                if score.score > 0:
                    per_mentor[i, j] = score.score
                    cache[(i, j)] = score
    matrix = per_mentor[:, columns]
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    for i, c in zip(rows, cols, strict=True):
        j = columns[c]
        score = cache.get((i, j))
        if score is not None:
            result.pairs[mentees[i].user_id] = mentors[j].user_id
            result.scores[mentees[i].user_id] = score
    return result
