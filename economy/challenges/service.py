"""Daily challenges: today's draw, answers, completions, rewards, streaks, history, the pool.

Completion is recorded once per member, challenge and guild day by a unique index; the reward is
then credited through the ledger under the key `challenge:{day}:{id}:{user}` (kind "reward", so
active multipliers apply) and the completion is marked paid. A crash between the two leaves an
unpaid completion that `settle_unpaid` (a swept job) pays with the same key: paid exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from economy.challenges import answers, rotation, streaks
from economy.challenges.days import DayWindow, guild_day, member_day, week_key
from economy.challenges.pool import ChallengeDef, parse_def, shipped_pool
from economy.challenges.repo import ChallengeRepo
from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService
from economy.core.member_prefs import MemberPrefsService
from economy.core.models import Page, is_system
from economy.core.modules import is_on, require_on
from economy.core.settings import GuildSettings, SettingsService
from economy.core.signals import NO_SIGNALS, Signals

log = logging.getLogger(__name__)

# The challenge types this bot validates end to end; only these are drawn.
SUPPORTED_METRICS = frozenset({"messages", "reactions", "voice_minutes", "answer", "thanks", "votes"})
CAPTION_MAX = 300


@dataclass(frozen=True)
class TodayItem:
    """One of today's challenges as seen by one member."""

    challenge: ChallengeDef
    progress: int
    completed: bool
    attempts_left: int | None = None


@dataclass(frozen=True)
class Today:
    """Today's set for a member, with their streak."""

    window: DayWindow
    items: tuple[TodayItem, ...]
    streak: int


@dataclass(frozen=True)
class Completion:
    """A recorded completion and what it paid."""

    challenge_id: str
    title: str
    user_id: int
    day: str
    reward: int
    streak: int = 0
    bonuses: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class AnswerResult:
    """The outcome of a knowledge answer."""

    correct: bool
    attempts_left: int
    completion: Completion | None = None


@dataclass
class _DayCache:
    window: DayWindow
    defs: tuple[ChallengeDef, ...]
    by_id: dict[str, ChallengeDef] = field(default_factory=dict)


