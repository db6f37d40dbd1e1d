"""Words that follow a count: `1 day`, `3 days` (no "day(s)" in anything members read)."""

from __future__ import annotations


def noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun alone, singular for exactly one: `noun(1, "day") == "day"`, else `"days"` (or
    `plural_form` for irregular nouns)."""
    return singular if count == 1 else plural_form or singular + "s"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and its noun: `plural(1, "day") == "1 day"`, `plural(1250, "member") ==
    "1,250 members"`, `plural(2, "match", "matches") == "2 matches"`."""
    return f"{count:,} {noun(count, singular, plural_form)}"
