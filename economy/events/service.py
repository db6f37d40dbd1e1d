"""Community events: create, RSVP, check in, complete with winners, rewards paid exactly once.

Every reward is a ledger earning (kind `reward`, source `event`) under a deterministic key:
`event:<id>:attend:<user>`, `event:<id>:complete:<user>`, `event:<id>:place:<rank>`. So a double
press, two managers completing at once, or a restart halfway through a payout pays nobody twice;
a completed event keeps `payout_done: False` until every payout went through, and the sweep
finishes an interrupted payout. Timed work (reminders 24 h and 1 h before, going live, reward
roles expiring) is derived from the event documents by the sweep and claimed with run-once flags.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict

from economy.boosts.service import parse_when
from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms, span_ms, to_ms, unix_seconds
from economy.core.errors import (
    AlreadyRecorded,
    DeletedAccount,
    InvalidInput,
    NeedsConfirmation,
    NotFound,
    NotPermitted,
)
from economy.core.ledger import LedgerService
from economy.core.members import MemberService
from economy.core.models import is_tombstone
from economy.core.modules import require_on
from economy.core.settings import SettingsService
from economy.core.signals import NO_SIGNALS, Signals
from economy.core.text import clean_text
from economy.events.repo import EventRepo, NoPlace

EVENT_TYPES = ("challenge", "contest", "educational", "social", "ama")
TITLE_MAX, DESCRIPTION_MAX = 100, 1000
MAX_DURATION = timedelta(days=31)
CHECKIN_EARLY = timedelta(minutes=15)
MAX_REWARD = 1_000_000
MAX_WINNERS = 3
HOUR_MS = span_ms(timedelta(hours=1))
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out
MAX_OCCURRENCES = 52


class CommunityEvent(BaseModel):
    """One community event as stored."""

    model_config = ConfigDict(extra="ignore")

    guild_id: int
    event_id: int
    title: str
    description: str = ""
    type: str
    host_ids: list[int]
    channel_id: int | None = None
    starts_ms: int
    ends_ms: int
    capacity: int | None = None
    status: str
    rsvp_count: int = 0
    rewards: dict[str, Any] = {}
    winners: list[int] = []
    created_by: int
    discord_event_id: int | None = None
    version: int = 0
    payout_done: bool = False
    live_announced: bool = False
    recurrence: dict[str, Any] | None = None
    checkin_code: str | None = None  # set when check-in needs the code the host reads out

    @property
    def starts_at(self) -> datetime:
        """Start (aware UTC)."""
        return from_ms(self.starts_ms)

    @property
    def ends_at(self) -> datetime:
        """End (aware UTC)."""
        return from_ms(self.ends_ms)

    def reward(self, name: str) -> int:
        """A GEMS reward (attend, complete, place1..place3); 0 when none."""
        return int(self.rewards.get(name) or 0)


@dataclass(frozen=True)
class EventDraft:
    """Options checked before the title/description form opens."""

    type: str
    starts_ms: int
    ends_ms: int
    channel_id: int | None
    capacity: int | None
    rewards: dict[str, Any]
    recurrence: dict[str, Any] | None = None
    checkin_code: str | None = None


@dataclass
class Payout:
    """What a completion paid (for the summary post)."""

    event: CommunityEvent
    attendees: list[int]
    winners: list[int]
    paid: int = 0
    role_grants: list[int] = field(default_factory=list)
    already: bool = False


@dataclass(frozen=True)
class EventNotice:
    """Something the sweep decided to tell Discord: `remind24`, `remind1`, `live`, `new` (the
    next occurrence of a repeating event), `payout`, `role_expired`."""

    kind: str
    event: CommunityEvent | None
    users: tuple[int, ...] = ()
    payout: Payout | None = None
    role_id: int | None = None
    guild_id: int | None = None


class WinnersNeedConfirmation(NeedsConfirmation):
    """Winners who did not check in: allowed only after the manager confirms."""

    def __init__(self, absent: list[int]) -> None:
        names = ", ".join(f"<@{u}>" for u in absent)
        super().__init__(f"{names} did not check in. Press **Confirm winners** to pay them anyway.")
        self.absent = absent


def check_reward(value: int | None, what: str) -> int:
    """0..MAX_REWARD GEMS."""
    value = int(value or 0)
    if not 0 <= value <= MAX_REWARD:
        raise InvalidInput(f"The {what} reward must be between 0 and {MAX_REWARD:,} GEMS.")
    return value


#: Joins retried when an edit changed the capacity between the read and the guarded write.
JOIN_ATTEMPTS = 3


class EventService:
    """Community events on the ledger."""

    def __init__(self, repo: EventRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, members: MemberService, signals: Signals = NO_SIGNALS) -> None:
        self._repo = repo
        self._signals = signals
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._members = members

    # --- create / edit / cancel --------------------------------------------------------------
    async def draft(
        self, guild_id: int, *, type: str, start: str, duration_minutes: int,
        channel_id: int | None, capacity: int | None, reward_attend: int = 0,
        reward_complete: int = 0, prizes: tuple[int, int, int] = (0, 0, 0),
        role_id: int | None = None, role_days: int = 0, repeat: str = "none",
        repeat_count: int = 1, require_code: bool = False, zone: tzinfo | None = None,
    ) -> EventDraft:
        """Validate the command options (before the form opens). Raises InvalidInput."""
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        if type not in EVENT_TYPES:
            raise InvalidInput(f"Event type must be one of: {', '.join(EVENT_TYPES)}.")
        starts_at = parse_when(start, zone or settings.zone, now)
        if starts_at < now - timedelta(minutes=1):
            raise InvalidInput("The start is in the past. Pick a later time.")
        if starts_at > now + timedelta(days=365):
            raise InvalidInput("The start can be at most a year ahead.")
        _check_duration(duration_minutes)
        if capacity is not None and capacity <= 0:
            raise InvalidInput("The capacity must be at least 1 (leave it empty for no limit).")
        if role_id is not None and not 1 <= role_days <= 365:
            raise InvalidInput("A reward role needs `role_days` between 1 and 365.")
        rewards = {"attend": check_reward(reward_attend, "attendance"),
                   "complete": check_reward(reward_complete, "completion"),
                   "place1": check_reward(prizes[0], "1st place"),
                   "place2": check_reward(prizes[1], "2nd place"),
                   "place3": check_reward(prizes[2], "3rd place"),
                   "role_id": role_id, "role_days": role_days if role_id else 0}
        if repeat not in ("none", "weekly", "monthly"):
            raise InvalidInput("Repeat must be none, weekly or monthly.")
        if repeat != "none" and not 2 <= repeat_count <= MAX_OCCURRENCES:
            raise InvalidInput(f"A repeating event has 2 to {MAX_OCCURRENCES} occurrences "
                               "(`repeat_count`).")
        recurrence = None if repeat == "none" else {"freq": repeat, "remaining": repeat_count - 1}
        starts_ms = to_ms(max(starts_at, now))
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6)) if require_code else None
        return EventDraft(type, starts_ms, starts_ms + span_ms(timedelta(minutes=duration_minutes)), channel_id,
                          capacity, rewards, recurrence, code)

    async def create(self, guild_id: int, actor: Actor, draft: EventDraft, *, title: str,
                     description: str | None) -> CommunityEvent:
        """Store an event from a validated draft and the form's texts; the actor hosts it.

        Raises: NotPermitted (no event manager: an admin or a holder of
            `event_manager_role_id`), InvalidInput.
        """
        await self.require_manager(guild_id, actor)
        actor_id = actor.user_id
        title = _title(title)
        description = clean_text(description, DESCRIPTION_MAX, "description") or ""
        event_id = await self._repo.next_id(guild_id)
        doc = {"guild_id": guild_id, "event_id": event_id, "title": title,
               "description": description, "type": draft.type, "host_ids": [actor_id],
               "channel_id": draft.channel_id, "starts_ms": draft.starts_ms,
               "ends_ms": draft.ends_ms, "capacity": draft.capacity, "status": "scheduled",
               "rsvp_count": 0, "rewards": draft.rewards, "winners": [], "created_by": actor_id,
               "created_ms": to_ms(self._clock.now()), "discord_event_id": None, "version": 0,
               "reminded_24h": False, "reminded_1h": False, "live_announced": False,
               "payout_done": False, "recurrence": draft.recurrence,
               "next_pending": bool(draft.recurrence), "next_event_id": None,
               "checkin_code": draft.checkin_code}
        await self._repo.insert(doc)
        return CommunityEvent.model_validate(doc)

    async def attach_discord(self, guild_id: int, event_id: int, discord_event_id: int) -> None:
        """Remember the Discord scheduled event that mirrors this one.

        Raises: nothing expected.
        """
        await self._repo.update(guild_id, event_id, guard={},
                                fields={"discord_event_id": discord_event_id})

    async def edit(self, guild_id: int, event_id: int, actor: Actor, *,
                   title: str | None = None, start: str | None = None,
                   duration_minutes: int | None = None, capacity: int | None = None,
                   zone: tzinfo | None = None) -> CommunityEvent:
        """Change a scheduled event (host or manager). Guarded by the version read.

        Raises: InvalidInput, NotFound, NotPermitted.
        """
        event = await self.get(guild_id, event_id)
        await self.check_host(event, actor)
        if event.status != "scheduled":
            raise InvalidInput(f"Event #{event_id} is {event.status}; only scheduled events can be edited.")
        fields: dict[str, Any] = {}
        now = self._clock.now()
        settings = await self._settings.get(guild_id)
        if title is not None:
            fields["title"] = _title(title)
        starts_ms = event.starts_ms
        if start is not None:
            starts_at = parse_when(start, zone or settings.zone, now)
            if starts_at < now - timedelta(minutes=1):
                raise InvalidInput("The start is in the past. Pick a later time.")
            starts_ms = to_ms(max(starts_at, now))
            fields.update(starts_ms=starts_ms, reminded_24h=False, reminded_1h=False)
        minutes = duration_minutes if duration_minutes is not None else (
            (event.ends_ms - event.starts_ms) // span_ms(timedelta(minutes=1)))
        _check_duration(minutes)
        if start is not None or duration_minutes is not None:
            fields["ends_ms"] = starts_ms + span_ms(timedelta(minutes=minutes))
        if capacity is not None:
            if capacity <= 0:
                raise InvalidInput("The capacity must be at least 1.")
            if capacity < event.rsvp_count:
                raise InvalidInput(f"{event.rsvp_count} members already joined; the capacity "
                                   "can't be lower than that.")
            fields["capacity"] = capacity
        if not fields:
            raise InvalidInput("Nothing to change: give a new title, start, duration or capacity.")
        guard: dict[str, Any] = {"status": "scheduled", "version": event.version}
        if "capacity" in fields:  # joins do not bump the version: guard the count itself
            guard["rsvp_count"] = {"$lte": fields["capacity"]}
        if not await self._repo.update(guild_id, event_id, guard=guard, fields=fields):
            raise InvalidInput("The event changed at the same moment; please try again.")
        return await self.get(guild_id, event_id)

    async def cancel(self, guild_id: int, event_id: int, actor: Actor) -> CommunityEvent:
        """Cancel a scheduled or live event (host or manager). Nobody is paid.

        Raises: InvalidInput, NotFound, NotPermitted.
        """
        event = await self.get(guild_id, event_id)
        await self.check_host(event, actor)
        actor_id = actor.user_id
        if event.status not in ("scheduled", "live"):
            raise InvalidInput(f"Event #{event_id} is already {event.status}.")
        if not await self._repo.update(guild_id, event_id, guard={"status": event.status},
                                       fields={"status": "cancelled",
                                               "cancelled": {"by": actor_id,
                                                             "ms": to_ms(self._clock.now())}}):
            raise InvalidInput(f"Event #{event_id} changed just now; look at it again.")
        return await self.get(guild_id, event_id)

    # --- reads -------------------------------------------------------------------------------
    async def get(self, guild_id: int, event_id: int) -> CommunityEvent:
        """One event. Raises NotFound."""
        doc = await self._repo.get(guild_id, int(event_id))
        if not doc:
            raise NotFound(f"Event #{event_id} doesn't exist. `/event list` shows the events.")
        return CommunityEvent.model_validate(doc)

    async def by_discord_id(self, guild_id: int, discord_event_id: int) -> CommunityEvent | None:
        """The event mirrored by a Discord scheduled event, if any.

        Raises: nothing expected.
        """
        doc = await self._repo.by_discord_id(guild_id, discord_event_id)
        return CommunityEvent.model_validate(doc) if doc else None

    async def list(self, guild_id: int, which: str) -> list[CommunityEvent]:
        """upcoming (scheduled), live, or past (completed and cancelled).

        Raises: nothing expected.
        """
        statuses = {"upcoming": ["scheduled"], "live": ["live"],
                    "past": ["completed", "cancelled"]}[which]
        docs = await self._repo.list(guild_id, statuses, newest_first=which == "past")
        return [CommunityEvent.model_validate(d) for d in docs]

    async def attendees(self, guild_id: int, event_id: int) -> tuple[list[int], list[int]]:
        """(RSVPs, check-ins) of an event.

        Raises: NotFound.
        """
        await self.get(guild_id, event_id)
        return (await self._repo.rsvp_users(guild_id, event_id),
                await self._repo.attendees(guild_id, event_id))

    # --- members -----------------------------------------------------------------------------
    async def join(self, guild_id: int, event_id: int, user_id: int, *,
                   via: str = "command") -> CommunityEvent:
        """RSVP. Raises InvalidInput when full, cancelled, over or already joined."""
        event = await self.get(guild_id, event_id)
        outcome, event = await self._take_place(event, user_id, via=via)
        if outcome == "already":
            raise InvalidInput(f"You already joined event #{event_id}.")
        if outcome == "joined":
            return await self.get(guild_id, event_id)
        places = f" ({event.capacity} places)" if event.capacity else ""
        raise InvalidInput(f"Event #{event_id} is full{places}.")

    async def _take_place(self, event: CommunityEvent, user_id: int, *,
                          via: str) -> tuple[str, CommunityEvent]:
        """Take a place under the capacity guard (one transaction: the RSVP and the count).

        Returns ("joined" | "already" | "full", the event as last read). Raises InvalidInput
        when the event is cancelled or over.
        """
        now_ms = to_ms(self._clock.now())
        g, e = event.guild_id, event.event_id
        for _ in range(JOIN_ATTEMPTS):
            self._check_open(event, now_ms)
            outcome = await self._repo.join(g, e, user_id, via=via, at_ms=now_ms,
                                            capacity=event.capacity)
            if outcome in ("joined", "already"):
                return outcome, event
            fresh = await self.get(g, e)
            if fresh.capacity == event.capacity:  # not an edit racing us: really full
                self._check_open(fresh, now_ms)
                return "full", fresh
            event = fresh  # the capacity changed under us: check against the new one
        return "full", event

    async def leave(self, guild_id: int, event_id: int, user_id: int) -> CommunityEvent:
        """Drop an RSVP. Raises InvalidInput when there was none."""
        event = await self.get(guild_id, event_id)
        if event.status not in ("scheduled", "live"):
            raise InvalidInput(f"Event #{event_id} is {event.status}.")
        if not await self._repo.leave(guild_id, event_id, user_id):
            place = await self._repo.rsvp(guild_id, event_id, user_id)
            if place is not None and place.get("checked_in"):
                raise InvalidInput(f"You already checked in to event #{event_id}, so your place "
                                   "stays yours.")
            raise InvalidInput(f"You haven't joined event #{event_id}.")
        return await self.get(guild_id, event_id)

    async def checkin(self, guild_id: int, event_id: int, user_id: int,
                      code: str | None = None) -> int:
        """Check in during the window (15 min before start to the end); pays the attendance
        reward once. Returns GEMS paid.

        Only members holding a place (an RSVP) check in: a member without one takes a free
        place on the spot (the same capacity-guarded join), and is refused when the event is
        full, so a 2-place event pays at most 2 attendance rewards. Without a capacity,
        checking in counts as joining. The check-in marks the place used in the reward's
        transaction, so a place that was left meanwhile pays nothing, and a used place can't
        be left. Events with a check-in code need it. Raises InvalidInput outside the window,
        twice, with a wrong code, or without a place; FeatureOff while events are switched off
        (/settings modules).
        """
        await require_on(self._settings, guild_id, "events")
        event = await self.get(guild_id, event_id)
        if is_tombstone(user_id):
            raise DeletedAccount("That member deleted their data; nothing more is paid to them.")
        if event.checkin_code and (code or "").strip().upper() != event.checkin_code:
            raise InvalidInput("That check-in code is not right. Ask the host to read it out."
                               if code else "This event needs the check-in code the host reads "
                               f"out: `/event checkin {event_id} code:...`.")
        now = self._clock.now()
        if event.status not in ("scheduled", "live"):
            raise InvalidInput(f"Event #{event_id} is {event.status}: check-in is closed.")
        if now < event.starts_at - CHECKIN_EARLY:
            raise InvalidInput(f"Check-in opens 15 minutes before the start "
                               f"(<t:{unix_seconds(event.starts_ms)}:R>).")
        if now >= event.ends_at:
            raise InvalidInput(f"Event #{event_id} is over: check-in is closed.")
        place = await self._repo.rsvp(guild_id, event_id, user_id)
        if place is None:
            outcome, event = await self._take_place(event, user_id, via="checkin")
            if outcome == "full":
                raise InvalidInput(_no_place(event))
        elif place.get("checked_in"):
            raise _already_checked_in(event_id)
        at_ms = to_ms(now)
        amount = event.reward("attend")
        try:
            if amount <= 0:
                await self._repo.insert_attendance(guild_id, event_id, user_id, at_ms=at_ms)
                await self._signals.send("event_attended", guild_id, user_id)
                return 0

            async def record(session: Any) -> None:
                await self._repo.insert_attendance(guild_id, event_id, user_id, at_ms=at_ms,
                                                   session=session)

            movement = await self._ledger.earn(
                guild_id, user_id, amount, key=f"event:{event_id}:attend:{user_id}",
                kind="reward", source="event", ref=f"event:{event_id}", also=record)
        except AlreadyRecorded:
            raise _already_checked_in(event_id) from None
        except NoPlace:
            raise InvalidInput(f"You no longer hold a place at event #{event_id}: join it "
                               "again to check in.") from None
        if movement.replayed:
            raise _already_checked_in(event_id)
        await self._signals.send("event_attended", guild_id, user_id)
        return movement.entries[0].delta

    # --- completion --------------------------------------------------------------------------
    async def complete(self, guild_id: int, event_id: int, actor: Actor, winners: list[int], *,
                       confirm_absent: bool = False) -> Payout:
        """Complete the event with up to three winners (1st, 2nd, 3rd) and pay everyone once.

        Winners who did not check in need `confirm_absent`. A second completion (a double
        press, another manager) pays nothing more and reports `already`. Refused (FeatureOff)
        while events are switched off; a payout a completion already started still finishes in
        the sweep (it is owed).

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            InvalidInput, NotFound, NotPermitted, OutcomeUnknown, WinnersNeedConfirmation.
        """
        await require_on(self._settings, guild_id, "events")
        event = await self.get(guild_id, event_id)
        await self.check_host(event, actor)
        actor_id = actor.user_id
        if event.status == "completed":
            return await self._payout(event, already=True)
        if event.status not in ("scheduled", "live"):
            raise InvalidInput(f"Event #{event_id} is {event.status}.")
        if self._clock.now() < event.starts_at:
            raise InvalidInput(f"Event #{event_id} has not started yet.")
        winners = list(dict.fromkeys(int(w) for w in winners))
        if len(winners) > MAX_WINNERS:
            raise InvalidInput("Pick at most three winners (1st, 2nd, 3rd).")
        # Asked here, not in the picker: a forged confirm button carries any ids it likes.
        self._members.require_payable(guild_id, winners, "winner")
        attendees = set(await self._repo.attendees(guild_id, event_id))
        absent = [w for w in winners if w not in attendees]
        if absent and not confirm_absent:
            raise WinnersNeedConfirmation(absent)
        changed = await self._repo.update(
            guild_id, event_id, guard={"status": event.status, "version": event.version},
            fields={"status": "completed", "winners": winners, "payout_done": False,
                    "completed": {"by": actor_id, "ms": to_ms(self._clock.now())}})
        event = await self.get(guild_id, event_id)
        if not changed and event.status != "completed":
            raise InvalidInput(f"Event #{event_id} changed just now; look at it again.")
        payout = await self._payout(event, already=not changed)
        if changed and event.winners:
            await self._signals.send("event_completed", guild_id, *event.winners)
        return payout

    async def _payout(self, event: CommunityEvent, *, already: bool = False) -> Payout:
        """Pay every completion reward under its key (idempotent), then mark the payout done."""
        g, e = event.guild_id, event.event_id
        attendees = await self._repo.attendees(g, e)
        result = Payout(event, attendees, list(event.winners), already=already)
        ref = f"event:{e}"
        # A deleted member's check-in stays as an anonymous record and is paid nothing more.
        attendees = [u for u in attendees if not is_tombstone(u)]
        for user_id in attendees:
            if event.reward("complete") > 0:
                movement = await self._ledger.earn(g, user_id, event.reward("complete"),
                                                   key=f"event:{e}:complete:{user_id}",
                                                   kind="reward", source="event", ref=ref)
                result.paid += 0 if movement.replayed else movement.entries[0].delta
        for rank, user_id in enumerate(event.winners[:MAX_WINNERS], start=1):
            prize = event.reward(f"place{rank}")
            if prize > 0 and not is_tombstone(user_id):
                movement = await self._ledger.earn(g, user_id, prize, key=f"event:{e}:place:{rank}",
                                                   kind="reward", source="event", ref=ref)
                result.paid += 0 if movement.replayed else movement.entries[0].delta
        role_id, days = event.rewards.get("role_id"), int(event.rewards.get("role_days") or 0)
        if role_id and days:
            expires = to_ms(self._clock.now()) + days * 24 * HOUR_MS
            for user_id in attendees:
                if await self._repo.insert_grant(g, e, user_id, role_id=int(role_id),
                                                 expires_ms=expires):
                    result.role_grants.append(user_id)
        await self._repo.update(g, e, guard={"status": "completed", "payout_done": False},
                                fields={"payout_done": True})
        return result

    async def paid_total(self, event: CommunityEvent) -> int:
        """Attendance and completion rewards and prizes an event paid (for the summary).

        Raises: nothing expected.
        """
        attendees = await self._repo.attendees(event.guild_id, event.event_id)
        living = [u for u in attendees if not is_tombstone(u)]  # deleted members: nothing more
        total = len(attendees) * event.reward("attend") + len(living) * event.reward("complete")
        return total + sum(event.reward(f"place{r}")
                           for r, user_id in enumerate(event.winners[:3], start=1)
                           if not is_tombstone(user_id))

    # --- the sweep ---------------------------------------------------------------------------
    async def sweep(self) -> list[EventNotice]:
        """Reminders, going live, unfinished payouts, expired reward roles (each once).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount, NotFound,
            OutcomeUnknown.
        """
        notices: list[EventNotice] = []
        now = self._clock.now()
        now_ms = to_ms(now)
        for guild_id in await self._repo.guild_ids():
            for doc in await self._repo.open_events(guild_id):
                event = CommunityEvent.model_validate(doc)
                notices += await self._sweep_event(event, doc, now_ms)
        for guild_id in await self._repo.series_guild_ids():
            for doc in await self._repo.pending_series(guild_id):
                if doc["starts_ms"] <= now_ms:
                    created = await self._next_occurrence(doc)
                    if created is not None:
                        notices.append(EventNotice("new", created))
        for guild_id in await self._repo.grant_guild_ids():
            for grant in await self._repo.due_grants(guild_id, now_ms):
                if await self._repo.claim_grant_removal(grant["_id"]):
                    notices.append(EventNotice("role_expired", None, (int(grant["user_id"]),),
                                               role_id=int(grant["role_id"]), guild_id=guild_id))
        return notices

    async def _sweep_event(self, event: CommunityEvent, doc: dict, now_ms: int) -> list[EventNotice]:
        g, e = event.guild_id, event.event_id
        out: list[EventNotice] = []
        if event.status == "completed":
            out.append(EventNotice("payout", event, payout=await self._payout(event)))
            return out
        for flag, lead, kind in (("reminded_24h", 24 * HOUR_MS, "remind24"),
                                 ("reminded_1h", HOUR_MS, "remind1")):
            if (event.status == "scheduled" and not doc.get(flag)
                    and now_ms >= event.starts_ms - lead and await self._repo.claim_flag(g, e, flag)
                    and now_ms < event.starts_ms - (HOUR_MS if kind == "remind24" else 0)):
                out.append(EventNotice(kind, event, tuple(await self._repo.rsvp_users(g, e))))
        if event.status == "scheduled" and event.starts_ms <= now_ms < event.ends_ms and (
                await self._repo.update(g, e, guard={"status": "scheduled", "live_announced": False},
                                        fields={"status": "live", "live_announced": True})):
            out.append(EventNotice("live", await self.get(g, e)))
        return out

    async def _next_occurrence(self, doc: dict) -> CommunityEvent | None:
        """Expand the next occurrence of a repeating event once its current one has started.

        The next id is reserved on the current event first (guarded), then the occurrence is
        inserted by that id, so two processes or a crash in between create it exactly once.
        Returns the event when this call inserted it (and should announce it).
        """
        g, e = doc["guild_id"], doc["event_id"]
        next_id = doc.get("next_event_id")
        if next_id is None:
            reserved = await self._repo.next_id(g)
            if not await self._repo.update(g, e, guard={"next_event_id": None},
                                           fields={"next_event_id": reserved}):
                return None  # another process reserved it; it inserts the occurrence
            next_id = reserved
        settings = await self._settings.get(g)
        rule = dict(doc["recurrence"])
        starts = _next_start(from_ms(doc["starts_ms"]),
                             rule["freq"], settings.zone)
        starts_ms = to_ms(starts)
        rule["remaining"] = int(rule["remaining"]) - 1
        fresh = {key: doc.get(key) for key in ("guild_id", "title", "description", "type",
                                               "host_ids", "channel_id", "capacity", "rewards",
                                               "created_by", "checkin_code")}
        fresh.update(event_id=next_id, starts_ms=starts_ms,
                     ends_ms=starts_ms + doc["ends_ms"] - doc["starts_ms"], status="scheduled",
                     rsvp_count=0, winners=[], created_ms=to_ms(self._clock.now()),
                     discord_event_id=None, version=0, reminded_24h=False, reminded_1h=False,
                     live_announced=False, payout_done=False,
                     recurrence=rule if rule["remaining"] > 0 else None,
                     next_pending=rule["remaining"] > 0, next_event_id=None,
                     series_of=doc.get("series_of") or e)
        inserted = await self._repo.insert_if_absent(fresh)
        await self._repo.update(g, e, guard={"next_pending": True}, fields={"next_pending": False})
        return CommunityEvent.model_validate(fresh) if inserted else None

    # --- rules -------------------------------------------------------------------------------
    async def is_manager(self, guild_id: int, actor: Actor) -> bool:
        """An admin of the guild or a holder of its `event_manager_role_id`.

        Raises: nothing expected.
        """
        settings = await self._settings.get(guild_id)
        return actor.admin_or(guild_id, settings.event_manager_role_id)

    async def require_manager(self, guild_id: int, actor: Actor) -> None:
        """Refuse anyone but an event manager (create, and the cog's early refusal).

        Raises: NotPermitted (neither an admin nor a holder of `event_manager_role_id`).
        """
        if not await self.is_manager(guild_id, actor):
            raise NotPermitted("Only event managers (admins or the `event_manager_role_id` "
                               "role) can do that.")

    async def check_host(self, event: CommunityEvent, actor: Actor) -> None:
        """Refuse anyone but the event's host or an event manager (edit, cancel, complete).

        Raises: NotPermitted (neither the host nor an event manager).
        """
        if actor.user_id in event.host_ids or await self.is_manager(event.guild_id, actor):
            return
        raise NotPermitted("Only the event's host or an event manager can do that.")

    @staticmethod
    def _check_open(event: CommunityEvent, now_ms: int) -> None:
        if event.status == "cancelled":
            raise InvalidInput(f"Event #{event.event_id} was cancelled.")
        if event.status == "completed" or now_ms >= event.ends_ms:
            raise InvalidInput(f"Event #{event.event_id} is already over.")


def _next_start(start: datetime, freq: str, zone) -> datetime:
    """The next occurrence's start: same local wall-clock time a week or a month later
    (a month keeps the day, or the month's last day when it has fewer)."""
    local = start.astimezone(zone).replace(tzinfo=None)
    if freq == "weekly":
        nxt = local + timedelta(days=7)
    else:
        year, month = (local.year + (local.month // 12), local.month % 12 + 1)
        day = local.day
        while True:
            try:
                nxt = local.replace(year=year, month=month, day=day)
                break
            except ValueError:
                day -= 1
    return nxt.replace(tzinfo=zone).astimezone(UTC)


def _title(title: str | None) -> str:
    text = clean_text(title, TITLE_MAX, "title") or ""
    if len(text) < 3:
        raise InvalidInput("The title needs at least 3 characters.")
    return text


def _check_duration(minutes: int) -> None:
    if minutes <= 0:
        raise InvalidInput("The duration must be at least 1 minute.")
    if timedelta(minutes=minutes) > MAX_DURATION:
        raise InvalidInput("An event can last at most 31 days.")


def _no_place(event: CommunityEvent) -> str:
    places = f" ({event.capacity} places)" if event.capacity else ""
    return (f"Event #{event.event_id} is full{places} and you don't hold one: only members who "
            "joined can check in. `/event join` again if a place frees up.")


def _already_checked_in(event_id: int) -> InvalidInput:
    return InvalidInput(f"You already checked in to event #{event_id}.")


__all__ = ["EVENT_TYPES", "CommunityEvent", "EventDraft", "EventNotice", "EventService", "Payout",
           "WinnersNeedConfirmation", "check_reward"]