class ChallengeService:
    """Everything about daily challenges except counting chat events (see progress.py)."""

    def __init__(self, repo: ChallengeRepo, ledger: LedgerService, settings: SettingsService,
                 prefs: MemberPrefsService, clock: Clock,
                 pool: Sequence[ChallengeDef] | None = None,
                 signals: Signals = NO_SIGNALS) -> None:
        self._repo = repo
        self._signals = signals
        self._ledger = ledger
        self._settings = settings
        self._prefs = prefs
        self._clock = clock
        self._shipped = tuple(pool) if pool is not None else shipped_pool()
        self._days: dict[int, _DayCache] = {}
        self._answering: set[tuple[int, int, str]] = set()
        self._draw_lock = asyncio.Lock()

    # --- the daily draw ----------------------------------------------------------------------
    async def window(self, guild_id: int, at: datetime | None = None) -> DayWindow:
        """The guild's challenge day containing `at` (default now).

        Raises: nothing expected.
        """
        settings = await self._settings.get(guild_id)
        return guild_day(at or self._clock.now(), settings.zone, settings.challenge_reset_hour)

    async def todays_set(self, guild_id: int, at: datetime | None = None) -> tuple[DayWindow, tuple[ChallengeDef, ...]]:
        """Today's challenges of a guild, drawing them when nobody has yet.

        Raises: nothing expected.
        """
        at = at or self._clock.now()
        cached = self._days.get(guild_id)
        if cached and cached.window.contains(at):
            return cached.window, cached.defs
        window = await self.window(guild_id, at)
        doc = await self._repo.day(guild_id, window.key)
        if doc is None:
            async with self._draw_lock:
                doc = await self._draw(guild_id, window)
        defs = tuple(ChallengeDef.model_validate(raw) for raw in doc.get("defs", []))
        self._days[guild_id] = _DayCache(window, defs, {c.id: c for c in defs})
        return window, defs

    async def day_defs(self, guild_id: int, day: str) -> dict[str, ChallengeDef]:
        """The challenges drawn for a given day (empty when none was drawn).

        Raises: nothing expected.
        """
        cached = self._days.get(guild_id)
        if cached and cached.window.key == day:
            return cached.by_id
        doc = await self._repo.day(guild_id, day)
        return {c.id: c for c in (ChallengeDef.model_validate(r) for r in (doc or {}).get("defs", []))}

    async def _draw(self, guild_id: int, window: DayWindow) -> dict:
        doc = await self._repo.day(guild_id, window.key)
        if doc is not None:
            return doc
        settings = await self._settings.get(guild_id)
        pool = await self.pool(guild_id)
        recent_docs = await self._repo.recent_days(guild_id, max(1, settings.challenge_repeat_days))
        oldest = window.day - timedelta(days=settings.challenge_repeat_days)
        recent = {cid for d in recent_docs if oldest <= date.fromisoformat(d["day"]) < window.day
                  for cid in d.get("challenge_ids", [])}
        # Creativity needs a gallery channel to post entries in.
        metrics = SUPPORTED_METRICS - (set() if settings.challenge_gallery_channel_id else {"votes"})
        chosen = rotation.draw(
            [c for c in pool.values() if c.metric in metrics],
            guild_id=guild_id, day=window.day, count=settings.challenge_count, recent=recent)
        doc = {"guild_id": guild_id, "day": window.key, "start_ms": to_ms(window.start),
               "end_ms": to_ms(window.end), "challenge_ids": [c.id for c in chosen],
               "defs": [c.model_dump(mode="json") for c in chosen], "announced": False,
               "drawn_ms": to_ms(self._clock.now())}
        if not await self._repo.insert_day(doc):
            doc = await self._repo.day(guild_id, window.key) or doc  # another process drew first
        return doc

    async def claim_announcement(self, guild_id: int) -> tuple[DayWindow, tuple[ChallengeDef, ...]] | None:
        """Today's set if this caller won the right to announce it (once per guild day).

        Raises: nothing expected.
        """
        window, defs = await self.todays_set(guild_id)
        if not defs or not await self._repo.mark_announced(guild_id, window.key):
            return None
        return window, defs

    # --- the pool ----------------------------------------------------------------------------
    async def pool(self, guild_id: int) -> dict[str, ChallengeDef]:
        """Every challenge the guild can draw: shipped ones not retired plus active custom ones.

        Raises: nothing expected.
        """
        docs = await self._repo.guild_defs(guild_id)
        retired = {d["challenge_id"] for d in docs if d.get("status") == "retired"}
        defs = {c.id: c for c in self._shipped if c.id not in retired}
        for doc in docs:
            if doc.get("status") == "active" and not doc.get("shipped"):
                challenge = ChallengeDef.model_validate(doc["def"])
                defs[challenge.id] = challenge
        return dict(sorted(defs.items()))

    async def add_custom(self, guild_id: int, actor: Actor, fields: dict[str, Any]) -> ChallengeDef:
        """Validate and store a custom challenge (admins and challenge managers only).

        Raises: InvalidInput, NotPermitted.
        """
        may_manage(actor, await self._settings.get(guild_id), guild_id)
        fields = dict(fields)
        ctype = fields.get("type")
        if ctype == "knowledge":
            raw = str(fields.pop("answers_text", "") or "")
            fields["answers"] = [a for a in (p.strip() for p in raw.replace(";", "\n").splitlines()) if a]
            if not fields["answers"]:
                raise InvalidInput("A knowledge challenge needs at least one accepted answer "
                                   "(one per line).")
            fields["metric"] = "answer"
        else:
            fields.pop("answers_text", None)
        target = fields.get("target")
        if ctype != "knowledge" and (
                not isinstance(target, int) or isinstance(target, bool) or target < 1):
            raise InvalidInput("The target must be a whole number of at least 1.")
        fields["id"] = "c0"  # validated with a placeholder id; the real one is allocated below
        fields["custom"] = True
        parse_def(fields)
        number = await self._repo.next_custom_number(guild_id)
        challenge = parse_def({**fields, "id": f"c{number}"})
        await self._repo.insert_def({
            "guild_id": guild_id, "challenge_id": challenge.id, "status": "active",
            "def": challenge.model_dump(mode="json"),
            "created": {"by": actor.user_id, "at_ms": to_ms(self._clock.now())}})
        return challenge

    async def retire(self, guild_id: int, actor: Actor, challenge_id: str) -> ChallengeDef:
        """Take a challenge out of future draws (today's set is not changed).

        Raises: NotFound, NotPermitted.
        """
        may_manage(actor, await self._settings.get(guild_id), guild_id)
        actor_id = actor.user_id
        challenge_id = challenge_id.strip().lower()
        pool = await self.pool(guild_id)
        challenge = pool.get(challenge_id)
        if challenge is None:
            raise NotFound(f"There is no active challenge `{challenge_id[:40]}` in the pool.")
        at_ms = to_ms(self._clock.now())
        if challenge.custom:
            done = await self._repo.retire_custom(guild_id, challenge_id, actor_id=actor_id, at_ms=at_ms)
        else:
            done = await self._repo.retire_shipped(guild_id, challenge_id, actor_id=actor_id, at_ms=at_ms)
        if not done:
            raise NotFound(f"`{challenge_id}` was already retired.")
        return challenge

    # --- a member's day ----------------------------------------------------------------------
    async def today(self, guild_id: int, user_id: int,
                    pending: Callable[[str], dict[str, int]] | None = None) -> Today:
        """Today's challenges with the member's progress and streak.

        `pending(day)` adds counted progress still in memory (not yet flushed) by challenge id.

        Raises: nothing expected.
        """
        window, defs = await self.todays_set(guild_id)
        unwritten = pending(window.key) if pending else {}
        progress = {d["challenge_id"]: d for d in
                    await self._repo.member_progress(guild_id, window.key, user_id)}
        done = {d["challenge_id"] for d in
                await self._repo.member_day_completions(guild_id, user_id, window.key)}
        items = []
        for challenge in defs:
            doc = progress.get(challenge.id, {})
            completed = challenge.id in done
            count = (challenge.target if completed
                     else int(doc.get("count", 0)) + unwritten.get(challenge.id, 0))
            if challenge.type == "creativity" and not completed:
                entry = await self._repo.member_submission(guild_id, window.key, challenge.id, user_id)
                count = int(entry.get("votes", 0)) if entry else 0
            left = None
            if challenge.type == "knowledge":
                left = max(0, challenge.attempts - int(doc.get("attempts", 0)))
            items.append(TodayItem(challenge, min(count, challenge.target), completed, left))
        return Today(window, tuple(items), await self.current_streak(guild_id, user_id))

    async def active_challenge(self, guild_id: int, user_id: int, challenge_id: str,
                               *, kind: str | None = None) -> tuple[DayWindow, ChallengeDef]:
        """One of today's challenges the member can still complete; friendly errors otherwise
        (FeatureOff while challenges are switched off, before any attempt is used).

        Raises: FeatureOff, InvalidInput, NotFound.
        """
        await require_on(self._settings, guild_id, "challenges")
        challenge = await self.todays_challenge(guild_id, challenge_id)
        window, _ = await self.todays_set(guild_id)
        if kind is not None and challenge.type != kind:
            how = {"knowledge": "answer it with `/challenge submit` and no attachment",
                   "creativity": "submit it with an `image` and a `caption`"}.get(
                challenge.type, "it is counted automatically, nothing to submit")
            raise InvalidInput(f"`{challenge.id}` is a {challenge.type} challenge: {how}.")
        if await self._repo.completion(guild_id, user_id, window.key, challenge.id):
            raise InvalidInput(f"You already completed **{challenge.title}** today.")
        return window, challenge

    async def todays_challenge(self, guild_id: int, challenge_id: str) -> ChallengeDef:
        """One of today's challenges by id; NotFound otherwise.

        Raises: NotFound.
        """
        challenge_id = (challenge_id or "").strip().lower()[:40]
        _, defs = await self.todays_set(guild_id)
        for challenge in defs:
            if challenge.id == challenge_id:
                return challenge
        raise NotFound(f"`{challenge_id}` is not one of today's challenges (they change every "
                       "day; see `/challenge today`).")

    async def answerable(self, guild_id: int, user_id: int, challenge_id: str) -> ChallengeDef:
        """Today's knowledge challenge the member may still answer (before opening the form).

        Raises: FeatureOff, InvalidInput, NotFound.
        """
        window, challenge = await self.active_challenge(guild_id, user_id, challenge_id,
                                                        kind="knowledge")
        docs = await self._repo.member_progress(guild_id, window.key, user_id)
        used = next((int(d.get("attempts", 0)) for d in docs if d["challenge_id"] == challenge.id), 0)
        if used >= challenge.attempts:
            raise InvalidInput(f"You have used all {challenge.attempts} attempts for "
                               f"**{challenge.title}** today.")
        return challenge

    async def answer(self, guild_id: int, user_id: int, challenge_id: str, text: str | None) -> AnswerResult:
        """Check an answer to one of today's knowledge challenges, within the attempt limit.

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            InvalidInput, NotFound, OutcomeUnknown.
        """
        text = answers.check_answer_text(text)
        window, challenge = await self.active_challenge(guild_id, user_id, challenge_id,
                                                        kind="knowledge")
        key = (guild_id, user_id, challenge.id)
        if key in self._answering:
            raise InvalidInput("Your previous answer to this challenge is still being checked.")
        self._answering.add(key)
        try:
            used = await self._repo.claim_attempt(guild_id, window.key, challenge.id, user_id,
                                                  challenge.attempts)
            if used is None:
                raise InvalidInput(f"You have used all {challenge.attempts} attempts for "
                                   f"**{challenge.title}** today.")
            left = challenge.attempts - used
            if not answers.matches(text, challenge.answers):
                return AnswerResult(False, left)
            completion = await self.complete(guild_id, user_id, window, challenge)
            return AnswerResult(True, left, completion)
        finally:
            self._answering.discard(key)

    async def thank(self, guild_id: int, thanker_id: int, helper_id: int, *,
                    helper_is_bot: bool = False) -> tuple[list[Completion], bool]:
        """A member thanks a helper; counts toward today's community challenges.

        Returns (completions, counted): counted is False when no community challenge is drawn
        today (the thanks is still recorded). Refuses thanking yourself or a bot, and the same
        pair twice in one day.

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            InvalidInput, OutcomeUnknown.
        """
        if helper_id == thanker_id:
            raise InvalidInput("You can't thank yourself: thank a member who helped you.")
        if helper_is_bot:
            raise InvalidInput("Bots can't be thanked for challenges: thank a member instead.")
        await require_on(self._settings, guild_id, "challenges")
        window, defs = await self.todays_set(guild_id)
        recorded = await self._repo.insert_thanks({
            "guild_id": guild_id, "day": window.key, "thanker_id": thanker_id,
            "helper_id": helper_id, "at_ms": to_ms(self._clock.now())})
        if not recorded:
            raise InvalidInput("You already thanked this member today; thank someone else, or "
                               "again tomorrow.")
        community = [c for c in defs if c.metric == "thanks"]
        if not community:
            return [], False
        await self._repo.add_progress(guild_id, window.key, {(c.id, helper_id): 1 for c in community})
        done: list[Completion] = []
        for challenge in community:
            done += await self.complete_due(guild_id, window.key, challenge)
        return done, True

    # --- creativity --------------------------------------------------------------------------
    async def start_submission(self, guild_id: int, user_id: int, challenge_id: str,
                               caption: str | None) -> tuple[ChallengeDef, dict]:
        """Reserve a member's entry for today's creativity challenge (before posting it).

        The caller posts the entry in the gallery, then calls `publish_submission` (or
        `drop_submission` when posting failed).

        Raises: FeatureOff, InvalidInput, NotFound.
        """
        caption = " ".join((caption or "").split())
        if not caption:
            raise InvalidInput("Add a caption: one line about your photo.")
        if len(caption) > CAPTION_MAX:
            raise InvalidInput(f"Captions can be at most {CAPTION_MAX} characters.")
        settings = await self._settings.get(guild_id)
        if not settings.challenge_gallery_channel_id:
            raise InvalidInput("This server has no gallery channel for creativity challenges yet "
                               "(an admin sets `challenge_gallery_channel_id`).")
        window, challenge = await self.active_challenge(guild_id, user_id, challenge_id,
                                                        kind="creativity")
        doc = {"guild_id": guild_id, "submission_id": secrets.token_hex(6), "day": window.key,
               "challenge_id": challenge.id, "user_id": user_id, "caption": caption,
               "status": "posting", "votes": 0, "target": challenge.target,
               "at_ms": to_ms(self._clock.now())}
        if not await self._repo.insert_submission(doc):
            raise InvalidInput(f"You already submitted an entry for **{challenge.title}** today; "
                               "votes are counted in the gallery.")
        return challenge, doc

    async def publish_submission(self, doc: dict, channel_id: int, message_id: int) -> None:
        """The entry is in the gallery: open it for votes.

        Raises: nothing expected.
        """
        await self._repo.publish_submission(doc["_id"], channel_id, message_id)

    async def drop_submission(self, doc: dict) -> None:
        """Posting the entry failed: forget it so the member can submit again.

        Raises: nothing expected.
        """
        await self._repo.drop_submission(doc["_id"])

    async def vote(self, guild_id: int, voter_id: int, submission_id: str) -> tuple[dict, Completion | None]:
        """One vote for a gallery entry (not your own, once each); completes it at the target.

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            InvalidInput, NotFound, OutcomeUnknown.
        """
        await require_on(self._settings, guild_id, "challenges")
        doc = await self._submission(guild_id, submission_id)
        if doc["user_id"] == voter_id:
            raise InvalidInput("You can't vote for your own entry.")
        recorded = await self._repo.insert_vote({
            "guild_id": guild_id, "submission_id": doc["submission_id"], "voter_id": voter_id,
            "at_ms": to_ms(self._clock.now())})
        if not recorded:
            raise InvalidInput("You already voted for this entry (one vote each).")
        after = await self._repo.add_vote(doc["_id"]) or doc
        completion = None
        if after.get("votes", 0) >= after["target"]:
            completion = await self._accept(after, by=0)
        return after, completion

    async def accept(self, guild_id: int, actor: Actor, submission_id: str) -> tuple[dict, Completion | None]:
        """A moderator accepts an entry without waiting for votes.

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            InvalidInput, NotFound, NotPermitted, OutcomeUnknown.
        """
        actor.require_moderator(guild_id, "Only moderators can accept entries; members vote instead.")
        doc = await self._submission(guild_id, submission_id)
        if doc["status"] == "accepted":
            raise InvalidInput("This entry was already accepted.")
        return doc, await self._accept(doc, by=actor.user_id)

    async def _submission(self, guild_id: int, submission_id: str) -> dict:
        doc = await self._repo.submission(guild_id, submission_id)
        if doc is None or doc.get("status") == "posting":
            raise NotFound("That gallery entry does not exist (any more).")
        return doc

    async def _accept(self, doc: dict, *, by: int) -> Completion | None:
        # The guarded open -> accepted transition runs once; completing is idempotent, so a later
        # vote or click re-ensures a completion a crash may have missed.
        await self._repo.accept_submission(doc["_id"], by=by, at_ms=to_ms(self._clock.now()))
        challenge = (await self.day_defs(doc["guild_id"], doc["day"])).get(doc["challenge_id"])
        if challenge is None:  # pragma: no cover - the day's draw is never deleted
            return None
        return await self.complete(doc["guild_id"], doc["user_id"], doc["day"], challenge)

    # --- completion and rewards --------------------------------------------------------------
    async def complete(self, guild_id: int, user_id: int, window: DayWindow | str,
                       challenge: ChallengeDef, at: datetime | None = None) -> Completion | None:
        """Record a completion once and pay it; None when it was already recorded.

        Raises FeatureOff while challenges are switched off (/settings modules): nothing is recorded,
        so the counted progress completes when the feature is back on.
        """
        if is_system(user_id):
            return None  # a deleted member's anonymous record completes nothing more
        await require_on(self._settings, guild_id, "challenges")
        day = window.key if isinstance(window, DayWindow) else window
        at = at or self._clock.now()
        if isinstance(window, DayWindow) and at >= window.end:
            at = window.end - timedelta(milliseconds=1)  # a late flush still counts on its day
        doc = {"guild_id": guild_id, "user_id": user_id, "day": day, "challenge_id": challenge.id,
               "type": challenge.type, "title": challenge.title, "reward": challenge.reward,
               "at_ms": to_ms(at), "week": week_key(date.fromisoformat(day)), "paid": False}
        recorded = await self._repo.insert_completion(doc)
        await self._repo.mark_progress_completed(guild_id, day, challenge.id, user_id)
        if not recorded:
            return None
        completion = await self._pay(doc)
        await self._signals.send("challenge_completed", guild_id, user_id)
        return completion

    async def _pay(self, doc: dict) -> Completion:
        guild_id, user_id, day = doc["guild_id"], doc["user_id"], doc["day"]
        settings = await self._settings.get(guild_id)
        movement = await self._ledger.earn(
            guild_id, user_id, doc["reward"], kind="reward",
            key=f"challenge:{day}:{doc['challenge_id']}:{user_id}", ref=f"challenge:{doc['challenge_id']}")
        paid = movement.entries[0].delta
        streak, bonuses = await self._after_completion(doc, settings)
        await self._repo.mark_paid(doc["_id"], paid)
        return Completion(doc["challenge_id"], doc.get("title", doc["challenge_id"]), user_id, day,
                          paid, streak, bonuses)

    async def _after_completion(self, doc: dict, settings: GuildSettings) -> tuple[int, tuple[tuple[str, int], ...]]:
        """Extend the streak (member-local day) and pay streak and weekly bonuses (idempotent)."""
        guild_id, user_id = doc["guild_id"], doc["user_id"]
        zone = await self._prefs.member_zone(guild_id, user_id)
        local = member_day(from_ms(doc["at_ms"]), zone)
        state = await self._advance_streak(guild_id, user_id, local, settings.challenge_grace_days)
        await self._record_scores(doc)
        bonuses: list[tuple[str, int]] = []
        if state.last == local and state.count in settings.streak_bonuses:
            amount = settings.streak_bonuses[state.count]
            movement = await self._ledger.earn(
                guild_id, user_id, amount, kind="reward", ref=f"challenge-streak:{state.count}",
                key=f"chstreak:{user_id}:{local.isoformat()}:{state.count}")
            bonuses.append((f"{state.count}-day streak bonus", movement.entries[0].delta))
        if settings.challenge_weekly_target and settings.challenge_weekly_bonus:
            done = await self._repo.count_week(guild_id, user_id, doc["week"])
            if done >= settings.challenge_weekly_target:
                movement = await self._ledger.earn(
                    guild_id, user_id, settings.challenge_weekly_bonus, kind="reward",
                    key=f"chweek:{user_id}:{doc['week']}", ref=f"challenge-week:{doc['week']}")
                if not movement.replayed:
                    bonuses.append(("weekly bonus", movement.entries[0].delta))
        return state.count, tuple(bonuses)

    async def _record_scores(self, doc: dict) -> None:
        # Exact counts from the completions (indexed counts), so a retry never double counts.
        guild_id, user_id = doc["guild_id"], doc["user_id"]
        day = len(await self._repo.member_day_completions(guild_id, user_id, doc["day"]))
        week = await self._repo.count_week(guild_id, user_id, doc["week"])
        total = await self._repo.count_history(guild_id, user_id)
        await self._repo.set_scores(guild_id, user_id, {doc["day"]: day, doc["week"]: week, "all": total})

    async def leaderboard(self, guild_id: int, board: str, *, page: int = 1,
                          page_size: int = 10) -> Page:
        """Rows (rank, user_id, value) of a leaderboard: `daily`, `weekly`, `all-time` completions
        or `streaks` (current streaks: a completion within the last two days).

        Raises: InvalidInput.
        """
        page = max(1, page)
        skip = (page - 1) * page_size
        window = await self.window(guild_id)
        if board == "streaks":
            alive = window.day.toordinal() - 2
            total = await self._repo.count_streaks(guild_id, min_last_n=alive)
            docs = await self._repo.top_streaks(guild_id, min_last_n=alive, skip=skip, limit=page_size)
            values = [int(d.get("streak", 0)) for d in docs]
        else:
            period = {"daily": window.key, "weekly": week_key(window.day), "all-time": "all"}.get(board)
            if period is None:
                raise InvalidInput("Pick one of the leaderboards: daily, weekly, all-time, streaks.")
            total = await self._repo.count_scores(guild_id, period)
            docs = await self._repo.top_scores(guild_id, period, skip=skip, limit=page_size)
            values = [int(d.get("n", 0)) for d in docs]
        rows = tuple((skip + i + 1, d["user_id"], v) for i, (d, v) in enumerate(zip(docs, values, strict=True)))
        return Page(rows=rows, page=page, page_size=page_size, total=total)

    async def _advance_streak(self, guild_id: int, user_id: int, day: date, grace: int) -> streaks.StreakState:
        for _ in range(20):  # a lost race re-reads and retries
            doc = await self._repo.streak(guild_id, user_id)
            state = streaks.StreakState.from_doc(doc["state"] if doc else None)
            new, _ = streaks.advance(state, day, grace)
            if new is state:
                return state
            assert new.last is not None
            if await self._repo.save_streak(guild_id, user_id, version=doc["version"] if doc else None,
                                            state=new.to_doc(), streak=new.count,
                                            last_n=new.last.toordinal()):
                return new
        raise RuntimeError("streak update kept conflicting")  # pragma: no cover

    async def current_streak(self, guild_id: int, user_id: int) -> int:
        """The member's challenge streak as it stands now (in their own zone).

        Raises: nothing expected.
        """
        doc = await self._repo.streak(guild_id, user_id)
        if not doc:
            return 0
        settings = await self._settings.get(guild_id)
        zone = await self._prefs.member_zone(guild_id, user_id)
        today = member_day(self._clock.now(), zone)
        return streaks.current(streaks.StreakState.from_doc(doc["state"]), today,
                               settings.challenge_grace_days)

    async def settle_unpaid(self, guild_id: int) -> int:
        """Pay completions left unpaid by a crash (same idempotency keys); returns how many.

        Also while challenges are switched off: these rewards are already owed.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        settled = 0
        for doc in await self._repo.unpaid(guild_id):
            try:
                await self._pay(doc)
                settled += 1
            except Exception:
                log.exception("could not settle challenge completion %s", doc.get("_id"))
        return settled

    async def complete_due(self, guild_id: int, day: str, challenge: ChallengeDef) -> list[Completion]:
        """Complete every member whose counted progress reached the target (none while
        challenges are switched off: they complete when it is back on).

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        if not is_on(await self._settings.get(guild_id), "challenges"):
            return []
        done = []
        for doc in await self._repo.due_progress(guild_id, day, challenge.id, challenge.target):
            completion = await self.complete(guild_id, doc["user_id"], day, challenge,
                                             at=self._clock.now())
            if completion is not None:
                done.append(completion)
        return done

    # --- history -----------------------------------------------------------------------------
    async def history(self, guild_id: int, user_id: int, *, page: int = 1, page_size: int = 10) -> Page:
        """A member's completions, newest first; rows are completion documents.

        Raises: nothing expected.
        """
        page = max(1, page)
        total = await self._repo.count_history(guild_id, user_id)
        docs = await self._repo.history(guild_id, user_id, skip=(page - 1) * page_size, limit=page_size)
        return Page(rows=tuple(docs), page=page, page_size=page_size, total=total)


def may_manage(actor: Actor, settings: GuildSettings, guild_id: int) -> None:
    """Raise NotPermitted unless the member is an admin of `guild_id` or holds its challenge
    manager role."""
    if actor.admin_or(guild_id, settings.challenge_manager_role_id):
        return
    raise NotPermitted("Only admins or the challenge managers can change the challenge pool.")
