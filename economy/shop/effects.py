"""Consumable effects another feature provides: the shop sells and consumes the unit, the
feature applies what it does.

The seam works like the kind granters (economy/shop/kinds.py): the feature that owns the thing
an effect changes (the marketplace, for "listing_boost") registers an `ItemEffect` with
`ShopService.use_effect_with(name, effect)` when it is built (economy/marketplace/__init__.py),
so the shop never imports it. `/shop use` then:

1. reads and checks (`plan`, outside any transaction): the target (a listing id) is the
   member's, in the right state, the feature is switched on; refusals raise before anything is
   written;
2. runs ONE transaction: the unit taken from the member's holding (guarded by the quantity
   read) and the plan's `write(session)` (guarded in its own filter by what the plan read).
   When the target changed in between (sold, withdrawn, boosted by another use), `write`
   raises `EffectRefused`: the transaction aborts and the unit stays in the inventory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from economy.core.errors import InvalidInput
from economy.core.settings import GuildSettings


class EffectRefused(InvalidInput):
    """The effect's target changed between the plan and the write (or may not take it): the
    use is refused and nothing is consumed."""


@dataclass(frozen=True)
class EffectPlan:
    """One planned use: the guarded write to run in the shop's transaction, and what the
    member reads once it committed."""

    write: Callable[[Any], Awaitable[None]]
    said: str


class ItemEffect(Protocol):
    """A consumable's effect applied by another feature (registered with `use_effect_with`)."""

    #: What the effect is used on, as members read it ("listing"); None: nothing to pick.
    target_label: str | None

    async def choices(self, guild_id: int, user_id: int, current: str) -> list[tuple[str, int]]:
        """(label, target id) pairs the member may use it on, matching `current`.

        Raises: nothing expected."""
        ...

    async def plan(self, guild_id: int, user_id: int, target: int | None,
                   settings: GuildSettings) -> EffectPlan:
        """Check the target and plan the guarded write (reads only).

        Raises: InvalidInput, NotFound, NotPermitted, FeatureOff."""
        ...
