"""Validation of short member-written texts (notes, reasons, reviews, descriptions).

Hostile members paste text that looks empty: zero-width spaces, Hangul fillers, the braille blank,
word joiners. Such characters are removed, and text with nothing visible left counts as empty.
"""

from __future__ import annotations

import unicodedata

from economy.core.errors import InvalidInput

# Letters and symbols that render as nothing (Unicode calls them letters, so categories miss them).
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5\u034f")
_KEEP = frozenset("\u200d\n")  # the emoji joiner and newlines are meaningful


def _dropped(ch: str) -> bool:
    if ch in _KEEP:
        return False
    return ch in BLANK_LOOKALIKES or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


def strip_invisible(text: str) -> str:
    """`text` without control, format (zero-width) and blank look-alike characters."""
    return "".join(ch for ch in text if not _dropped(ch))


def visible_length(text: str) -> int:
    """How many characters of `text` actually show (no spaces, joiners or blanks)."""
    return sum(1 for ch in strip_invisible(text) if not ch.isspace() and ch not in _KEEP)


def clean_text(text: str | None, limit: int, what: str) -> str | None:
    """Invisible characters removed, whitespace collapsed; None when nothing visible is left.

    Raises InvalidInput when the text is longer than `limit` characters.
    """
    cleaned = " ".join(strip_invisible(text or "").split())
    if len(cleaned) > limit:
        raise InvalidInput(f"The {what} can be at most {limit} characters.")
    return cleaned if visible_length(cleaned) else None
