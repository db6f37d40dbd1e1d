"""Pure arithmetic of the rollups: Gini, median, velocity and how a ledger leg counts."""

from __future__ import annotations

import operator
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
    ordered = [v if v > 0 else 0 for v in map(int, values)]
    ordered.sort()
    n, total = len(ordered), sum(ordered)
    if n < 2 or total == 0:
        return 0.0
    # Exact integers (the rollup of a 50,000-member guild sorts and sums every day).
    weighted = sum(map(operator.mul, range(1, n + 1), ordered))
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


def earned(kind: str | None, delta: int) -> bool:
    """A member's leg of `kind` moving `delta` is the member earning GEMS."""
    return kind in EARN_KINDS and delta > 0


def spent(kind: str | None, held_delta: int) -> bool:
    """A member spending: buying from the shop or the treasury, or committing to an escrow."""
    if kind == "spend":
        return True
    return kind == "escrow_hold" and held_delta > 0


def traded(kind: str | None, held_delta: int) -> bool:
    """A member giving, receiving or trading through escrow."""
    if kind in TRADE_KINDS:
        return True
    return kind == "refund" and held_delta < 0  # an escrow refunded
