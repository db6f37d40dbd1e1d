"""Badges sold in the shop: the granter of the shop's item kind "badge" (economy/shop/kinds.py),
registered by economy/badges/__init__.py, so the shop never imports the badges.

Which badges may be sold: a server's own badges made by staff WITHOUT a rule (given by hand,
limited or not, soulbound or tradeable collectibles). Shipped badges and rule badges are earned
by what members do; selling them would let GEMS buy an achievement, so they are refused.

What a purchase (a gift, a raffle prize) writes, in the shop's transaction:
- a soulbound badge: the award `<guild>:<badge>:<member>` (one per member: a member who holds it
  already is refused before paying, and the award's unique `_id` refuses a racing second one);
- a limited badge: also the next numbered edition's `cap_slots` place (1..supply, the badges'
  own edition places shared with `/badge-admin give` and drops). Two buyers who plan the same
  number both insert the same place `_id`: one commits, the other's write raises `PlaceTaken`,
  its whole transaction (payment included) aborts and the shop plans again. That is the write
  filter guarding the numbering on MongoDB as on the embedded store;
- a collectible (tradeable limited badge): a collector may hold several editions, so a bought
  one is keyed by its edition (`<guild>:<badge>#<serial>`, the key a traded one gets) and its
  place names its owner (`holder_id`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from economy.badges.models import Badge
from economy.badges.repo import EDITION, BadgeRepo, award_id, edition_key
from economy.badges.service import BadgeService
from economy.core.clock import Clock, to_ms
from economy.core.errors import AlreadyRecorded, InvalidInput
from economy.core.modules import is_on
from economy.core.settings import SettingsService
from economy.repos.slot_repo import SlotTaken, lowest_free
from economy.shop.kinds import KindGrant, KindRefused, KindTarget, PlaceTaken


def sellable(badge: Badge) -> bool:
    """A badge the shop may sell: made by this server's staff and given by hand (no rule)."""
    return badge.custom and badge.rule is None


def label_of(badge: Badge) -> str:
    """What members read of a sold badge."""
    if badge.supply is None:
        kind = ""
    elif badge.tradeable:
        kind = f" (a numbered collectible, {badge.supply:,} editions)"
    else:
        kind = f" (a numbered edition of {badge.supply:,})"
    return f"{badge.emoji} {badge.name}{kind}"[:120]


class BadgeItems:
    """The shop's "badge" kind: checks what staff sell, refuses who may not get it, and plans
    the award (and its edition) for the purchase's own transaction."""

    def __init__(self, repo: BadgeRepo, badges: BadgeService, settings: SettingsService,
                 clock: Clock) -> None:
        self._repo = repo
        self._badges = badges
        self._settings = settings
        self._clock = clock

    async def target(self, guild_id: int, ref: str) -> KindTarget:
        """A badge staff may put on sale (by key or name).

        Raises: InvalidInput (shipped or rule badge), NotFound (no such badge here).
        """
        await self._require_on(guild_id)
        badge = await self._find(guild_id, ref)
        if not sellable(badge):
            raise InvalidInput(f"{badge.emoji} {badge.name} is earned by what members do, so it "
                               "can't be sold. Only badges your staff made without a rule "
                               "(`/badge-admin create`) can be sold.")
        return KindTarget(ref=badge.key, label=label_of(badge),
                          left=await self._badges.supply_left(guild_id, badge))

    async def choices(self, guild_id: int, current: str) -> list[tuple[str, str]]:
        """Sellable badges matching `current` (autocomplete). Raises: nothing expected."""
        text = current.strip().lower()
        return [(label_of(b)[:100], b.key)
                for b in (await self._badges.catalogue(guild_id)).values()
                if sellable(b) and (text in b.key or text in b.name.lower())][:25]

    async def check(self, guild_id: int, ref: str, holder_id: int, *, gift: bool) -> None:
        """Refuse, before paying, a member who holds this (non-collectible) badge, or a limited
        badge with no edition left.

        Raises: KindRefused, NotFound.
        """
        await self._require_on(guild_id)
        badge = await self._badges.badge(guild_id, ref)
        await self._refuse(guild_id, badge, holder_id, gift=gift)

    async def plan(self, guild_id: int, ref: str, holder_id: int, *, note: str, attempt: int,
                   avoid: Collection[int] = ()) -> KindGrant:
        """Read the free editions and plan the award: the lowest free number (after a lost race,
        one of the few lowest at random, so racers spread). Nothing is written here.

        Raises: KindRefused (held already, or no edition left), NotFound.
        """
        badge = await self._badges.badge(guild_id, ref)
        serial = None
        if badge.supply is not None:
            taken = [*await self._repo.slots.taken(guild_id, EDITION, int(badge.no or 0)),
                     *avoid]
            serial = lowest_free(taken, badge.supply, spread=attempt > 0)
            if serial is None:
                raise KindRefused(self._sold_out(badge))
        collectible = badge.tradeable and serial is not None
        doc_id = (edition_key(guild_id, badge.key, serial) if collectible and serial is not None
                  else award_id(guild_id, badge.key, holder_id))
        award = {"_id": doc_id, "guild_id": guild_id, "user_id": holder_id, "badge": badge.key,
                 "at_ms": to_ms(self._clock.now()), "serial": serial,
                 "edition": badge.no if serial is not None else None, "by": None,
                 "reason": note[:200], "reward": 0, "role_id": None, "role_state": None}
        repo = self._repo

        async def write(session: Any) -> None:
            if serial is not None:
                try:
                    await repo.slots.take(guild_id, EDITION, int(badge.no or 0), serial,
                                          doc_id.split(":", 1)[1], session=session,
                                          holder_id=holder_id if collectible else None)
                except SlotTaken:
                    raise PlaceTaken(f"Edition #{serial} of {badge.name} was just taken.") from None
            try:
                await repo.insert_award(dict(award), session=session)
            except AlreadyRecorded:
                raise KindRefused(f"{badge.emoji} {badge.name} was just given to that member: "
                                  "nothing was charged.") from None

        return KindGrant(write=write, place=serial,
                         fields={"target": badge.key, "serial": serial})

    async def _require_on(self, guild_id: int) -> None:
        """Badges switched off in the server: nothing is sold (a prize is left undelivered)."""
        if not is_on(await self._settings.get(guild_id), "badges"):
            raise KindRefused("Badges are switched off in this server, so a badge can't be "
                              "sold or given now. Nothing was charged.")

    async def _find(self, guild_id: int, ref: str) -> Badge:
        """A badge by key, or by its exact name (staff may type either)."""
        wanted = (ref or "").strip().lower()
        for badge in (await self._badges.catalogue(guild_id)).values():
            if badge.name.lower() == wanted:
                return badge
        return await self._badges.badge(guild_id, wanted)

    async def _refuse(self, guild_id: int, badge: Badge, holder_id: int, *, gift: bool) -> None:
        if not badge.tradeable and await self._repo.held_of(guild_id, holder_id, badge.key):
            who = "That member already has" if gift else "You already have"
            raise KindRefused(f"{who} this badge ({badge.emoji} {badge.name}): nothing was "
                              "charged.")
        if await self._badges.supply_left(guild_id, badge) == 0:
            raise KindRefused(self._sold_out(badge))

    @staticmethod
    def _sold_out(badge: Badge) -> str:
        return (f"{badge.emoji} {badge.name} is sold out: all {badge.supply:,} editions are "
                "held. Nothing was charged.")
