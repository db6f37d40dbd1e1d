"""Earning boosts: one-off multiplier windows and the weekly double-GEMS weekend.

Factors are integer basis points (10,000 = x1, 20,000 = x2): no floats touch money. The ledger
asks `applied(guild, at, source)` at the moment of earning and records the factor and the ids of
the boosts that produced it on the entry. Stacking (setting `boost_stacking`): `highest` (the
default) applies the largest active factor; `multiply` multiplies them, capped at x10.

The weekend window is computed from the guild's settings in its time zone (so it is DST-correct
and needs no stored state to earn); the announcement sweep materializes it as a window document
only to carry the run-once "announced" flags, like every one-off window.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as dtime
from decimal import Decimal, InvalidOperation

from economy.boosts.repo import MultiplierRepo
from economy.core import timeparse
from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms, span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.settings import GuildSettings, SettingsService
from economy.core.text import clean_text

ONE_X = 10_000
MIN_FACTOR_BPS = 11_000
MAX_FACTOR_BPS = 100_000
MAX_BOOST_DAYS = 31
MAX_LEAD_DAYS = 365
REASON_MAX = 100
CACHE_SECONDS = 30.0
BOOST_SOURCES = ("activity", "daily", "challenge", "earn", "reward", "event")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Applied:
    """The factor in force for one earning and the boosts that produced it."""

    factor_bps: int = ONE_X
    boost_ids: tuple[str, ...] = ()

    def apply(self, base: int) -> int:
        """`base` times the factor, rounded down (never a fractional GEM)."""
        return base * self.factor_bps // ONE_X


NO_BOOST = Applied()


@dataclass(frozen=True)
class Window:
    """One multiplier window (times in epoch ms, end exclusive)."""

    boost_id: str
    factor_bps: int
    starts_ms: int
    ends_ms: int
    kind: str = "oneoff"
    reason: str = ""
    status: str = "scheduled"

    def active_at(self, at_ms: int) -> bool:
        """True when the window covers `at_ms` and was not cancelled."""
        return self.status == "scheduled" and self.starts_ms <= at_ms < self.ends_ms

    @property
    def starts_at(self) -> datetime:
        """Start as an aware UTC datetime."""
        return from_ms(self.starts_ms)

    @property
    def ends_at(self) -> datetime:
        """End as an aware UTC datetime."""
        return from_ms(self.ends_ms)

    @classmethod
    def from_doc(cls, doc: dict) -> Window:
        """Build from a `multipliers` document."""
        return cls(boost_id=doc["boost_id"], factor_bps=int(doc["factor_bps"]),
                   starts_ms=int(doc["starts_ms"]), ends_ms=int(doc["ends_ms"]),
                   kind=doc.get("kind", "oneoff"), reason=doc.get("reason") or "",
                   status=doc.get("status", "scheduled"))


@dataclass(frozen=True)
class Scheduled:
    """The result of `/boost-admin schedule`: the new window, the ones it overlaps, the stacking rule."""

    window: Window
    overlapping: tuple[Window, ...]
    stacking: str


@dataclass(frozen=True)
class BoostNotice:
    """An announcement the sweep won the right to post (`kind` is `start` or `end`)."""

    guild_id: int
    kind: str
    window: Window


@dataclass(frozen=True)
class BoostStats:
    """GEMS earned during a window vs the same hours one week before, per source (ledger kind)."""

    window: Window
    during: dict[str, int]
    week_before: dict[str, int]
    hours: float


def combine(windows: list[Window], stacking: str) -> Applied:
    """The factor of several active windows under the stacking rule."""
    if not windows:
        return NO_BOOST
    if stacking == "multiply":
        factor = ONE_X
        for window in windows:
            factor = factor * window.factor_bps // ONE_X
        ids = tuple(w.boost_id for w in windows)
        return Applied(min(factor, MAX_FACTOR_BPS), ids)
    best = max(windows, key=lambda w: (w.factor_bps, -w.starts_ms))
    return Applied(best.factor_bps, (best.boost_id,))


#: The /settings modules feature that owns each kind of window: switching it off stops its factor.
WINDOW_FEATURES = {"season": "seasons", "perk": "nft"}


def window_feature(window: Window) -> str:
    """The feature whose switch governs `window` (one-off, weekend and legacy: boosts)."""
    return WINDOW_FEATURES.get(window.kind, "boosts")


def perk_windows(perks: dict[int, int], role_ids: frozenset[int]) -> list[Window]:
    """The holder perks (role id -> factor in bps) of a member with `role_ids`, as windows."""
    return [Window(boost_id=f"perk-{role_id}", factor_bps=factor, starts_ms=0,
                   ends_ms=2**62, kind="perk")
            for role_id, factor in sorted(perks.items()) if role_id in role_ids]


def format_factor(bps: int) -> str:
    """x2, x1.5, x1.25."""
    return "x" + format(Decimal(bps) / ONE_X, "f").rstrip("0").rstrip(".")


def parse_factor(text: str) -> int:
    """`2`, `x1.5`, `1.25x` -> basis points; 1.1 to 10 with at most two decimals."""
    raw = str(text).strip().lower().removeprefix("x").removesuffix("x").strip()
    value = None
    if re.fullmatch(r"-?\d{1,6}(\.\d{1,12})?", raw):
        with contextlib.suppress(InvalidOperation):
            value = Decimal(raw)
    if value is None or value != value.quantize(Decimal("0.01")):
        raise InvalidInput(f"`{str(text)[:20]}` is not a factor: use a number like 2 or 1.5 "
                           "(at most two decimals).")
    bps = int(value * ONE_X)
    if not MIN_FACTOR_BPS <= bps <= MAX_FACTOR_BPS:
        raise InvalidInput("The factor must be between 1.1 and 10 (2 = double GEMS).")
    return bps


def parse_when(text: str, zone, now: datetime) -> datetime:
    """Any moment of the time grammar (economy/core/timeparse.py) in `zone` -> aware UTC.

    No range check: each caller refuses past or far times with its own limits.
    """
    return timeparse.parse_moment(text, now, zone)


def parse_end(text: str, start: datetime, zone, now: datetime) -> datetime:
    """An end time, or a duration after `start` like `48h`, `2d`, `90m`, `1h30m`."""
    if timeparse.is_duration(text):
        return start + timeparse.parse_duration(text)
    return parse_when(text, zone, now)


def weekend_window(settings: GuildSettings, at: datetime) -> Window | None:
    """The double-GEMS weekend covering `at`, or None (also when the setting is off).

    Computed in the guild's zone: start and end are local wall-clock times converted on their
    own dates, so a weekend across a DST change is one hour longer or shorter in UTC.
    """
    if not settings.double_weekend:
        return None
    for window in _weekend_candidates(settings, at):
        if window.active_at(to_ms(at)):
            return window
    return None


def next_weekend_window(settings: GuildSettings, at: datetime) -> Window | None:
    """The weekend window covering `at` or the next one after it."""
    if not settings.double_weekend:
        return None
    at_ms = to_ms(at)
    upcoming = [w for w in _weekend_candidates(settings, at, weeks=(-1, 0, 1)) if w.ends_ms > at_ms]
    return min(upcoming, key=lambda w: w.starts_ms) if upcoming else None


def _weekend_candidates(settings: GuildSettings, at: datetime, weeks=(-1, 0)) -> list[Window]:
    zone = settings.zone
    local = at.astimezone(zone)
    start_day, end_day = settings.double_weekend_start_day, settings.double_weekend_end_day
    this_start = local.date() - timedelta(days=(local.weekday() - start_day) % 7)
    span_days = (end_day - start_day) % 7
    out = []
    for week in weeks:
        start_date = this_start + timedelta(weeks=week)
        end_date = start_date + timedelta(days=span_days)
        start = _local(start_date, settings.double_weekend_start_hour, zone)
        end = _local(end_date, settings.double_weekend_end_hour, zone)
        if end <= start:
            end = _local(end_date + timedelta(days=7), settings.double_weekend_end_hour, zone)
        out.append(Window(boost_id=f"wk-{start_date:%Y%m%d}",
                          factor_bps=settings.double_weekend_factor_bps, starts_ms=to_ms(start),
                          ends_ms=to_ms(end), kind="weekend", reason="Double-GEMS weekend"))
    return out


def _local(day: date, hour: int, zone) -> datetime:
    if hour >= 24:
        day, hour = day + timedelta(days=1), hour - 24
    return datetime.combine(day, dtime(hour), zone).astimezone(UTC)


class BoostService:
    """Answers "which factor applies now" fast, and manages boost windows and announcements."""

    def __init__(self, repo: MultiplierRepo, settings: SettingsService, clock: Clock) -> None:
        self._repo = repo
        self._settings = settings
        self._clock = clock
        # guild -> (monotonic read time, repo version, windows not ended at read time)
        self._cache: dict[int, tuple[float, int, list[Window]]] = {}
        self._weekend_cache: dict[int, tuple[GuildSettings, list[Window]]] = {}

    @property
    def windows(self) -> MultiplierRepo:
        """The boost windows' store. Seasons (and tests) write windows through this one object,
        so its version stamp, which invalidates this service's cache, moves with every write."""
        return self._repo

    # --- the earning path --------------------------------------------------------------------
    async def applied(self, guild_id: int, at: datetime, source: str,
                      role_ids: frozenset[int] = frozenset()) -> Applied:
        """The factor for an earning of `source` (activity, daily, ...) made at `at`.

        `role_ids` are the earning member's roles: a role with a holder perk
        (`holder_perks`, e.g. an NFT-holder role) counts as one more active window, with the
        boost id `perk-<role id>`, under the same stacking rule.

        Raises: nothing expected.
        """
        settings = await self._settings.get(guild_id)
        if source not in settings.boost_applies_to:
            return NO_BOOST
        # One settings snapshot decides every switch below, so an earning racing `/settings modules
        # disable` is multiplied by a set that was in force at one moment, never half of each.
        off = set(settings.disabled_features)
        at_ms = to_ms(at)
        active = [w for w in await self._windows(guild_id)
                  if w.active_at(at_ms) and window_feature(w) not in off]
        if settings.double_weekend and "boosts" not in off:
            active.extend(w for w in self._weekends(guild_id, settings, at, at_ms)
                          if w.active_at(at_ms))
        if role_ids and settings.holder_perks and "nft" not in off:
            active.extend(perk_windows(settings.perk_factors, role_ids))
        return combine(active, settings.boost_stacking)

    def _weekends(self, guild_id: int, settings: GuildSettings, at: datetime,
                  at_ms: int) -> list[Window]:
        # Three weeks of weekend windows, reused while `at` lies inside them and the settings
        # object is the same (a changed setting yields a new object): zone math once a week.
        cached = self._weekend_cache.get(guild_id)
        if (cached and cached[0] is settings and cached[1][0].starts_ms <= at_ms
                < cached[1][-1].starts_ms):
            return cached[1]
        windows = _weekend_candidates(settings, at, weeks=(-1, 0, 1))
        self._weekend_cache[guild_id] = (settings, windows)
        return windows

    async def _windows(self, guild_id: int) -> list[Window]:
        cached = self._cache.get(guild_id)
        now_mono = time.monotonic()
        if cached and cached[1] == self._repo.version and now_mono - cached[0] < CACHE_SECONDS:
            return cached[2]
        version = self._repo.version
        docs = await self._repo.open_windows(guild_id, to_ms(self._clock.now() - timedelta(days=1)))
        # Weekend documents only carry announcement flags; the weekend factor is computed.
        windows = [Window.from_doc(d) for d in docs if d.get("kind") != "weekend"]
        self._cache[guild_id] = (now_mono, version, windows)
        return windows

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached windows of a guild."""
        self._cache.pop(guild_id, None)

    # --- admin operations --------------------------------------------------------------------
    async def schedule(
        self, guild_id: int, actor: Actor, *, factor: str, start: str, end: str,
        reason: str | None = None, zone: tzinfo | None = None,
    ) -> Scheduled:
        """Validate and store a one-off boost window (admins of the guild). Raises NotPermitted
        (not an admin), InvalidInput (nothing stored).

        `start`/`end` are read in `zone` (the member's; default the guild's)."""
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        factor_bps = parse_factor(factor)
        zone = zone or settings.zone
        starts_at = parse_when(start, zone, now)
        ends_at = parse_end(end, starts_at, zone, now)
        if starts_at < now - timedelta(minutes=1):
            raise InvalidInput("The start is in the past. Use `now` or a later time.")
        if starts_at > now + timedelta(days=MAX_LEAD_DAYS):
            raise InvalidInput(f"The start can be at most {MAX_LEAD_DAYS} days ahead.")
        if ends_at <= starts_at:
            raise InvalidInput("The end must be after the start.")
        if ends_at - starts_at > timedelta(days=MAX_BOOST_DAYS):
            raise InvalidInput(f"A boost can last at most {MAX_BOOST_DAYS} days.")
        reason = clean_text(reason, REASON_MAX, "reason") or "Boost"
        starts_at = max(starts_at, now)
        overlapping = [w for w in await self.upcoming(guild_id)
                       if w.starts_ms < to_ms(ends_at) and to_ms(starts_at) < w.ends_ms]
        number = await self._repo.next_number(guild_id)
        window = Window(boost_id=f"b{number}", factor_bps=factor_bps,
                        starts_ms=to_ms(starts_at), ends_ms=to_ms(ends_at), reason=reason)
        await self._repo.insert({
            "guild_id": guild_id, "boost_id": window.boost_id, "kind": "oneoff",
            "factor_bps": factor_bps, "reason": reason, "starts_ms": window.starts_ms,
            "ends_ms": window.ends_ms, "created_by": actor_id, "created_ms": to_ms(now)})
        self.invalidate(guild_id)
        return Scheduled(window, tuple(overlapping), settings.boost_stacking)

    async def cancel(self, guild_id: int, actor: Actor, boost_id: str) -> Window:
        """Cancel a boost that has not ended (admins of the guild). Raises NotPermitted (not an
        admin), NotFound/InvalidInput."""
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        boost_id = _boost_id(boost_id)
        doc = await self._repo.get(guild_id, boost_id)
        if not doc:
            raise NotFound(f"There is no boost `{boost_id}`. `/boost-admin list` shows them.")
        window = Window.from_doc(doc)
        if window.kind == "weekend":
            raise InvalidInput("That is the double-GEMS weekend: turn it off with "
                               "`/settings set double_weekend off`.")
        now_ms = to_ms(self._clock.now())
        if window.status == "cancelled":
            raise InvalidInput(f"Boost `{boost_id}` is already cancelled.")
        if window.ends_ms <= now_ms:
            raise InvalidInput(f"Boost `{boost_id}` has already ended.")
        if not await self._repo.cancel(guild_id, boost_id, now_ms=now_ms, actor_id=actor_id):
            raise InvalidInput(f"Boost `{boost_id}` was cancelled or ended just now.")
        self.invalidate(guild_id)
        return Window.from_doc({**doc, "status": "cancelled"})

    async def upcoming(self, guild_id: int) -> list[Window]:
        """One-off boosts that are active or still to come, plus the current/next weekend.

        Raises: nothing expected.
        """
        now = self._clock.now()
        docs = await self._repo.open_windows(guild_id, to_ms(now))
        windows = [Window.from_doc(d) for d in docs
                   if d.get("kind") != "weekend" and d.get("status") == "scheduled"]
        weekend = next_weekend_window(await self._settings.get(guild_id), now)
        if weekend is not None:
            windows.append(weekend)
        return sorted(windows, key=lambda w: (w.starts_ms, w.boost_id))

    async def get(self, guild_id: int, boost_id: str) -> Window:
        """A boost window by id (weekend ids like `wk-20260109` too). Raises NotFound."""
        boost_id = _boost_id(boost_id)
        doc = await self._repo.get(guild_id, boost_id)
        if doc:
            return Window.from_doc(doc)
        match = re.fullmatch(r"wk-(\d{8})", boost_id)
        if match:
            settings = await self._settings.get(guild_id)
            try:
                day = datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC)
            except ValueError:
                day = None
            window = next_weekend_window(settings, day) if day else None
            if window is not None and window.boost_id == boost_id:
                return window
        raise NotFound(f"There is no boost `{boost_id}`. `/boost-admin list` shows them.")

    async def stats(self, guild_id: int, boost_id: str) -> BoostStats:
        """GEMS earned during the window (so far) vs the same hours one week before.

        Raises: InvalidInput, NotFound.
        """
        window = await self.get(guild_id, boost_id)
        now_ms = to_ms(self._clock.now())
        end_ms = min(window.ends_ms, now_ms)
        if end_ms <= window.starts_ms:
            raise InvalidInput(f"Boost `{window.boost_id}` has not started yet: no figures.")
        week = span_ms(timedelta(weeks=1))
        during = await self._repo.earned_by_kind(guild_id, window.starts_ms, end_ms)
        before = await self._repo.earned_by_kind(guild_id, window.starts_ms - week, end_ms - week)
        return BoostStats(window, during, before, (end_ms - window.starts_ms) / span_ms(timedelta(hours=1)))

    # --- announcements -----------------------------------------------------------------------
    async def sweep(self) -> list[BoostNotice]:
        """Claim due start/end announcements (each posted once, also with two processes).

        A start is announced only while the window still runs (a bot that was down all weekend
        does not announce a stale start); an end only after its start was announced.

        Raises: nothing expected.
        """
        now = self._clock.now()
        now_ms = to_ms(now)
        for guild_id in await self._repo.weekend_guild_ids():
            weekend = weekend_window(await self._settings.get(guild_id), now)
            if weekend is not None:
                await self._repo.insert({
                    "guild_id": guild_id, "boost_id": weekend.boost_id, "kind": "weekend",
                    "factor_bps": weekend.factor_bps, "reason": weekend.reason,
                    "starts_ms": weekend.starts_ms, "ends_ms": weekend.ends_ms,
                    "created_by": 0, "created_ms": now_ms})
        notices: list[BoostNotice] = []
        for guild_id in await self._repo.guild_ids():
            for doc in await self._repo.pending_announcements(guild_id):
                notice = await self._announce_one(guild_id, doc, now_ms)
                if notice is not None:
                    notices.append(notice)
        return notices

    async def _announce_one(self, guild_id: int, doc: dict, now_ms: int) -> BoostNotice | None:
        window = Window.from_doc(doc)
        ended = window.ends_ms <= now_ms or window.status == "cancelled"
        if not doc.get("start_announced"):
            if not ended and window.starts_ms <= now_ms:
                if await self._repo.claim_flag(doc["_id"], "start_announced", {"status": "scheduled"}):
                    return BoostNotice(guild_id, "start", window)
            elif ended:
                # Never announced as started (cancelled early, or the bot was down throughout):
                # retire it silently so nobody reads of a boost that already ended.
                await self._repo.claim_flag(doc["_id"], "end_announced", {"start_announced": False})
            return None
        if ended and await self._repo.claim_flag(doc["_id"], "end_announced",
                                                 {"start_announced": True}):
            return BoostNotice(guild_id, "end", window)
        return None


def _boost_id(text: str) -> str:
    raw = str(text).strip().lower().lstrip("#")
    if raw.isdigit():
        raw = f"b{raw}"
    if not re.fullmatch(r"b\d{1,9}|wk-\d{8}|s-[a-z0-9-]{1,60}", raw):
        raise NotFound(f"`{str(text)[:20]}` is not a boost id (like `b3`). `/boost-admin list` shows them.")
    return raw


__all__ = [
    "BOOST_SOURCES", "NO_BOOST", "WEEKDAYS", "Applied", "BoostNotice", "BoostService",
    "BoostStats", "Scheduled", "Window", "combine", "format_factor", "next_weekend_window",
    "parse_factor", "weekend_window", "window_feature",
]
