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
    "trade_completed": frozenset({"sales", "trades", "earned", "well_rated_trades"}),
    "trade_rated": frozenset({"well_rated_trades"}),
    "daily_claimed": frozenset({"daily_streak", "earned"}),
    "event_attended": frozenset({"events_attended", "earned"}),
    "event_completed": frozenset({"event_wins", "earned"}),
    "challenge_completed": frozenset({"challenges", "earned"}),
    "guide_published": frozenset({"guides", "earned"}),
    "season_finished": frozenset({"season_podiums", "earned"}),
    "mentorship_completed": frozenset({"mentorships", "earned"}),
    "nft_role_granted": frozenset({"nft_holder"}),
}

#: Facts a signal itself proves for the members it names (nothing stored counts them again):
#: the NFT sync grants a rule's role because the member holds its tokens at that block.
IMPLIED_BY_SIGNAL: dict[str, dict[str, int]] = {"nft_role_granted": {"nft_holder": 1}}

#: The facts a backfill can count again from stored history (all but the implied ones).
STORED_FACTS: frozenset[str] = frozenset(
    f for facts in FACTS_OF_SIGNAL.values() for f in facts) - {"nft_holder"}

#: How each fact reads to members: (one, many) ("1 guide published", "10 completed trades").
FACT_WORDS: dict[str, tuple[str, str]] = {
    "sales": ("sale completed as the seller", "sales completed as the seller"),
    "trades": ("completed trade", "completed trades"),
    "daily_streak": ("day of daily streak", "days of daily streak"),
    "earned": ("GEMS earned in total", "GEMS earned in total"),
    "events_attended": ("event attended", "events attended"),
    "challenges": ("challenge completed", "challenges completed"),
    "guides": ("guide published", "guides published"),
    "well_rated_trades": ("completed trade with an average of 4.5 stars or more",
                          "completed trades with an average of 4.5 stars or more"),
    "event_wins": ("event won (1st, 2nd or 3rd)", "events won (1st, 2nd or 3rd)"),
    "season_podiums": ("season finished in the top 3", "seasons finished in the top 3"),
    "mentorships": ("mentorship completed as a mentor", "mentorships completed as a mentor"),
    "nft_holder": ("NFT rule held (its role granted)", "NFT rules held"),
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
        if badge.supply is not None:  # editions are numbered under a server's own badge number
            raise ValueError(f"{path.name}: limited editions are a server's own badges")
        found[badge.key] = badge
    return found


def rules_for(signal: str, catalogue: dict[str, Badge] | None = None) -> list[Badge]:
    """The badges (of `catalogue`, default the shipped ones) whose rule a signal may satisfy."""
    facts = FACTS_OF_SIGNAL.get(signal, frozenset())
    badges = shipped() if catalogue is None else catalogue
    return [b for b in badges.values() if b.rule is not None and b.rule.fact in facts]


def rule_facts() -> tuple[str, ...]:
    """The facts a rule may count, in the order members read them."""
    return tuple(FACT_WORDS)


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
