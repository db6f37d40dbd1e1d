"""Seasonal celebrations: yearly date ranges with an emoji, a colour and an optional boost.

Shipped seasons live in `data/seasons/*.json`; a guild enables them (or adds its own) with
`/season-admin add`. While a season with a boost runs, the sweep materializes its boost as a multiplier
window (`s-<key>-<year>`), so earning, stacking, the ledger's boost ids and the run-once
announcements are the boosts' own. When an occurrence ends, the sweep records its top three
earners once (`season_results`, one document per occurrence), pays the season prizes under keys
per occurrence and place, and announces the winners once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from economy.boosts.repo import MultiplierRepo
from economy.boosts.service import format_factor, parse_factor
from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.ledger import LedgerService
from economy.core.members import MemberService
from economy.core.models import is_system
from economy.core.modules import is_on
from economy.core.settings import SettingsService
from economy.core.signals import NO_SIGNALS, Signals
from economy.core.text import clean_text
from economy.core.timeparse import parse_month_day
from economy.seasons.repo import SeasonRepo

SEASON_DIR = Path(__file__).resolve().parents[2] / "data" / "seasons"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Season:
    """A yearly celebration (dates are month-day, end inclusive, in the guild's time zone)."""

    key: str
    name: str
    start_md: str
    end_md: str
    emoji: str = "🎉"
    colour: str = "#40C4FF"
    boost_bps: int | None = None
    shipped: bool = False

    def occurrence(self, year: int, zone) -> tuple[str, datetime, datetime]:
        """(id, start, end) of the occurrence starting in `year` (end exclusive, aware UTC)."""
        sm, sd = _md(self.start_md)
        em, ed = _md(self.end_md)
        start = date(year, sm, sd)
        end = date(year if (em, ed) >= (sm, sd) else year + 1, em, ed) + timedelta(days=1)
        return (f"{self.key}-{year}",
                datetime.combine(start, datetime.min.time(), zone).astimezone(UTC),
                datetime.combine(end, datetime.min.time(), zone).astimezone(UTC))

    def current(self, at: datetime, zone) -> tuple[str, datetime, datetime] | None:
        """The occurrence running at `at`, if any."""
        for year in (at.year - 1, at.year):
            occ = self.occurrence(year, zone)
            if occ[1] <= at < occ[2]:
                return occ
        return None

    def last_ended(self, at: datetime, zone) -> tuple[str, datetime, datetime]:
        """The latest occurrence that ended at or before `at`."""
        for year in (at.year, at.year - 1, at.year - 2):
            occ = self.occurrence(year, zone)
            if occ[2] <= at:
                return occ
        raise AssertionError("unreachable: an occurrence two years back has ended")

    @classmethod
    def from_doc(cls, doc: dict) -> Season:
        """Build from a stored or shipped document."""
        return cls(key=doc["key"], name=doc["name"], start_md=doc["start_md"],
                   end_md=doc["end_md"], emoji=doc.get("emoji") or "🎉",
                   colour=doc.get("colour") or "#40C4FF", boost_bps=doc.get("boost_bps"),
                   shipped=bool(doc.get("shipped")))


@dataclass(frozen=True)
class SeasonNotice:
    """Winners of a finished occurrence, for the announcement."""

    guild_id: int
    season: Season
    occurrence: str
    winners: list[tuple[int, int, int]]  # (user_id, earned, prize)


def _md(text: str) -> tuple[int, int]:
    """A yearly day (`12-24`, `Dec 24`, a full date with its year ignored); never 02-29."""
    return parse_month_day(text)


def _normalize_md(text: str) -> str:
    month, day = _md(text)
    return f"{month:02d}-{day:02d}"


@cache
def catalog() -> dict[str, Season]:
    """The shipped seasons by key (`data/seasons/*.json`)."""
    found = {}
    for path in sorted(SEASON_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        boost = raw.get("boost")
        found[raw["key"]] = Season(
            key=raw["key"], name=raw["name"], start_md=_normalize_md(raw["start"]),
            end_md=_normalize_md(raw["end"]), emoji=raw.get("emoji") or "🎉",
            colour=raw.get("colour") or "#40C4FF",
            boost_bps=parse_factor(boost) if boost else None, shipped=True)
    return found


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


class SeasonService:
    """Enable, add and remove seasons; seasonal leaderboards; the end-of-season payout."""

    def __init__(self, repo: SeasonRepo, windows: MultiplierRepo, ledger: LedgerService,
                 settings: SettingsService, clock: Clock, members: MemberService, *,
                 signals: Signals = NO_SIGNALS) -> None:
        self._members = members
        self._signals = signals
        self._repo = repo
        self._windows = windows
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def seasons(self, guild_id: int) -> list[Season]:
        """The guild's enabled seasons.

        Raises: nothing expected.
        """
        return [Season.from_doc(d) for d in await self._repo.list(guild_id)]

    async def add(self, guild_id: int, actor: Actor, name: str, *, start: str | None = None,
                  end: str | None = None, emoji: str | None = None, colour: str | None = None,
                  boost: str | None = None) -> Season:
        """Enable a shipped season (by key or name, no dates) or add a custom one (admins).

        Raises: NotPermitted (not an admin of the guild), InvalidInput.
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        shipped = {**catalog(), **{s.name.lower(): s for s in catalog().values()}}
        name = clean_text(name, 50, "season name") or ""
        if start is None and end is None and name.lower() in shipped:
            season = shipped[name.lower()]
        else:
            if len(name) < 3:
                raise InvalidInput("The season name needs at least 3 characters.")
            if start is None or end is None:
                raise InvalidInput("A new season needs `start` and `end` (MM-DD, like 12-24). "
                                   f"Shipped seasons: {', '.join(catalog())}.")
            if emoji is not None and not 1 <= len(emoji.strip()) <= 32:
                raise InvalidInput("The emoji can be at most 32 characters.")
            if colour is not None and not _COLOUR.match(colour.strip()):
                raise InvalidInput("The colour must look like #FFAA00.")
            key = _slug(name)
            if not key:
                raise InvalidInput("The season name needs letters or digits.")
            season = Season(key=key, name=name, start_md=_normalize_md(start),
                            end_md=_normalize_md(end), emoji=(emoji or "🎉").strip(),
                            colour=(colour or "#40C4FF").strip(),
                            boost_bps=parse_factor(boost) if boost else None)
        doc = {"guild_id": guild_id, "key": season.key, "name": season.name,
               "start_md": season.start_md, "end_md": season.end_md, "emoji": season.emoji,
               "colour": season.colour, "boost_bps": season.boost_bps, "shipped": season.shipped,
               "added_by": actor_id, "added_ms": to_ms(self._clock.now())}
        if not await self._repo.insert(doc):
            raise InvalidInput(f"The season `{season.key}` is already enabled.")
        return season

    async def remove(self, guild_id: int, actor: Actor, key: str) -> None:
        """Disable a season (past winners stay recorded; admins). Raises NotPermitted (not an
        admin of the guild), NotFound."""
        actor.require_admin(guild_id)
        if not await self._repo.delete(guild_id, _slug(key)):
            raise NotFound(f"No enabled season `{str(key)[:40]}`. `/season list` shows them.")

    async def leaderboard(self, guild_id: int, key: str | None = None,
                          limit: int = 10) -> tuple[Season, str, list[tuple[int, int]], bool]:
        """(season, occurrence, rows, running) for the running season (or `key`'s latest).

        Raises: NotFound.
        """
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        seasons = await self.seasons(guild_id)
        if key is not None:
            seasons = [s for s in seasons if s.key == _slug(key)]
            if not seasons:
                raise NotFound(f"No enabled season `{str(key)[:40]}`. `/season list` shows them.")
        for season in seasons:
            occ = season.current(now, settings.zone)
            if occ is not None:
                rows = await self._repo.top_earners(guild_id, to_ms(occ[1]), to_ms(now) + 1, limit)
                return season, occ[0], rows, True
        if key is None:
            raise NotFound("No season is running right now. `/season list` shows the calendar.")
        season = seasons[0]
        occ = season.last_ended(now, settings.zone)
        rows = await self._repo.top_earners(guild_id, to_ms(occ[1]), to_ms(occ[2]), limit)
        return season, occ[0], rows, False

    async def winners(self, guild_id: int) -> list[dict]:
        """Recorded results, latest first.

        Raises: nothing expected.
        """
        return await self._repo.results_of(guild_id)

    async def sweep(self) -> list[SeasonNotice]:
        """Season boosts begin; finished occurrences get their winners recorded, paid and
        announced (each once, also with two processes and across restarts).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        now = self._clock.now()
        notices: list[SeasonNotice] = []
        for guild_id in await self._repo.guild_ids():
            settings = await self._settings.get(guild_id)
            # Switched off (/settings modules): no season boost starts and no occurrence is decided
            # (that waits until it is back on), but prizes already decided are owed and paid;
            # their announcement waits.
            on = is_on(settings, "seasons")
            for doc in await self._repo.list(guild_id) if on else ():
                season = Season.from_doc(doc)
                await self._ensure_boost(guild_id, season, now, settings.zone)
                occ_id, start, end = season.last_ended(now, settings.zone)
                if to_ms(end) > int(doc.get("added_ms", 0)) and not await self._repo.result(
                        guild_id, occ_id):
                    await self._record(guild_id, season, occ_id, start, end, settings)
            for result in await self._repo.unfinished_results(guild_id):
                notice = await self._finish(guild_id, result, announce=on)
                if notice is not None:
                    notices.append(notice)
        return notices

    async def _ensure_boost(self, guild_id: int, season: Season, now: datetime, zone) -> None:
        occ = season.current(now, zone)
        if occ is None or not season.boost_bps:
            return
        await self._windows.insert({
            "guild_id": guild_id, "boost_id": f"s-{occ[0]}", "kind": "season",
            "factor_bps": season.boost_bps, "reason": f"{season.emoji} {season.name}",
            "starts_ms": to_ms(occ[1]), "ends_ms": to_ms(occ[2]), "created_by": 0,
            "created_ms": to_ms(now)})

    async def _record(self, guild_id: int, season: Season, occ_id: str, start: datetime,
                      end: datetime, settings) -> None:
        # The treasury and deleted members' accounts are nobody: they never hold a place.
        top = [row for row in await self._repo.top_earners(guild_id, to_ms(start), to_ms(end),
                                                            100) if not is_system(row[0])][:3]
        prizes = (settings.season_prize_1st, settings.season_prize_2nd, settings.season_prize_3rd)
        recorded = await self._repo.insert_result({
            "guild_id": guild_id, "occurrence": occ_id, "key": season.key, "name": season.name,
            "emoji": season.emoji, "starts_ms": to_ms(start), "ends_ms": to_ms(end),
            "winners": [{"user_id": u, "earned": e, "prize": prizes[i]}
                        for i, (u, e) in enumerate(top)],
            "paid": False, "announced": False})
        if recorded and top:
            await self._signals.send("season_finished", guild_id, *(u for u, _ in top))

    async def _finish(self, guild_id: int, result: dict, *,
                      announce: bool = True) -> SeasonNotice | None:
        occ_id = result["occurrence"]
        unpaid = set()
        for rank, row in enumerate(result.get("winners", []), start=1):
            # Recorded before the winner deleted their data (or left): that prize is not paid.
            if not self._members.may_receive(guild_id, int(row["user_id"])):
                unpaid.add(rank)
            elif row["prize"] > 0 and not result.get("paid"):  # paid: only the announcement waits
                await self._ledger.earn(guild_id, int(row["user_id"]), int(row["prize"]),
                                        key=f"season:{occ_id}:place:{rank}", kind="reward",
                                        source="season", ref=f"season:{occ_id}")
        await self._repo.claim(result["_id"], "paid")
        if not announce or not await self._repo.claim(result["_id"], "announced"):
            return None
        season = Season(key=result["key"], name=result["name"], start_md="01-01", end_md="01-01",
                        emoji=result.get("emoji") or "🎉")
        return SeasonNotice(guild_id, season, occ_id,
                            [(int(r["user_id"]), int(r["earned"]),
                              0 if rank in unpaid else int(r["prize"]))
                             for rank, r in enumerate(result.get("winners", []), start=1)])


def describe(season: Season, zone, now: datetime) -> str:
    """One line for /season list."""
    boost = f" · boost {format_factor(season.boost_bps)}" if season.boost_bps else ""
    running = " · **running now**" if season.current(now, zone) else ""
    return f"{season.emoji} `{season.key}` {season.name}: {season.start_md} to {season.end_md}{boost}{running}"


__all__ = ["Season", "SeasonNotice", "SeasonService", "catalog", "describe"]
