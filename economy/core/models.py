"""Domain records returned by the services (plain data, no behaviour that touches storage)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

# Entry kinds that create GEMS out of nothing (mint) or destroy them (burn). Every other kind
# moves GEMS between accounts and the legs of one operation sum to zero.
MINT_KINDS = frozenset({"earn", "activity", "daily", "grant", "reward"})
BURN_KINDS = frozenset({"take", "reset"})
#: Tombstone account ids (economy/privacy/service.py): far below the treasury shards (0, -1..-16), one
#: per deleted member. A tombstone keeps the member's history and balance, never new money.
TOMBSTONE_BASE = -(10**12)
#: Credits a tombstone never receives (rewards, prizes, earnings, grants, gifts). Settlements of
#: a member's own money (escrow release/refund/split) still settle as the privacy design decides.
NO_TOMBSTONE_KINDS = MINT_KINDS | {"transfer"}


def is_tombstone(user_id: int) -> bool:
    """True for the anonymous account of a deleted member."""
    return user_id < TOMBSTONE_BASE


def is_system(user_id: int) -> bool:
    """True for the treasury, its shards and tombstones: accounts that are nobody."""
    return user_id <= 0


class Account(BaseModel):
    """One member's wallet in one guild."""

    model_config = ConfigDict(frozen=True)

    guild_id: int
    user_id: int
    balance: int = 0
    held: int = 0
    lifetime_earned: int = 0
    daily_streak: int = 0
    daily_last_day: date | None = None


class LedgerEntry(BaseModel):
    """One leg of one balance movement (append-only)."""

    model_config = ConfigDict(frozen=True)

    guild_id: int
    user_id: int
    delta: int
    kind: str
    idempotency_key: str
    leg: int
    at: datetime
    mint: bool = False
    held_delta: int = 0
    counterparty_id: int | None = None
    actor_id: int | None = None
    note: str | None = None
    ref: str | None = None
    multiplier_pct: int = 100
    balance_after: int | None = None
    multiplier_bps: int = 10_000  # the boost factor applied (10,000 = x1)
    boost_ids: tuple[str, ...] = ()  # the boosts that produced that factor


class Movement(BaseModel):
    """The result of one ledger operation. `replayed` is True when the key was seen before."""

    model_config = ConfigDict(frozen=True)

    kind: str
    idempotency_key: str
    entries: tuple[LedgerEntry, ...]
    replayed: bool = False

    def entry_for(self, user_id: int) -> LedgerEntry:
        """The leg that touched `user_id`."""
        return next(entry for entry in self.entries if entry.user_id == user_id)

    @property
    def amount(self) -> int:
        """The size of the movement (the largest absolute leg)."""
        return max(abs(entry.delta) for entry in self.entries)


class DailyClaim(BaseModel):
    """What a daily claim paid and the streak it leaves."""

    model_config = ConfigDict(frozen=True)

    movement: Movement
    amount: int
    streak: int
    streak_kept_by_grace: bool
    next_reset: datetime


class Page(BaseModel):
    """A page of rows plus what is needed to draw pagination controls."""

    model_config = ConfigDict(frozen=True)

    rows: tuple
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.page_size))
