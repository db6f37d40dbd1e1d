"""Community goals: the server works together towards a target before a deadline.

Metrics: `gems_earned` (GEMS members earn together: activity, dailies, earnings, rewards; no
admin grants) and `event_checkins` (check-ins at community events), counted from the goal's
creation to its deadline straight from the ledger and the attendance records (no counters to
keep in step). The sweep closes a goal once: `open -> reached` (guarded), then pays every
contributor the reward under `goal:<id>:<user>` (so two processes or a restart pay each once),
then announces once; a goal whose deadline passed first becomes `expired`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from economy.boosts.service import parse_end
from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.ledger import LedgerService
from economy.core.members import MemberService
from economy.core.modules import is_on
from economy.core.settings import SettingsService
from economy.core.text import clean_text
from economy.goals.repo import GoalRepo

METRICS = {"gems_earned": "GEMS earned together", "event_checkins": "event check-ins"}
MAX_TARGET = 10**12
MAX_REWARD = 1_000_000
MAX_DAYS = 366


@dataclass(frozen=True)
class Goal:
    """A goal with its progress."""

    guild_id: int
    goal_id: int
    title: str
    metric: str
    target: int
    reward: int
    starts_ms: int
    deadline_ms: int
    status: str
    progress: int = 0
    contributors: int = 0

    @property
    def deadline(self) -> datetime:
        """The deadline (aware UTC)."""
        return from_ms(self.deadline_ms)

    @property
    def percent(self) -> int:
        """Progress in whole percent (0-100)."""
        return min(100, self.progress * 100 // max(1, self.target))


@dataclass(frozen=True)
class GoalNotice:
    """A goal that was reached (`paid` GEMS to `contributors`) or expired."""

    goal: Goal
    kind: str
    paid: int = 0


class GoalService:
    """Create goals, show progress, close them once."""

    def __init__(self, repo: GoalRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, members: MemberService) -> None:
        self._members = members
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def create(self, guild_id: int, actor: Actor, *, target: int, metric: str,
                     deadline: str, reward: int, title: str | None = None,
                     zone: tzinfo | None = None) -> Goal:
        """Validate and store a goal (admins of the guild). Raises NotPermitted (not an admin),
        InvalidInput (nothing stored).

        `deadline` is a moment read in `zone` (the member's; default the guild's) or a duration."""
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        if metric not in METRICS:
            raise InvalidInput(f"The metric must be one of: {', '.join(METRICS)}.")
        if not 1 <= target <= MAX_TARGET:
            raise InvalidInput("The target must be at least 1.")
        if not 0 <= reward <= MAX_REWARD:
            raise InvalidInput(f"The reward must be between 0 and {MAX_REWARD:,} GEMS.")
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        due = parse_end(deadline, now, zone or settings.zone, now)
        if due <= now:
            raise InvalidInput("The deadline must be in the future.")
        if due - now > timedelta(days=MAX_DAYS):
            raise InvalidInput("The deadline can be at most a year ahead.")
        title = clean_text(title, 100, "title") or f"{target:,} {METRICS[metric]}"
        goal_id = await self._repo.next_id(guild_id)
        doc = {"guild_id": guild_id, "goal_id": goal_id, "title": title, "metric": metric,
               # +1 ms: whatever was recorded at the very moment of creation predates the goal
               "target": target, "reward": reward, "starts_ms": to_ms(now) + 1,
               "deadline_ms": to_ms(due), "status": "open", "payout_done": False,
               "announced": False, "created_by": actor_id}
        await self._repo.insert(doc)
        return _goal(doc)

    async def view(self, guild_id: int, goal_id: int) -> Goal:
        """A goal with its current progress. Raises NotFound."""
        doc = await self._repo.get(guild_id, goal_id)
        if not doc:
            raise NotFound(f"Goal #{goal_id} doesn't exist. `/goal list` shows the goals.")
        counts = await self._contributions(doc)
        return _goal(doc, counts)

    async def open_goals(self, guild_id: int) -> list[Goal]:
        """Open goals with progress.

        Raises: nothing expected.
        """
        return [_goal(d, await self._contributions(d))
                for d in await self._repo.by_status(guild_id, "open")]

    async def sweep(self) -> list[GoalNotice]:
        """Close reached or expired goals, pay contributors, announce (each once).

        While goals are switched off (/settings modules) no goal closes (they close when it is back
        on), but a goal already reached is owed: its contributors are paid, and the
        announcement waits until the feature is on again.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        now_ms = to_ms(self._clock.now())
        notices = []
        for guild_id in await self._repo.guild_ids():
            on = is_on(await self._settings.get(guild_id), "goals")
            for doc in await self._repo.by_status(guild_id, "open") if on else ():
                counts = await self._contributions(doc)
                if sum(counts.values()) >= doc["target"]:
                    await self._repo.transition(guild_id, doc["goal_id"], from_status="open",
                                                fields={"status": "reached", "reached_ms": now_ms})
                elif now_ms >= doc["deadline_ms"]:
                    await self._repo.transition(guild_id, doc["goal_id"], from_status="open",
                                                fields={"status": "expired"})
            for doc in await self._repo.unfinished(guild_id):
                notice = await self._finish(doc, announce=on)
                if notice is not None:
                    notices.append(notice)
        return notices

    async def _finish(self, doc: dict, *, announce: bool = True) -> GoalNotice | None:
        if doc["status"] == "open":
            return None
        g, n = doc["guild_id"], doc["goal_id"]
        counts = await self._contributions(doc, until_ms=doc.get("reached_ms"))
        paid = 0
        # A goal whose payout was done waits only for its announcement (while switched off
        # the sweep comes back every minute): no replayed earnings each time.
        if doc["status"] == "reached" and doc["reward"] > 0:
            for user_id in sorted(counts):
                # Deleted members' contributions count toward the goal but are paid nothing;
                # nor are members who left or bots (their GEMS came from an admin's grant).
                if not self._members.may_receive(g, user_id):
                    continue
                if not doc.get("payout_done"):
                    await self._ledger.earn(g, user_id, doc["reward"], key=f"goal:{n}:{user_id}",
                                            kind="reward", source="goal", ref=f"goal:{n}")
                paid += doc["reward"]
        await self._repo.claim(g, n, "payout_done")
        if not announce or not await self._repo.claim(g, n, "announced"):
            return None
        return GoalNotice(_goal(doc, counts), doc["status"], paid)

    async def _contributions(self, doc: dict, until_ms: int | None = None) -> dict[int, int]:
        end = until_ms or doc["deadline_ms"]
        if doc["metric"] == "event_checkins":
            return await self._repo.checkins_by_user(doc["guild_id"], doc["starts_ms"], end)
        return await self._repo.earned_by_user(doc["guild_id"], doc["starts_ms"], end)


def _goal(doc: dict, counts: dict[int, int] | None = None) -> Goal:
    counts = counts or {}
    return Goal(guild_id=doc["guild_id"], goal_id=doc["goal_id"], title=doc["title"],
                metric=doc["metric"], target=int(doc["target"]), reward=int(doc["reward"]),
                starts_ms=int(doc["starts_ms"]), deadline_ms=int(doc["deadline_ms"]),
                status=doc["status"], progress=sum(counts.values()), contributors=len(counts))


__all__ = ["METRICS", "Goal", "GoalNotice", "GoalService"]
