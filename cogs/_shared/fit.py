"""Fitting lists of lines into Discord's length limits."""

from __future__ import annotations

from collections.abc import Sequence


def fit_lines(lines: Sequence[str], limit: int = 4000) -> str:
    """Join lines with newlines, stopping before `limit` characters with "… and N more"."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        more = f"… and {len(lines) - index} more"
        if used + len(line) + 1 > limit - len(more) - 1:
            out.append(more)
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)
