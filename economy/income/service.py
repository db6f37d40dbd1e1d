"""Role income: staff set "members holding this role earn N GEMS per day (or week)"; a member
collects (`/gems collect`) or the bot pays (the `income_auto_pay` setting) once per member per
rule per period.

Periods are days or ISO weeks in the guild's time zone. Each payment is a ledger `earn` under the
key `income:<role>:<period kind>:<member>:<period>`: a second collect, a retried job or two
processes paying at once pay once (the ledger's unique key). Boosts apply as to every earning of
source `income` (the `boost_applies_to` setting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import Cooldown, InvalidInput, NotFound
from economy.core.ledger import LedgerService, check_amount
from economy.core.models import is_system
from economy.core.modules import is_on, require_on
from economy.core.settings import SettingsService
from economy.income.repo import IncomeRepo

Period = Literal["daily", "weekly"]
PERIODS: tuple[str, ...] = ("daily", "weekly")
MAX_INCOME = 1_000_000  # per member per period
CHUNK = 256


@dataclass(frozen=True)
class Rule:
    """Members holding `role_id` earn `amount` each `period`."""

    guild_id: int
    role_id: int
    amount: int
    period: Period


@dataclass(frozen=True)
class Collected:
    """What one collect paid: (rule, GEMS credited) for each rule paid now, and when the next
    period starts."""

    paid: tuple[tuple[Rule, int], ...]
    next_at: datetime

    @property
    def total(self) -> int:
        """GEMS credited now."""
        return sum(amount for _, amount in self.paid)


def period_of(period: str, now: datetime, zone: tzinfo) -> tuple[str, datetime]:
    """The current period's name (`2026-01-05` or `2026-W02`) and when the next one starts."""
    local = now.astimezone(zone)
    day = local.date()
    if period == "daily":
        start_next = day + timedelta(days=1)
        name = day.isoformat()
    else:
        year, week, weekday = day.isocalendar()
        start_next = day + timedelta(days=8 - weekday)
        name = f"{year}-W{week:02d}"
    return name, datetime.combine(start_next, datetime.min.time(), zone).astimezone(now.tzinfo)


def _rule(doc: dict) -> Rule:
    return Rule(doc["guild_id"], doc["role_id"], doc["amount"], doc["period"])


class IncomeService:
    """Income rules and their payments."""

    def __init__(self, repo: IncomeRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock) -> None:
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    # --- staff --------------------------------------------------------------------------------
    async def add(self, guild_id: int, actor: Actor, role_id: int, amount: int,
                  period: str) -> Rule:
        """Members holding `role_id` earn `amount` GEMS each `period` (daily/weekly) (admin).

        Raises: FeatureOff, InvalidAmount, InvalidInput, NotPermitted.
        """
        actor.require_admin(guild_id)
        await require_on(self._settings, guild_id, "income")
        amount = check_amount(amount, limit=MAX_INCOME, what="income")
        if period not in PERIODS:
            raise InvalidInput("The period must be `daily` or `weekly`.")
        rule_id = self._repo.rule_id(guild_id, role_id, period)
        fields = {"created_by": actor.user_id, "created_ms": to_ms(self._clock.now())}
        doc = {"_id": rule_id, "guild_id": guild_id, "role_id": role_id, "amount": amount,
               "period": period, "active": True, "version": 1, **fields}
        if not await self._repo.insert(doc):
            existing = await self._repo.rule(rule_id)
            if existing is None or existing.get("active") or not await self._repo.reactivate(
                    rule_id, amount=amount, version=existing.get("version", 1), fields=fields):
                raise InvalidInput(f"<@&{role_id}> already earns {period} income: remove that "
                                   "rule first to change it.")
        return Rule(guild_id, role_id, amount, period)  # type: ignore[arg-type]

    async def remove(self, guild_id: int, actor: Actor, role_id: int, period: str) -> None:
        """Stop a role's income (admin); what was paid stays paid.

        Raises: FeatureOff, NotFound, NotPermitted.
        """
        actor.require_admin(guild_id)
        await require_on(self._settings, guild_id, "income")
        if not await self._repo.deactivate(self._repo.rule_id(guild_id, role_id, period)):
            raise NotFound(f"<@&{role_id}> has no {period} income.")

    async def rules(self, guild_id: int) -> list[Rule]:
        """The active rules.

        Raises: FeatureOff.
        """
        await require_on(self._settings, guild_id, "income")
        return [_rule(d) for d in await self._repo.active(guild_id)]

    # --- payments -----------------------------------------------------------------------------
    async def collect(self, guild_id: int, user_id: int, role_ids: frozenset[int]) -> Collected:
        """Pay the member's income of the current periods for the roles they hold (each once).

        Raises: Cooldown (nothing new to collect), FeatureOff, InvalidInput (no income role),
            OutcomeUnknown.
        """
        settings = await require_on(self._settings, guild_id, "income")
        if is_system(user_id):
            raise InvalidInput("Only a member earns income.")
        now = self._clock.now()
        mine = [_rule(d) for d in await self._repo.active(guild_id) if d["role_id"] in role_ids]
        if not mine:
            raise InvalidInput("None of your roles earns income here.")
        paid = []
        next_at = None
        for rule in mine:
            name, starts = period_of(rule.period, now, settings.zone)
            next_at = starts if next_at is None else min(next_at, starts)
            amount = await self._pay(guild_id, rule, user_id, name)
            if amount:
                paid.append((rule, amount))
        assert next_at is not None
        if not paid:
            raise Cooldown("You collected your income for now already.", retry_at=next_at)
        return Collected(tuple(paid), next_at)

    async def pay_holders(self, guild_id: int, role_id: int, period: str,
                          user_ids: Iterable[int]) -> int:
        """Pay a rule's current period to every holder not paid yet (the automatic payment; the
        adapter lists the role's members). Returns how many were paid now.

        Raises: FeatureOff, NotFound, OutcomeUnknown.
        """
        settings = await require_on(self._settings, guild_id, "income")
        doc = await self._repo.rule(self._repo.rule_id(guild_id, role_id, period))
        if doc is None or not doc.get("active"):
            raise NotFound(f"<@&{role_id}> has no {period} income.")
        rule = _rule(doc)
        name, _ = period_of(rule.period, self._clock.now(), settings.zone)
        members = sorted({u for u in user_ids if not is_system(u)})
        paid = 0
        for start in range(0, len(members), CHUNK):
            chunk = members[start:start + CHUNK]
            amounts = await asyncio.gather(*(self._pay(guild_id, rule, u, name) for u in chunk))
            paid += sum(1 for a in amounts if a)
        return paid

    async def auto_guilds(self) -> list[int]:
        """Guilds whose income the bot pays by itself.

        Raises: nothing expected.
        """
        found = []
        for guild_id in await self._repo.guild_ids():
            settings = await self._settings.get(guild_id)
            if settings.income_auto_pay and is_on(settings, "income"):
                found.append(guild_id)
        return found

    async def _pay(self, guild_id: int, rule: Rule, user_id: int, period_name: str) -> int:
        """Credit one member's income of one period, once; GEMS credited now (0: paid before)."""
        key = f"income:{rule.role_id}:{rule.period}:{user_id}:{period_name}"
        movement = await self._ledger.earn(guild_id, user_id, rule.amount, key=key, kind="earn",
                                           ref=f"income:{rule.role_id}", source="income")
        return 0 if movement.replayed else movement.entries[0].delta
