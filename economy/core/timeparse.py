"""One grammar for every date and duration a member types (pure: no Discord, no store).

- Durations: `90m`, `2h`, `3d`, `1w`, `1h30m`, `2 hours`, `in 3 days`.
- Local times, in the member's IANA zone: `now`, `18:00`, `9pm`, `today 9pm`,
  `tomorrow 18:00`, `friday 18:00`, `12-24 19:00`, `Dec 24 19:00`, `2026-12-24 19:00`
  (a date alone means its midnight). ISO 8601 with an offset (`2026-12-24T19:00+01:00`) is kept.
- Discord timestamps: `<t:1767225600>` and `<t:1767225600:F>` (already absolute).

Everything is relative to an injected `now` (aware UTC) and returns aware UTC datetimes or
timedeltas. Bad input raises `InvalidInput` with a message a member can act on. A wall-clock time
that does not exist (the hour skipped when clocks go forward) moves forward by the gap, as a clock
on the wall would show it; an hour that happens twice (clocks go back) means its first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from economy.core.errors import InvalidInput

#: How far ahead a time may be by default (a typo like `2062` is refused, not stored).
MAX_AHEAD = timedelta(days=366)
#: Slack for "in the past": a member typing `now` or the current minute is not late.
PAST_SLACK = timedelta(minutes=1)

EXAMPLES = "`2h`, `3d`, `tomorrow 18:00`, `friday 9pm`, `2026-12-24 19:00` or `<t:1767225600>`"

_UNITS = {
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}
_PART = re.compile(r"(\d{1,6})\s*([a-z]+)")
_DURATION = re.compile(r"^(?:in\s+|\+\s*)?((?:\d{1,6}\s*[a-z]+\s*)+)$")
_STAMP = re.compile(r"^<t:(-?\d{1,20})(?::[tTdDfFR])?>$")
_BARE_INT = re.compile(r"^\d{1,6}$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MD = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_MONTHS = {name: n for n, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for name in names}
_WEEKDAYS = {name: n for n, names in enumerate((
    ("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"),
    ("thu", "thur", "thurs", "thursday"), ("fri", "friday"), ("sat", "saturday"),
    ("sun", "sunday"))) for name in names}


def _clean(text: str) -> str:
    return " ".join(str(text).split()).lower()


def _bad(text: str) -> InvalidInput:
    shown = " ".join(str(text).split())[:40].replace("`", "'")
    return InvalidInput(f"`{shown}` is not a date or time I can read. Try {EXAMPLES}.")


# --- durations --------------------------------------------------------------------------------
def is_duration(text: str) -> bool:
    """Whether `text` is written as a duration (`2h`, `in 3 days`), not a moment."""
    return _DURATION.match(_clean(text)) is not None and _duration_or_none(text) is not None


def _duration_or_none(text: str) -> timedelta | None:
    match = _DURATION.match(_clean(text))
    if not match:
        return None
    seconds = 0
    for amount, unit in _PART.findall(match.group(1)):
        if unit not in _UNITS:
            return None
        seconds += int(amount) * _UNITS[unit]
    return timedelta(seconds=seconds)


def parse_duration(text: str, *, bare: str | None = None,
                   maximum: timedelta | None = None) -> timedelta:
    """A positive duration like `90m`, `2h`, `3d`, `1w` or `1h30m`.

    `bare` names the unit of a plain number (`"minutes"` keeps events' old `90` working);
    without it a plain number is refused. Raises InvalidInput for anything else, zero, or more
    than `maximum`.
    """
    raw = _clean(text)
    if bare is not None and _BARE_INT.match(raw):
        raw = f"{raw} {bare}"
    found = _duration_or_none(raw)
    if found is None:
        shown = " ".join(str(text).split())[:40].replace("`", "'")
        unit = f" (a plain number means {bare})" if bare else ""
        raise InvalidInput(f"I couldn't read `{shown}` as a duration{unit}. Use a length like "
                           "`90m`, `2h`, `3d`, `1w` or `1h30m`.")
    if found <= timedelta(0):
        raise InvalidInput("The duration must be longer than zero.")
    if maximum is not None and found > maximum:
        raise InvalidInput(f"That is too long: at most {describe_duration(maximum)}.")
    return found


# --- moments ----------------------------------------------------------------------------------
def _zoned(day: date, at: time, zone: tzinfo) -> datetime:
    """Local wall-clock `day at` -> aware UTC; a skipped time moves forward by the gap."""
    naive = datetime.combine(day, at)
    # fold=0: an ambiguous time is its first occurrence; a skipped one is read with the offset
    # before the jump, which lands after the jump (02:30 on a spring-forward night -> 03:30).
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _parse_clock(text: str) -> time | None:
    if text == "noon":
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if match.group(2) is None and half is None:
        return None  # a bare number is not a clock time (`18` could be anything)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _parse_day(words: list[str], today: date) -> tuple[date, bool] | None:
    """The day words -> (date, whether the day was pinned to a year); None if not a day."""
    text = " ".join(words)
    if text == "today":
        return today, True
    if text == "tomorrow":
        return today + timedelta(days=1), True
    if text.removeprefix("next ").removeprefix("this ") in _WEEKDAYS:
        wanted = _WEEKDAYS[text.removeprefix("next ").removeprefix("this ")]
        return today + timedelta(days=(wanted - today.weekday()) % 7), False
    try:
        if match := _YMD.match(text):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))), True
        if match := _MD.match(text):
            return date(today.year, int(match.group(1)), int(match.group(2))), False
        if len(words) == 2 and words[0] in _MONTHS and words[1].isdigit():
            return date(today.year, _MONTHS[words[0]], int(words[1])), False
        if len(words) == 2 and words[1] in _MONTHS and words[0].isdigit():
            return date(today.year, _MONTHS[words[1]], int(words[0])), False
    except ValueError:
        raise InvalidInput(f"`{text[:20]}` is not a date in the calendar.") from None
    return None


def _local(raw: str, now: datetime, zone: tzinfo) -> datetime | None:
    """`[day] [time]` in `zone` -> aware UTC, choosing the next occurrence when not pinned."""
    words = raw.replace(",", " ").replace(" at ", " ").split()
    if not words:
        return None
    today = now.astimezone(zone).date()
    # the time is the last word, or the last two (`9 pm`)
    clock, day_words = None, words
    for take in (2, 1):
        if len(words) >= take and (found := _parse_clock(" ".join(words[-take:]))) is not None:
            clock, day_words = found, words[:-take]
            break
    if not day_words:  # a time alone: today if still ahead, else tomorrow
        when = _zoned(today, clock, zone)
        return when if when >= now - PAST_SLACK else _zoned(today + timedelta(days=1), clock, zone)
    day = _parse_day(day_words, today)
    if day is None:
        return None
    chosen, pinned = day
    clock = clock or time(0, 0)
    when = _zoned(chosen, clock, zone)
    if not pinned and when < now - PAST_SLACK:
        # a weekday or a month-day already gone: the next one
        if " ".join(day_words).removeprefix("next ").removeprefix("this ") in _WEEKDAYS:
            when = _zoned(chosen + timedelta(days=7), clock, zone)
        else:
            try:
                when = _zoned(chosen.replace(year=chosen.year + 1), clock, zone)
            except ValueError:  # 02-29 and next year is not a leap year
                raise InvalidInput("That date does not exist next year.") from None
    return when


def parse_moment(text: str, now: datetime, zone: tzinfo) -> datetime:
    """Any moment the grammar reads, with no range check (see `parse_when`)."""
    raw = _clean(text)
    if not raw:
        raise _bad(text)
    if raw == "now":
        return now
    if match := _STAMP.match(" ".join(str(text).split())):
        try:
            return datetime.fromtimestamp(int(match.group(1)), UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput("That Discord timestamp is out of range.") from None
    if (span := _duration_or_none(raw)) is not None:
        try:
            return now + span
        except OverflowError:
            raise InvalidInput("That is too far ahead.") from None
    if "t" in raw and re.match(r"^\d{4}-\d{2}-\d{2}t", raw):  # ISO 8601, kept for old inputs
        try:
            parsed = datetime.fromisoformat(raw.upper())
        except ValueError:
            raise _bad(text) from None
        if parsed.tzinfo is None:
            return _zoned(parsed.date(), parsed.time(), zone)
        return parsed.astimezone(UTC)
    when = _local(raw, now, zone)
    if when is None:
        raise _bad(text)
    return when


def parse_when(text: str, now: datetime, zone: tzinfo, *, allow_past: bool = False,
               max_ahead: timedelta = MAX_AHEAD) -> datetime:
    """A moment in the future (aware UTC): a local time in `zone`, a duration from `now`, a
    Discord timestamp, or `now`. Raises InvalidInput when unreadable, past or too far ahead."""
    when = parse_moment(text, now, zone)
    check_range(when, now, zone, allow_past=allow_past, max_ahead=max_ahead)
    return when


def parse_end(text: str, start: datetime, now: datetime, zone: tzinfo, *,
              max_ahead: timedelta = MAX_AHEAD) -> datetime:
    """An end: a duration after `start` (`48h`), or a moment like `parse_when`."""
    span = _duration_or_none(text)
    if span is not None:
        if span <= timedelta(0):
            raise InvalidInput("The duration must be longer than zero.")
        if span > max_ahead * 2:
            raise InvalidInput("That is too far ahead.")
        return start + span
    return parse_when(text, now, zone, max_ahead=max_ahead)


def check_range(when: datetime, now: datetime, zone: tzinfo, *, allow_past: bool = False,
                max_ahead: timedelta = MAX_AHEAD) -> None:
    """Refuse a moment in the past (unless allowed) or more than `max_ahead` from `now`."""
    if not allow_past and when < now - PAST_SLACK:
        raise InvalidInput(f"That time ({_stamp(when, now, zone)}) is in the past. Pick a later "
                           "time.")
    if when > now + max_ahead:
        raise InvalidInput(f"That time ({_stamp(when, now, zone)}) is too far ahead: at most "
                           f"{describe_duration(max_ahead)} from now.")


# --- seasons: a day of every year -------------------------------------------------------------
def parse_month_day(text: str) -> tuple[int, int]:
    """A yearly day: `12-24`, `Dec 24`, `24 December`, or a full date whose year is ignored.

    Refuses 02-29 (a season on it would skip three years in four).
    """
    raw = _clean(text).replace(",", " ")
    words = raw.split()
    month = day = None
    if match := _YMD.match(raw):
        month, day = int(match.group(2)), int(match.group(3))
    elif match := _MD.match(raw):
        month, day = int(match.group(1)), int(match.group(2))
    elif len(words) == 2 and words[0] in _MONTHS and words[1].isdigit():
        month, day = _MONTHS[words[0]], int(words[1])
    elif len(words) == 2 and words[1] in _MONTHS and words[0].isdigit():
        month, day = _MONTHS[words[1]], int(words[0])
    if month is None or day is None:
        shown = " ".join(str(text).split())[:20].replace("`", "'")
        raise InvalidInput(f"`{shown}` is not a date: use MM-DD like `12-24`, or "
                           "`Dec 24`.")
    try:
        date(2001, month, day)  # not a leap year
    except ValueError:
        raise InvalidInput(f"{month:02d}-{day:02d} is not a date every year has (use MM-DD, "
                           "like 12-24).") from None
    return month, day


# --- previews ---------------------------------------------------------------------------------
def describe_duration(span: timedelta) -> str:
    """`1 h 30 min`, `3 days`, `2 weeks 1 day` (largest units first, at most two)."""
    seconds = int(span.total_seconds())
    if seconds >= 90 * 86400:  # past three months, weeks stop being readable
        return f"about {round(seconds / (30.44 * 86400))} months"
    parts = []
    for name, size in (("week", 604800), ("day", 86400), ("h", 3600), ("min", 60)):
        amount, seconds = divmod(seconds, size)
        if amount:
            plural = "s" if amount != 1 and name in ("week", "day") else ""
            parts.append(f"{amount} {name}{plural}")
    return " ".join(parts[:2]) or "less than a minute"


def relative(when: datetime, now: datetime) -> str:
    """`in 3 days`, `in 2 h 5 min`, `now`, `2 days ago`."""
    delta = when - now
    if abs(delta) < timedelta(minutes=1):
        return "now"
    if delta > timedelta(0):
        return f"in {describe_duration(delta)}"
    return f"{describe_duration(-delta)} ago"


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone (`Europe/Berlin`), or its str."""
    return getattr(zone, "key", None) or str(zone)


def _stamp(when: datetime, now: datetime, zone: tzinfo) -> str:
    """`Fri 24 Dec 19:00` in `zone` (the year shown when it is not the current one)."""
    local = when.astimezone(zone)
    year = "" if local.year == now.astimezone(zone).year else f" {local.year}"
    return f"{local:%a} {local.day} {local:%b}{year} {local:%H:%M}"


def describe(when: datetime, now: datetime, zone: tzinfo) -> str:
    """`Fri 24 Dec 19:00 (Europe/Berlin) — in 3 days` (the year shown when it differs)."""
    return f"{_stamp(when, now, zone)} ({zone_name(zone)}) — {relative(when, now)}"


def preview(text: str, now: datetime, zone: tzinfo, *, duration_only: bool = False,
            bare: str | None = None) -> str:
    """What `text` means, for an autocomplete line; the friendly error when it means nothing."""
    try:
        if duration_only:
            return describe_duration(parse_duration(text, bare=bare))
        return describe(parse_when(text, now, zone), now, zone)
    except InvalidInput as error:
        return f"⚠️ {error.message}"


__all__ = [
    "EXAMPLES", "MAX_AHEAD", "check_range", "describe", "describe_duration", "is_duration",
    "parse_duration", "parse_end", "parse_moment", "parse_month_day", "parse_when", "preview",
    "relative", "zone_name",
]
