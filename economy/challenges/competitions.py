"""Challenge competitions: a timed contest over one challenge type, winners paid once at the end.

Two modes: `most` (most completions during the window) and `first` (the first members to reach
`target` completions). Standings are computed from the completions themselves (epoch-ms times in
an indexed range), so they need no counters of their own and any process computes the same
winners. Settling pays each winner under `competition:{id}:{user}` (kind "reward") and then flips
the competition to settled with a guarded update: two processes settling at once pay once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from economy.challenges.competition_repo import CompetitionRepo
from economy.challenges.service import may_manage
from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.ledger import LedgerService, check_amount
from economy.core.members import MemberService
from economy.core.modules import is_on
from economy.core.settings import SettingsService

Mode = Literal["most", "first"]
KINDS = ("any", "activity", "knowledge", "creativity", "community")
MAX_HOURS = 24 * 30
MAX_PRIZE = 1_000_000


@dataclass(frozen=True)
class Standing:
    """One member's place in a competition."""

    place: int
    user_id: int
    completions: int
    reached_ms: int  # when they reached their count (ties break on the earlier)


@dataclass(frozen=True)
class Settled:
    """A competition that just ended, with what its winners got."""

    competition: dict
    winners: tuple[tuple[Standing, int], ...]


class CompetitionService:
    """Create, rank and settle competitions."""

    def __init__(self, repo: CompetitionRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, members: MemberService) -> None:
        self._members = members
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def create(self, guild_id: int, actor: Actor, *, kind: str, mode: str, hours: int,
                     prize: int, places: int = 1, target: int | None = None) -> dict:
        """Start a competition now, ending in `hours` (admins and challenge managers).

        Raises: InvalidAmount, InvalidInput, NotPermitted.
        """
        may_manage(actor, await self._settings.get(guild_id), guild_id)
        if kind not in KINDS:
            raise InvalidInput(f"Pick a challenge type: {', '.join(KINDS)}.")
        if mode not in ("most", "first"):
            raise InvalidInput("The mode is `most` (most completions) or `first` (first to finish).")
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
            raise InvalidInput(f"A competition lasts 1 to {MAX_HOURS} hours.")
        prize = check_amount(prize, limit=MAX_PRIZE, what="prize")
        if isinstance(places, bool) or not isinstance(places, int) or not 1 <= places <= 3:
            raise InvalidInput("There can be 1 to 3 winners.")
        if mode == "first":
            if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= 100:
                raise InvalidInput("A first-to-finish competition needs a target of 1 to 100 "
                                   "completions.")
        else:
            target = None
        now = self._clock.now()
        number = await self._repo.next_number(guild_id)
        doc = {"guild_id": guild_id, "competition_id": number, "kind": kind, "mode": mode,
               "target": target, "places": places, "prize": prize, "starts_ms": to_ms(now),
               "ends_ms": to_ms(now + timedelta(hours=hours)), "status": "running",
               "created": {"by": actor.user_id, "at_ms": to_ms(now)}}
        await self._repo.insert(doc)
        return doc

    async def get(self, guild_id: int, competition_id: int) -> dict:
        """One competition; NotFound otherwise.

        Raises: NotFound.
        """
        doc = await self._repo.get(guild_id, competition_id)
        if doc is None:
            raise NotFound(f"There is no competition #{competition_id}.")
        return doc

    async def recent(self, guild_id: int, limit: int = 5) -> list[dict]:
        """The latest competitions.

        Raises: nothing expected.
        """
        return await self._repo.recent(guild_id, limit)

    async def standings(self, doc: dict, limit: int = 10) -> list[Standing]:
        """The current (or final) ranking of a competition.

        Raises: nothing expected.
        """
        end = min(doc["ends_ms"], to_ms(self._clock.now()) + 1)
        kind = None if doc["kind"] == "any" else doc["kind"]
        rows = await self._repo.completions_between(doc["guild_id"], kind, doc["starts_ms"], end)
        counts: dict[int, int] = defaultdict(int)
        reached: dict[int, int] = {}
        for row in rows:  # oldest first
            uid = row["user_id"]
            counts[uid] += 1
            if doc["mode"] == "first":
                if counts[uid] == doc["target"]:
                    reached[uid] = row["at_ms"]
            else:
                reached[uid] = row["at_ms"]
        if doc["mode"] == "first":
            order = sorted(reached, key=lambda u: (reached[u], u))
        else:
            order = sorted(counts, key=lambda u: (-counts[u], reached[u], u))
        return [Standing(i + 1, uid, counts[uid], reached[uid]) for i, uid in enumerate(order[:limit])]

    async def settle_due(self, guild_id: int) -> list[Settled]:
        """Pay and close every competition of the guild that has ended (idempotent).

        While challenges are switched off (/settings modules) nothing is settled: ended competitions
        are paid, from the standings they had at their end, when it is back on.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        if not is_on(await self._settings.get(guild_id), "challenges"):
            return []
        now_ms = to_ms(self._clock.now())
        settled = []
        for doc in await self._repo.running(guild_id):
            if doc["ends_ms"] > now_ms:
                continue
            standings = (await self.standings(doc, limit=doc["places"]))[: doc["places"]]
            paid = []
            for standing in standings:
                # A place held by a deleted member, a bot or someone who left stays unpaid
                # (places don't shift: a repeated settle never pays a different set).
                if not self._members.may_receive(guild_id, standing.user_id):
                    continue
                movement = await self._ledger.earn(
                    guild_id, standing.user_id, doc["prize"], kind="reward",
                    key=f"competition:{doc['competition_id']}:{standing.user_id}",
                    ref=f"competition:{doc['competition_id']}")
                paid.append((standing, movement.entries[0].delta))
            winners = [{"user_id": s.user_id, "place": s.place, "completions": s.completions,
                        "amount": amount} for s, amount in paid]
            if await self._repo.settle(doc["_id"], winners, now_ms):
                settled.append(Settled(doc, tuple(paid)))
        return settled


def ends_at(doc: dict):
    """The end of a competition as a datetime."""
    return from_ms(doc["ends_ms"])
