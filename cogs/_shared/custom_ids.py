"""The one parser for numbers inside custom ids (every persistent button and select).

Custom ids come back from the client and can be forged. A number in one has exactly one
spelling: ASCII digits, no sign, no whitespace, no leading zero, no other script's digits, at
most 19 digits. Templates build their number groups with `num()` (so Discord's `fullmatch`
refuses `ev:join:0001`, `ev:join:+1`, `ev:join:١`), and `from_custom_id` reads them with
`parse_id()` (which refuses the same spellings again, and maps a number the store can't hold to
-1: an id no document has, so the service answers "not found").
"""

from __future__ import annotations

import re

INT64_MAX = 2**63 - 1
#: A canonical non-negative integer (the regex fragment every template uses).
NUMBER = r"(?:0|[1-9][0-9]{0,18})"
_CANONICAL = re.compile(NUMBER, re.ASCII)


def num(name: str) -> str:
    """A named template group holding one canonical number."""
    return rf"(?P<{name}>{NUMBER})"


def num_list(name: str, most: int, sep: str = "-") -> str:
    """A named template group holding 0..`most` canonical numbers joined by `sep`."""
    if most < 1:
        raise ValueError("a list holds at least one number")
    sep = re.escape(sep)
    return rf"(?P<{name}>(?:{NUMBER}(?:{sep}{NUMBER}){{0,{most - 1}}})?)"


def parse_id(text: str | None) -> int:
    """The number a custom id group holds, or -1 when it is not canonical or over int64."""
    if text is None or not _CANONICAL.fullmatch(text):
        return -1
    value = int(text)
    return value if value <= INT64_MAX else -1


def parse_ids(text: str | None, sep: str = "-") -> list[int]:
    """The numbers of a `num_list` group (empty for an empty group); -1 for a bad one."""
    return [parse_id(part) for part in text.split(sep)] if text else []
