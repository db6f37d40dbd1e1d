"""How each setting is edited by clicking, derived from the settings sections' field types.

The controls themselves (a field's kind, label and choices) are derived in
economy/core/setting_fields.py, shared with the web dashboard; this module lays them out for
Discord. `layout(section, setup=...)` splits a section into parts that fit Discord's message
limits (5 action rows, a select alone in its row, 5 buttons a row). The same derivation drives
`/settings edit` and `/setup` (setup shows every select of a section and its first form).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from economy.core.setting_fields import (
    CHANNEL_TYPES,
    FORUM,
    PICKERS,
    TEXT,
    SettingField,
    field_of,
    form_text,
    label_of,
    sections,
)
from economy.registry import section_of

__all__ = ["CHANNEL_TYPES", "FORUM", "MAX_BUTTONS", "MAX_FORM_LINES", "MAX_OPTIONS", "MAX_ROWS",
           "PICKERS", "TEXT", "Part", "SettingField", "field_of", "form_text", "label_of",
           "layout", "part_of", "sections"]

#: Discord's limits for legacy components (a message; a modal).
MAX_ROWS = 5
MAX_BUTTONS = 5
MAX_FORM_LINES = 5
MAX_OPTIONS = 25


@dataclass(frozen=True)
class Part:
    """One page of a section: its selects (one row each) and its forms (a button each)."""

    pickers: tuple[SettingField, ...]
    forms: tuple[tuple[SettingField, ...], ...]


@cache
def layout(section: str, *, setup: bool = False) -> tuple[Part, ...]:
    """The parts of `section` that each fit one message.

    `/settings edit` spends a row on the section select; `/setup` shows only the section's
    first form (its key numbers: sections declare their most important fields first) and
    always has a button row (back, next).
    """
    fields = sections()[section][1]
    pickers = [f for f in fields if f.kind in PICKERS]
    lines = [f for f in fields if f.kind == "form"]
    forms = [tuple(lines[i:i + MAX_FORM_LINES]) for i in range(0, len(lines), MAX_FORM_LINES)]
    if setup:
        forms = forms[:1]
        per_part, forms_per_part = MAX_ROWS - 1, MAX_BUTTONS - 2
    else:
        per_part = MAX_ROWS - 2  # the section select and the button row
        single = len(pickers) <= per_part and len(forms) <= MAX_BUTTONS
        forms_per_part = MAX_BUTTONS if single else MAX_BUTTONS - 2  # else: ◀ ▶ take two
    parts: list[Part] = []
    while pickers or forms or not parts:
        parts.append(Part(tuple(pickers[:per_part]), tuple(forms[:forms_per_part])))
        pickers, forms = pickers[per_part:], forms[forms_per_part:]
    return tuple(parts)


def part_of(key: str, *, setup: bool = False) -> int:
    """The index of the part of its section that shows `key` (0 when it is not shown)."""
    for index, part in enumerate(layout(section_of(key), setup=setup)):
        if any(f.key == key for f in part.pickers) or any(f.key == key for form in part.forms for f in form):
            return index
    return 0
