"""Counting chat events toward today's activity challenges, coalesced in memory.

A message or reaction adds to an in-memory counter (no database access on the hot path once the
guild's day is cached); `flush()` writes all counters with one bulk `$inc` per guild day and then
completes the members whose stored count reached the target. `flush()` runs on an interval and
when the bot closes, so a clean restart loses nothing; stored progress survives any restart and
the completion check reads it from the database, so a completion missed by a crash is made by
the next flush or sweep.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from economy.challenges.days import DayWindow
from economy.challenges.pool import ChallengeDef
from economy.challenges.repo import ChallengeRepo
from economy.challenges.service import ChallengeService, Completion
from economy.core.clock import Clock
from economy.core.modules import is_on
from economy.core.settings import SettingsService

log = logging.getLogger(__name__)


@dataclass
class _GuildDay:
    window: DayWindow
    messages: tuple[ChallengeDef, ...]
    reactions: tuple[ChallengeDef, ...]
    voice: tuple[ChallengeDef, ...]
    min_length: int
    checked: float  # monotonic time the settings were last read

    def current(self, at: datetime) -> bool:
        # Settings are re-read as often as the settings cache refreshes.
        return (self.window.start <= at < self.window.end
                and time.monotonic() - self.checked < SETTINGS_REFRESH_SECONDS)


SETTINGS_REFRESH_SECONDS = 30.0


@dataclass
class _VoiceSession:
    channel_id: int
    since: datetime  # start of the minutes not yet credited


class ChallengeProgress:
    """Accumulates counted progress and flushes it in bulk."""

    def __init__(self, service: ChallengeService, repo: ChallengeRepo, settings: SettingsService,
                 clock: Clock) -> None:
        self._service = service
        self._repo = repo
        self._settings = settings
        self._clock = clock
        self._days: dict[int, _GuildDay] = {}
        self._pending: dict[tuple[int, str], dict[tuple[str, int], int]] = defaultdict(
            lambda: defaultdict(int))
        self._digests: dict[tuple[int, int], int] = {}
        # Members in voice whose minutes count: (guild, user) -> session. Minutes are credited
        # at every flush and when they leave, so a restart loses less than a flush interval.
        self._voice: dict[tuple[int, int], _VoiceSession] = {}
        # Progress documents this process already created, per guild day (cheaper re-writes).
        self._written: dict[tuple[int, str], set[tuple[str, int]]] = {}
        self._flush_lock = asyncio.Lock()
        self.events_counted = 0

    async def _guild_day(self, guild_id: int, at: datetime) -> _GuildDay:
        cached = self._days.get(guild_id)
        if cached is not None and cached.current(at):
            return cached
        window, defs = await self._service.todays_set(guild_id, at)
        settings = await self._settings.get(guild_id)
        day = _GuildDay(
            window, tuple(c for c in defs if c.counted and c.metric == "messages"),
            tuple(c for c in defs if c.counted and c.metric == "reactions"),
            tuple(c for c in defs if c.counted and c.metric == "voice_minutes"),
            settings.challenge_min_length, time.monotonic())
        self._days[guild_id] = day
        return day

    async def _counting(self, guild_id: int) -> bool:
        """False while challenges are switched off in the guild (/settings modules): nothing counts.

        Read through the settings cache on every event (a dict lookup while fresh), so the
        switch counts at once, not when the cached day is next refreshed.
        """
        return is_on(await self._settings.get(guild_id), "challenges")

    def _add(self, guild_id: int, day: _GuildDay, challenges: Iterable[ChallengeDef],
             user_id: int, channel_id: int | None, amount: int = 1) -> None:
        bucket = None
        for challenge in challenges:
            if challenge.channels and channel_id not in challenge.channels:
                continue
            if bucket is None:
                bucket = self._pending[(guild_id, day.window.key)]
            bucket[(challenge.id, user_id)] += amount
            self.events_counted += 1

    async def record_message(self, guild_id: int, user_id: int, channel_id: int, content: str,
                             *, author_is_bot: bool, at: datetime) -> None:
        """Count a message toward today's message challenges (bots and repeats never count).

        Raises: nothing expected.
        """
        if author_is_bot or not await self._counting(guild_id):
            return
        day = self._days.get(guild_id)
        if day is None or not day.current(at):  # the common case: no database read
            day = await self._guild_day(guild_id, at)
        if not day.messages:
            return
        text = " ".join(content.split()).casefold()
        if len(text) < day.min_length:
            return
        # Python's hash is enough here: digests are only compared within this process.
        digest = hash(text)
        if self._digests.get((guild_id, user_id)) == digest:
            return  # the same message again does not count (spam / macro guard)
        self._digests[(guild_id, user_id)] = digest
        self._add(guild_id, day, day.messages, user_id, channel_id)

    async def record_reaction(self, guild_id: int, user_id: int, channel_id: int, *,
                              author_is_bot: bool, own_message: bool, at: datetime) -> None:
        """Count a reaction given (not by a bot, not on one's own message).

        Raises: nothing expected.
        """
        if author_is_bot or own_message or not await self._counting(guild_id):
            return
        day = await self._guild_day(guild_id, at)
        self._add(guild_id, day, day.reactions, user_id, channel_id)

    async def voice_update(self, guild_id: int, user_id: int, channel_id: int | None, *,
                           counts: bool, at: datetime) -> None:
        """A member's voice state changed: credit the minutes so far, then start (or stop)
        counting. `channel_id` None means they left voice; `counts` is False for bots, deafened
        members and the AFK channel.

        Raises: nothing expected.
        """
        session = self._voice.pop((guild_id, user_id), None)
        if session is not None:
            await self._credit_voice(guild_id, user_id, session, at)
        if channel_id is not None and counts:
            self._voice[(guild_id, user_id)] = _VoiceSession(channel_id, at)

    async def _credit_voice(self, guild_id: int, user_id: int, session: _VoiceSession,
                            at: datetime) -> None:
        minutes = int((at - session.since).total_seconds() // 60)
        if minutes <= 0:
            return
        session.since += timedelta(minutes=minutes)  # the partial minute keeps counting
        if not await self._counting(guild_id):
            return  # minutes spent while challenges are off are dropped, not saved for later
        day = await self._guild_day(guild_id, at)
        self._add(guild_id, day, day.voice, user_id, session.channel_id, amount=minutes)

    def in_voice(self) -> int:
        """Members whose voice minutes are being counted."""
        return len(self._voice)

    def pending_for(self, guild_id: int, day: str, user_id: int) -> dict[str, int]:
        """A member's counted progress not yet written, by challenge id."""
        bucket = self._pending.get((guild_id, day))
        if not bucket:
            return {}
        return {cid: n for (cid, uid), n in bucket.items() if uid == user_id}

    def pending_count(self) -> int:
        """Counted events not yet written."""
        return sum(sum(bucket.values()) for bucket in self._pending.values())

    async def flush(self) -> list[Completion]:
        """Write pending progress and complete whoever reached a target; returns completions.

        A guild day whose write fails stays pending and is retried by the next flush.

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        now = self._clock.now()
        for (guild_id, user_id), session in list(self._voice.items()):
            try:
                await self._credit_voice(guild_id, user_id, session, now)
            except Exception:
                log.exception("crediting voice minutes failed for guild %s", guild_id)
        async with self._flush_lock:
            live = {(g, d.window.key) for g, d in self._days.items()}
            for key in [k for k in self._written if k not in live]:
                del self._written[key]  # days that ended
            batches, self._pending = self._pending, defaultdict(lambda: defaultdict(int))
            completions: list[Completion] = []
            for (guild_id, day), increments in batches.items():
                written = self._written.setdefault((guild_id, day), set())
                try:
                    await self._repo.add_progress(guild_id, day, dict(increments), known=written)
                except Exception:
                    log.exception("challenge progress flush failed for guild %s; will retry", guild_id)
                    bucket = self._pending[(guild_id, day)]
                    for key, n in increments.items():
                        bucket[key] += n
                    continue
                written.update(increments)
                touched = {cid for cid, _ in increments}
                completions += await self._complete(guild_id, day, touched)
            return completions

    async def _complete(self, guild_id: int, day: str, challenge_ids: Iterable[str]) -> list[Completion]:
        defs = await self._service.day_defs(guild_id, day)
        done: list[Completion] = []
        for cid in sorted(challenge_ids):
            challenge = defs.get(cid)
            if challenge is None:
                continue
            try:
                done += await self._service.complete_due(guild_id, day, challenge)
            except Exception:
                log.exception("completing challenge %s in guild %s failed; the sweep retries",
                              cid, guild_id)
        return done

    async def sweep(self, guild_ids: Iterable[int]) -> list[Completion]:
        """Flush, then for each guild: complete due counted challenges of today and pay
        completions a crash left unpaid. Idempotent; safe in two processes at once.

        Raises: DeletedAccount, FeatureOff, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        completions = await self.flush()
        for guild_id in guild_ids:
            try:
                window, defs = await self._service.todays_set(guild_id)
                completions += await self._complete(
                    guild_id, window.key, [c.id for c in defs if c.counted])
                await self._service.settle_unpaid(guild_id)
            except Exception:
                log.exception("challenge sweep failed for guild %s", guild_id)
        return completions
