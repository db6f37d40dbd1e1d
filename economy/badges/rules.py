"""The shipped catalogue and the award rules, without storage.

A rule counts one fact about a member (completed sales, a daily streak, lifetime earnings...)
and awards its badge when the count reaches its threshold. Rules run on the signals that can
change their fact (economy/core/signals.py), never by scanning every member.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from economy.badges.models import Badge, Fact

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "data" / "badges"

#: The facts each signal can change. Lifetime earnings change with almost every action that pays,
#: so every signal looks at them too.
FACTS_OF_SIGNAL: dict[str, frozenset[Fact]] = {
    "trade_completed": frozenset({"sales", "trades", "earned"}),
    "daily_claimed": frozenset({"daily_streak", "earned"}),
    "event_attended": frozenset({"events_attended", "earned"}),
    "challenge_completed": frozenset({"challenges", "earned"}),
    "guide_published": frozenset({"guides", "earned"}),
}

#: How each fact reads to members: (one, many) ("1 guide published", "10 completed trades").
FACT_WORDS: dict[str, tuple[str, str]] = {
    "sales": ("sale completed as the seller", "sales completed as the seller"),
    "trades": ("completed trade", "completed trades"),
    "daily_streak": ("day of daily streak", "days of daily streak"),
    "earned": ("GEMS earned in total", "GEMS earned in total"),
    "events_attended": ("event attended", "events attended"),
    "challenges": ("challenge completed", "challenges completed"),
    "guides": ("guide published", "guides published"),
}


@cache
def shipped() -> dict[str, Badge]:
    """The shipped badges (data/badges/*.json), by key; a broken file fails loudly at start."""
    found: dict[str, Badge] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.json")):
        badge = Badge.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if badge.key != path.stem or (badge.key.startswith("c") and badge.key[1:].isdigit()):
            raise ValueError(f"{path.name}: the key must be the file name and not c<number>")
        if badge.rule is None:
            raise ValueError(f"{path.name}: a shipped badge needs a rule")
        found[badge.key] = badge
    return found


def rules_for(signal: str) -> list[Badge]:
    """The shipped badges whose rule a signal may satisfy."""
    facts = FACTS_OF_SIGNAL.get(signal, frozenset())
    return [b for b in shipped().values() if b.rule is not None and b.rule.fact in facts]


def satisfied(badge: Badge, counts: dict[str, int]) -> bool:
    """True when the member's count of the rule's fact reaches its threshold."""
    return badge.rule is not None and counts.get(badge.rule.fact, 0) >= badge.rule.at_least


def rule_text(badge: Badge) -> str:
    """The rule in words ("10 completed trades"), or how a custom badge is given."""
    if badge.rule is None:
        return "given by staff"
    one, many = FACT_WORDS[badge.rule.fact]
    return f"{badge.rule.at_least:,} {one if badge.rule.at_least == 1 else many}"


def custom_key(no: int) -> str:
    """The key of a server's custom badge number `no`."""
    return f"c{no}"
