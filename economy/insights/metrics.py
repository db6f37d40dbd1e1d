"""Pure arithmetic of the rollups: Gini, median, velocity and how a ledger leg counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from economy.core.models import is_system

#: Legs that are a member earning (admin grants and card purchases are not earnings).
EARN_KINDS = frozenset({"earn", "activity", "daily", "reward"})
#: Member-to-member movements (the receiving legs count as GEMS transferred).
TRANSFER_KINDS = frozenset({"transfer", "escrow_release", "escrow_split"})
#: Legs of trading: gifts and every escrow step.
TRADE_KINDS = frozenset({"transfer", "escrow_hold", "escrow_release", "escrow_split"})


def gini(values: Iterable[int]) -> float:
    """Gini coefficient of non-negative amounts: 0.0 for none, one, all equal or all zero."""
    ordered = sorted(max(0, int(v)) for v in values)
    n, total = len(ordered), sum(ordered)
    if n < 2 or total == 0:
        return 0.0
    weighted = sum(rank * value for rank, value in enumerate(ordered, start=1))
    return round((2 * weighted) / (n * total) - (n + 1) / n, 6)


def median(values: Sequence[int]) -> int:
    """The median rounded down (the lower middle's mean for an even count); 0 for none."""
    if not values:
        return 0
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return int(ordered[middle])
    return (int(ordered[middle - 1]) + int(ordered[middle])) // 2


def velocity(transferred: int, supply: int) -> float:
    """GEMS moved between members per GEMS in existence (0.0 when there is no supply)."""
    return round(transferred / supply, 6) if supply > 0 else 0.0


def is_member(user_id: int) -> bool:
    """A person's account (not the treasury, a shard or a deleted member's tombstone)."""
    return not is_system(user_id)


def earned(leg: dict) -> bool:
    """A member earning GEMS."""
    return leg.get("kind") in EARN_KINDS and int(leg.get("delta") or 0) > 0


def spent(leg: dict) -> bool:
    """A member spending: buying from the shop or the treasury, or committing to an escrow."""
    kind = leg.get("kind")
    if kind == "spend":
        return True
    return kind == "escrow_hold" and int(leg.get("held_delta") or 0) > 0


def traded(leg: dict) -> bool:
    """A member giving, receiving or trading through escrow."""
    kind = leg.get("kind")
    if kind in TRADE_KINDS:
        return True
    return kind == "refund" and int(leg.get("held_delta") or 0) < 0  # an escrow refunded
