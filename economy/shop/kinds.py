"""Item kinds another feature provides: the shop sells them, the feature grants them.

The seam works like the trades' settlement hook: the feature that owns the thing sold (the
badges, for kind "badge") registers a granter with `ShopService.grant_kind_with(kind, granter)`
when it is built (economy/badges/__init__.py), so the shop never imports it. The shop keeps
the money rules (quote, price, version, stock, per-member limit, the one ledger transaction and
its idempotency key); the granter checks and writes what the member gets:

- `target` checks what staff put on sale (the item stores `target` and `target_label`);
- `check` refuses, before anything is paid, a member who may not get it ("already has it");
- `plan` reads (outside the transaction) and returns the guarded write that gives it inside the
  purchase's (or raffle draw's) transaction. A numbered place (a limited badge's edition) is
  chosen by the plan and held by a unique document the write inserts: when another grant took
  it first, the write raises `PlaceTaken`, the transaction aborts (nothing charged) and the shop
  plans again with fresh reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from economy.core.errors import InvalidInput
from economy.shop.models import HoldingChanged

#: Plans one purchase tries before it gives up (nothing charged): each lost place is another
#: buyer's win, so a sold-out edition is seen long before.
GRANT_ATTEMPTS = 12


class PlaceTaken(HoldingChanged):
    """The numbered place a grant planned (a badge's edition) was taken by another grant
    between the read and the write; the transaction aborted, nothing was written."""


class KindRefused(InvalidInput):
    """The granter refuses this member (already holds it) or has nothing left (sold out)."""


@dataclass(frozen=True)
class KindTarget:
    """What an item of this kind gives, as staff chose it."""

    ref: str  # stored on the item (`target`), e.g. the badge's key "c3"
    label: str  # stored on the item (`target_label`), what members read
    #: Places left (a limited badge's free editions); None: unlimited.
    left: int | None = None


@dataclass(frozen=True)
class KindGrant:
    """One planned grant: fields for the purchase record, the numbered place it takes (None:
    none) and the write to run in the caller's transaction."""

    write: Callable[[Any], Awaitable[None]]
    place: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class KindGranter(Protocol):
    """A feature whose things the shop sells (registered with `grant_kind_with`)."""

    async def target(self, guild_id: int, ref: str) -> KindTarget:
        """Check what staff put on sale. Raises: InvalidInput, NotFound."""
        ...

    async def choices(self, guild_id: int, current: str) -> list[tuple[str, str]]:
        """(label, ref) pairs staff may pick from, matching `current`. Raises: nothing."""
        ...

    async def check(self, guild_id: int, ref: str, holder_id: int, *, gift: bool) -> None:
        """Refuse before paying. Raises: KindRefused, NotFound."""
        ...

    async def plan(self, guild_id: int, ref: str, holder_id: int, *, note: str, attempt: int,
                   avoid: Collection[int] = ()) -> KindGrant:
        """Read and plan one grant to `holder_id` (`avoid`: places other grants of the same
        transaction take). Raises: KindRefused, NotFound."""
        ...
