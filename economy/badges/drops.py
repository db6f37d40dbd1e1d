"""Event and season editions: an admin gives a badge (typically a limited edition, maybe a
tradeable collectible) to everyone who checked in to an event, to its winners, or to a season's
top 3 — through the same guarded award as `/badge-admin give`, once per member, never past the
edition's supply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from economy.badges.service import AlreadyHeld, BadgeService, SoldOut
from economy.core.actor import Actor
from economy.core.errors import InvalidInput, NotFound

#: Who an event's edition goes to.
EventGroup = Literal["attendees", "winners"]


@dataclass(frozen=True)
class Drop:
    """What a drop did: members newly given the badge, those who held it already, and those
    left without because the edition sold out (in the order they were served)."""

    badge_key: str
    given: tuple[int, ...]
    already: tuple[int, ...]
    sold_out: tuple[int, ...]


class EditionDrops:
    """Gives a badge to an event's attendees or winners, or to a season's podium."""

    def __init__(self, badges: BadgeService, events: Any | None, seasons: Any | None) -> None:
        self._badges = badges
        self._events = events
        self._seasons = seasons

    async def to_event(self, guild_id: int, actor: Actor, key: str, event_id: int,
                       who: EventGroup) -> Drop:
        """Admin: give `key` to the event's check-ins (in check-in order) or its winners (1st,
        2nd, 3rd). Re-runnable: members who hold it already are counted, not given twice.

        Raises: NotPermitted, NotFound (no such badge or event), InvalidInput (the event is not
            completed for winners, nobody to give to), FeatureOff.
        """
        actor.require_admin(guild_id, "Only server admins can give badges.")
        if self._events is None:
            raise InvalidInput("Events are not part of this bot.")
        event = await self._events.get(guild_id, event_id)
        if who == "winners":
            if event.status != "completed":
                raise InvalidInput("That event has no winners yet: complete it first.")
            members = list(event.winners)
        else:
            members = (await self._events.attendees(guild_id, event_id))[1]
        return await self._give(guild_id, actor, key, members,
                                f"{who} of event #{event_id} ({event.title[:60]})")

    async def to_season(self, guild_id: int, actor: Actor, key: str, season_key: str) -> Drop:
        """Admin: give `key` to the top 3 of the season's latest finished run.

        Raises: NotPermitted, NotFound (no such badge, or the season has not finished yet),
            InvalidInput, FeatureOff.
        """
        actor.require_admin(guild_id, "Only server admins can give badges.")
        if self._seasons is None:
            raise InvalidInput("Seasons are not part of this bot.")
        results = [r for r in await self._seasons.winners(guild_id) if r.get("key") == season_key]
        if not results:
            raise NotFound("That season has not finished yet (or has no such name): its top 3 "
                           "are known once it ends.")
        latest = results[0]
        members = [int(row["user_id"]) for row in latest.get("winners", [])]
        return await self._give(guild_id, actor, key, members,
                                f"top 3 of {latest.get('name', season_key)[:60]}")

    async def _give(self, guild_id: int, actor: Actor, key: str, members: list[int],
                    reason: str) -> Drop:
        if not members:
            raise InvalidInput("Nobody to give it to: nobody checked in (or won) yet.")
        await self._badges.badge(guild_id, key)  # NotFound before anything is given
        given: list[int] = []
        already: list[int] = []
        sold_out: list[int] = []
        for user_id in dict.fromkeys(members):  # once each, in order
            if sold_out:  # no edition is left: only say who holds one already
                (already if await self._holds(guild_id, user_id, key) else sold_out).append(user_id)
                continue
            try:
                await self._badges.give(guild_id, actor, key, user_id, reason=reason)
            except AlreadyHeld:
                already.append(user_id)
            except SoldOut:
                (already if await self._holds(guild_id, user_id, key) else sold_out).append(user_id)
            else:
                given.append(user_id)
        return Drop(key, tuple(given), tuple(already), tuple(sold_out))

    async def _holds(self, guild_id: int, user_id: int, key: str) -> bool:
        return any(a.badge.key == key for a in await self._badges.awards(guild_id, user_id))
