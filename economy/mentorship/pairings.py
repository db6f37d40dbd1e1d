"""Active mentorships: finding the pair a command means, the private room, goals (milestones
with a GEMS reward for the mentor), activity and check-in reminders, and the ending."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from economy.core.clock import Clock, span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService
from economy.core.models import is_system
from economy.core.modules import require_on
from economy.core.settings import SettingsService
from economy.core.signals import NO_SIGNALS, Signals
from economy.core.text import clean_text
from economy.mentorship.models import MENTOR_LEVELS, EndResult, Goal, GoalResult, Pairing
from economy.mentorship.repo import MentorshipRepo
from economy.mentorship.rules import (
    DAY_MS,
    END_REASONS,
    GOAL_TEXT_MAX,
    MAX_GOALS,
    REVIEW_MAX,
    MentorshipUnavailable,
)


class PairingService:
    """Proposals and mentorships once made: lookups, the pair at work, endings."""

    def __init__(self, repo: MentorshipRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, *, signals: Signals = NO_SIGNALS) -> None:
        self._signals = signals
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def get(self, guild_id: int, mentorship_id: int) -> Pairing:
        """A proposal or mentorship; NotFound when there is none with that number.

        Raises: NotFound (no proposal or mentorship with that number).
        """
        doc = await self._repo.pair(guild_id, mentorship_id)
        if not doc:
            raise NotFound(f"There is no mentorship #{mentorship_id}.")
        return Pairing.model_validate(doc)

    async def attach_room(self, guild_id: int, mentorship_id: int, *, thread_id: int | None,
                          card_message_id: int | None) -> None:
        """Remember the private thread and the pinned goals card of a mentorship.

        Raises: nothing of its own (a mentorship no longer active is left as it is).
        """
        await self._repo.set_pair_fields(guild_id, mentorship_id, guard={"status": "active"},
                                         fields={"thread_id": thread_id,
                                                 "card_message_id": card_message_id})

    async def active_for(self, guild_id: int, user_id: int) -> list[Pairing]:
        """A member's active mentorships (as mentee or mentor).

        Raises: nothing of its own.
        """
        found = []
        for role in ("mentee", "mentor"):
            found += [Pairing.model_validate(d)
                      for d in await self._repo.pairs_of(guild_id, user_id, role=role)
                      if d["status"] == "active"]
        return sorted(found, key=lambda p: p.mentorship_id)

    async def history(self, guild_id: int, user_id: int,
                      statuses: tuple[str, ...] | None = None) -> list[Pairing]:
        """A member's proposals and mentorships (as mentee or mentor), newest first; only those
        in `statuses` when given.

        Raises: nothing of its own.
        """
        docs = (await self._repo.pairs_of(guild_id, user_id, role="mentee")
                + await self._repo.pairs_of(guild_id, user_id, role="mentor"))
        return [Pairing.model_validate(d) for d in sorted(docs, key=lambda d: -d["mentorship_id"])
                if statuses is None or d["status"] in statuses]

    async def is_room(self, guild_id: int, thread_id: int) -> bool:
        """Whether a thread is the private room of a mentorship (any status).

        Raises: nothing of its own.
        """
        return await self._repo.pair_by_thread(guild_id, thread_id) is not None

    async def resolve(self, guild_id: int, user_id: int, *, mentorship_id: int | None,
                      thread_id: int | None, statuses: tuple[str, ...] = ("active",)) -> Pairing:
        """Which mentorship a command means: the given number, the thread it runs in, or the
        member's only active one. Only the two members of a pair may act on it.

        Raises: NotFound (no active mentorship, or no such number); InvalidInput (several
        mentorships and none named); NotPermitted (not one of the pair); MentorshipUnavailable (not
        in one of `statuses`).
        """
        if mentorship_id is None and thread_id is not None:
            doc = await self._repo.pair_by_thread(guild_id, thread_id)
            mentorship_id = doc["mentorship_id"] if doc else None
        if mentorship_id is None:
            active = await self.active_for(guild_id, user_id)
            if not active:
                raise NotFound("You have no active mentorship.")
            if len(active) > 1:
                raise InvalidInput("You have several mentorships: pick one in the `mentorship` "
                                   "option (or run the command in its thread).")
            mentorship_id = active[0].mentorship_id
        pairing = await self.get(guild_id, mentorship_id)
        if pairing.role_of(user_id) is None:
            raise NotPermitted("Only the mentor and the mentee of that mentorship can do this.")
        if pairing.status not in statuses:
            raise MentorshipUnavailable(f"Mentorship #{mentorship_id} is {pairing.status}, "
                                        "not active.")
        return pairing

    async def add_goal(self, pairing: Pairing, user_id: int, text: str) -> Goal:
        """Add a goal (milestone) to an active mentorship; either side may.

        Raises: InvalidInput (a goal under 3 or over 200 characters, or the mentorship has 20
        goals).
        """
        text = clean_text(text, GOAL_TEXT_MAX, "goal") or ""
        if len(text) < 3:
            raise InvalidInput("Describe the goal in at least 3 characters.")
        doc = {"guild_id": pairing.guild_id, "mentorship_id": pairing.mentorship_id,
               "text": text, "status": "open", "added_by": user_id,
               "added_ms": to_ms(self._clock.now())}
        no = await self._repo.add_goal(doc, cap=MAX_GOALS)
        if no is None:
            raise InvalidInput(f"A mentorship can have at most {MAX_GOALS} goals.")
        await self.touch(pairing)
        return Goal.model_validate({**doc, "goal_no": no})

    async def goals(self, pairing: Pairing) -> list[Goal]:
        """The goals of a mentorship, in order.

        Raises: nothing of its own.
        """
        return [Goal.model_validate(d)
                for d in await self._repo.goals_of(pairing.guild_id, pairing.mentorship_id)]

    async def confirm_goal(self, pairing: Pairing, user_id: int, goal_no: int) -> GoalResult:
        """The mentee confirms a milestone; the mentor earns the reward once per milestone.

        Paying and marking the goal done are one transaction keyed by the milestone. Refused
        (FeatureOff) while mentorship is switched off (/settings modules).

        Raises: FeatureOff (mentorship switched off); NotPermitted (not the mentee); NotFound (no
        such goal); MentorshipUnavailable (already confirmed).
        """
        await require_on(self._settings, pairing.guild_id, "mentorship")
        if pairing.role_of(user_id) != "mentee":
            raise NotPermitted("Only the mentee confirms a milestone: a mentor can't confirm "
                               "their own.")
        doc = await self._repo.goal(pairing.guild_id, pairing.mentorship_id, goal_no)
        if not doc:
            raise NotFound(f"There is no goal {goal_no} in this mentorship.")
        if doc["status"] != "open":
            raise MentorshipUnavailable(f"Goal {goal_no} is already confirmed.")
        settings = await self._settings.get(pairing.guild_id)
        reward = settings.mentorship_milestone_reward
        now_ms = to_ms(self._clock.now())
        taken = MentorshipUnavailable(f"Goal {goal_no} is already confirmed.")

        async def mark_done(session: Any) -> None:
            if not await self._repo.complete_goal(pairing.guild_id, pairing.mentorship_id,
                                                  goal_no, by=user_id, now_ms=now_ms,
                                                  session=session):
                raise taken

        paid = 0
        if reward > 0 and not is_system(pairing.mentor_id):  # never a deleted mentor's account
            # The reward and the guarded open -> done transition commit together, under a key
            # per milestone: a double click or two processes pay once.
            movement = await self._ledger.earn(
                pairing.guild_id, pairing.mentor_id, reward, kind="reward",
                key=f"mentor-goal:{pairing.mentorship_id}:{goal_no}",
                ref=f"mentorship:{pairing.mentorship_id}", also=mark_done)
            if movement.replayed:
                raise taken
            paid = sum(e.delta for e in movement.entries)
        elif not await self._repo.complete_goal(pairing.guild_id, pairing.mentorship_id, goal_no,
                                                by=user_id, now_ms=now_ms):
            raise taken
        await self.touch(pairing)
        return GoalResult(Goal.model_validate({**doc, "status": "done"}), paid)

    async def end(self, pairing: Pairing, user_id: int, reason: str, note: str | None
                  ) -> EndResult:
        """Either side ends an active mentorship with a reason (`report` bars the pair for good
        and tells the lead). A `completed` ending counts for the mentor's level.

        Raises: InvalidInput (not one of the reasons, a note over 300 characters);
        MentorshipUnavailable (already ended).
        """
        if reason not in END_REASONS:
            raise InvalidInput(f"Pick a reason: {', '.join(END_REASONS)}.")
        note = clean_text(note, REVIEW_MAX, "note")
        fields = {"ended_ms": to_ms(self._clock.now()), "ended_by": user_id, "end_reason": reason,
                  "end_note": note, "reported": reason == "report"}
        completed = await self._repo.end(
            await self._repo.pair(pairing.guild_id, pairing.mentorship_id), fields=fields,
            completed=reason == "completed")
        if completed is None:
            raise MentorshipUnavailable("This mentorship has already ended.")
        reached = None
        if reason == "completed":
            reached = next((i + 1 for i, (n, _) in enumerate(MENTOR_LEVELS) if n == completed),
                           None)
            await self._signals.send("mentorship_completed", pairing.guild_id,
                                     pairing.mentor_id, pairing.mentee_id)
        return EndResult(await self.get(pairing.guild_id, pairing.mentorship_id), reached)

    async def touch(self, pairing: Pairing) -> None:
        """Note activity in a mentorship (pushes the next check-in reminder back).

        Raises: nothing of its own.
        """
        settings = await self._settings.get(pairing.guild_id)
        now_ms = to_ms(self._clock.now())
        await self._repo.set_pair_fields(
            pairing.guild_id, pairing.mentorship_id,
            guard={"status": "active", "last_activity_ms": {"$lt": now_ms - span_ms(timedelta(hours=1))}},
            fields={"last_activity_ms": now_ms,
                    "checkin_ms": now_ms + settings.mentorship_checkin_days * DAY_MS})

    async def touch_thread(self, guild_id: int, thread_id: int) -> None:
        """A message in a mentorship thread counts as activity.

        Raises: nothing of its own.
        """
        doc = await self._repo.pair_by_thread(guild_id, thread_id)
        if doc and doc["status"] == "active":
            await self.touch(Pairing.model_validate(doc))

    async def due_checkins(self, guild_id: int) -> list[Pairing]:
        """Active mentorships whose check-in reminder is due, each pushed to the next check-in.
        Idempotent: the push is guarded by the due time read, so two processes sweeping at once
        remind a pair once.

        Raises: nothing of its own.
        """
        settings = await self._settings.get(guild_id)
        now_ms = to_ms(self._clock.now())
        due = []
        for doc in await self._repo.due_pairs(guild_id, "active", "checkin_ms", now_ms):
            if await self._repo.set_pair_fields(
                    guild_id, doc["mentorship_id"],
                    guard={"status": "active", "checkin_ms": doc["checkin_ms"]},
                    fields={"checkin_ms": now_ms + settings.mentorship_checkin_days * DAY_MS}):
                due.append(Pairing.model_validate(doc))
        return due
