"""Validation of short member-written texts (notes, reasons, reviews)."""

from __future__ import annotations

from economy.errors import InvalidInput


def clean_text(text: str | None, limit: int, what: str) -> str | None:
    """Collapse whitespace; None for empty; InvalidInput when longer than `limit` characters."""
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > limit:
        raise InvalidInput(f"The {what} can be at most {limit} characters.")
    return text or None
