"""The rollup engine: computes guild-local days from the ledger and the features' records.

A run covers consecutive days. It starts from every account's GEMS at the first day's start,
taken from the stored snapshot (the end of the newest rolled-up day) moved to that instant by one
grouped read of the legs in between, instead of re-reading the whole ledger; then it reads each
day's legs once (index range on `guild_id, at_ms`) as columns (one grouped read: one document
instead of one per leg), updates the running accounts and derives the day's numbers.
Everything is a function of the ledger and the features' records up to the day's end, so
recomputing a day writes the same document (runs only cover days that are complete).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from economy.core.clock import from_ms
from economy.core.errors import Conflict
from economy.core.modules import is_on
from economy.core.settings import GuildSettings
from economy.insights import metrics
from economy.insights.days import Day, day_of
from economy.insights.models import CategoryStats, DailyRollup
from economy.insights.repo import InsightsRepo
from economy.repos.ledger_repo import LedgerRepo

#: (GEMS, held, first activity ms) per account, kept as a mutable list while a run moves on.
Accounts = dict[int, list[int]]
#: Legs of a day as columns (LedgerRepo.leg_columns_between).
Columns = dict[str, Any]


@dataclass
class Sources:
    """The features' repositories the rollups read (through their own read methods)."""

    ledger: LedgerRepo
    listings: Any  # economy.marketplace.repo.ListingRepo
    trades: Any  # economy.trades.repo.TradeRepo
    events: Any  # economy.events.repo.EventRepo
    challenges: Any  # economy.challenges.repo.ChallengeRepo
    mentorship: Any  # economy.mentorship.repo.MentorshipRepo
    payments: Any  # economy.payments.repo.PaymentRepo


@dataclass
class DayResult:
    """A computed day: the rollup, its active members and what the anomaly checks need."""

    rollup: DailyRollup
    active: set[int]
    earned_by: dict[int, int]
    supply_before: int
    partners: dict[int, set[int]] = field(default_factory=dict)  # member -> traded with


class RollupEngine:
    """Computes and stores the rollups of consecutive days of one guild."""

    def __init__(self, repo: InsightsRepo, sources: Sources) -> None:
        self._repo = repo
        self._src = sources

    async def run(self, guild_id: int, settings: GuildSettings, first: date, last: date, *,
                  on_day: Callable[[DayResult, Accounts], Any] | None = None) -> list[DailyRollup]:
        """Compute, store and return the days first..last (inclusive, all complete).

        `on_day(result, accounts)` runs after each day is stored (the anomaly checks).

        Raises: Conflict (the snapshot kept changing under concurrent runs; the days stored so
            far stay valid, the next run continues).
        """
        days = [day_of(settings, first + timedelta(days=n)) for n in range((last - first).days + 1)]
        if not days:
            return []
        book = _Book(await self._accounts_at(guild_id, days[0].start_ms))
        window = deque(await self._previous_active(guild_id, settings, first), maxlen=6)
        rollups = []  # (a day's sets and partners are let go once `on_day` has seen them)
        # The next day's legs are read while this day is computed and stored (the store and
        # this process work at the same time).
        pending = asyncio.ensure_future(self._legs(guild_id, days[0]))
        try:
            for index, day in enumerate(days):
                columns = await pending
                if index + 1 < len(days):
                    pending = asyncio.ensure_future(self._legs(guild_id, days[index + 1]))
                result = await self._day(guild_id, settings, day, columns, book, window)
                doc = result.rollup.model_dump(mode="python")
                doc["categories"] = [dict(c) for c in doc["categories"]]
                doc["card_revenue"] = [{"currency": k, "amount": v}
                                       for k, v in sorted(doc["card_revenue"].items())]
                await self._repo.save_day(doc, sorted(result.active))
                window.append(result.active)
                rollups.append(result.rollup)
                if on_day is not None:
                    await on_day(result, book.accounts)
        finally:
            pending.cancel()  # a failed day leaves no read running
        state = await self._repo.state_of(guild_id)
        if state is None or int(state.get("snapshot_ms") or 0) < days[-1].end_ms:
            await self._repo.save_snapshot(guild_id, days[-1].end_ms, days[-1].key,
                                           {u: tuple(v) for u, v in book.accounts.items()})
        return rollups

    async def _accounts_at(self, guild_id: int, at_ms: int) -> Accounts:
        """Every account that existed at `at_ms`: (GEMS, held, first activity)."""
        for attempt in range(3):  # a concurrent run may prune the snapshot being read
            state = await self._repo.state_of(guild_id)
            snap_ms = int(state["snapshot_ms"]) if state else 0
            try:
                stored = await self._repo.load_snapshot(guild_id, snap_ms) if state else {}
                break
            except Conflict:
                if attempt == 2:
                    raise
        accounts: Accounts = {u: list(v) for u, v in stored.items()}
        if at_ms >= snap_ms:
            for user, (total, held, first_ms) in (
                    await self._src.ledger.sums_between(guild_id, snap_ms, at_ms)).items():
                acc = accounts.setdefault(user, [0, 0, first_ms])
                acc[0] += total
                acc[1] += held
                acc[2] = min(acc[2], first_ms)
            return accounts
        for user, (total, held, _) in (
                await self._src.ledger.sums_between(guild_id, at_ms, snap_ms)).items():
            acc = accounts.get(user)
            if acc is not None:
                acc[0] -= total
                acc[1] -= held
        return {u: v for u, v in accounts.items() if v[2] < at_ms}

    async def _previous_active(self, guild_id: int, settings: GuildSettings,
                               first: date) -> list[set[int]]:
        """The active sets of the 6 days before `first` (stored, else computed from the ledger:
        the same sets either way)."""
        before = [first - timedelta(days=n) for n in range(6, 0, -1)]
        stored = await self._repo.active_sets(guild_id, before[0].isoformat(),
                                              before[-1].isoformat())
        sets = []
        for day in before:
            if day.isoformat() in stored:
                sets.append(set(stored[day.isoformat()]))
                continue
            window = day_of(settings, day)
            active: set[int] = set()
            for doc in await self._legs(guild_id, window):
                active.update(user for kind, user, delta, held in zip(
                    doc["kind"], doc["user_id"], doc["delta"], doc["held_delta"], strict=True)
                    if metrics.is_member(user) and (metrics.earned(kind, delta)
                                                    or metrics.spent(kind, held)
                                                    or metrics.traded(kind, held)))
            sets.append(active)
        return sets

    async def _legs(self, guild_id: int, day: Day) -> list[Columns]:
        return await self._src.ledger.leg_columns_between(guild_id, day.start_ms, day.end_ms)

    async def _day(self, guild_id: int, settings: GuildSettings, day: Day, columns: list[Columns],
                   book: _Book, window: deque) -> DayResult:
        supply_before = book.supply
        n = _Counts(settings.activity_amount)
        for doc in columns:
            n.add(doc, book)
        active = n.earned_set | n.spent_set | n.traded_set
        weekly = set(active).union(*window)
        lo, hi = day.start_ms, day.end_ms
        market, disputes, attended, completions, matches, milestones, revenue = \
            await asyncio.gather(
                self._market(guild_id, day),
                self._src.trades.disputes_opened_between(guild_id, from_ms(lo), from_ms(hi)),
                self._src.events.attended_between(guild_id, lo, hi),
                self._src.challenges.completions_between(guild_id, lo, hi),
                self._src.mentorship.matches_between(guild_id, lo, hi),
                self._src.mentorship.milestones_between(guild_id, lo, hi),
                self._card_revenue(guild_id, settings, day))
        settled = n.released + n.refunded + n.split
        rollup = DailyRollup(
            guild_id=guild_id, day=day.key, start_ms=day.start_ms, end_ms=day.end_ms,
            minted=n.minted, burned=n.burned, transferred=n.transferred, earned=n.earned,
            escrow_held=book.held, supply=book.supply,
            velocity=metrics.velocity(n.transferred, book.supply),
            gini=metrics.gini(map(_GEMS, book.members.values())),
            members=len(book.members), new_members=n.new_members,
            active=len(active), active_earned=len(n.earned_set), active_spent=len(n.spent_set),
            active_traded=len(n.traded_set), weekly_active=len(weekly),
            median_earned=metrics.median(list(n.earned_by.values())),
            messages_earned=n.messages, escrow_released=n.released,
            escrow_refunded=n.refunded, escrow_split=n.split,
            disputes_opened=len(disputes),
            dispute_rate=round(len(disputes) / settled, 6) if settled else 0.0,
            event_attendance=attended, challenge_completions=completions,
            mentorship_matches=matches, mentorship_milestones=milestones, card_revenue=revenue,
            **market,
        )
        return DayResult(rollup, active, n.earned_by, supply_before, n.partners)

    async def _market(self, guild_id: int, day: Day) -> dict[str, Any]:
        created = await self._src.listings.created_between(guild_id, day.start_ms, day.end_ms)
        sold = await self._src.listings.sold_between(guild_id, day.start_ms, day.end_ms)
        names = sorted({str(d.get("category") or "other") for d in created + sold})
        categories = []
        for name in names:
            prices = [int(d.get("sold_price_gems") or d.get("price_gems") or 0) for d in sold
                      if str(d.get("category") or "other") == name]
            categories.append(CategoryStats(
                category=name, sales=len(prices), volume=sum(prices),
                median_price=metrics.median(prices),
                listings=sum(1 for d in created if str(d.get("category") or "other") == name)))
        return {"listings": len(created), "sales": sum(c.sales for c in categories),
                "sales_volume": sum(c.volume for c in categories),
                "categories": tuple(categories)}

    async def _card_revenue(self, guild_id: int, settings: GuildSettings, day: Day) -> dict[str, int]:
        if not is_on(settings, "payments") or not (settings.payments_usd or settings.payments_packs):
            return {}
        revenue: dict[str, int] = {}
        for doc in await self._src.payments.paid_between(guild_id, day.start_ms, day.end_ms):
            if doc.get("status") == "mismatched":
                continue  # refunded: the amount paid did not match the checkout
            currency = str(doc.get("paid_currency") or doc.get("currency") or "usd").lower()
            # A settled checkout was paid exactly its `amount` (settlement checks it).
            paid = doc.get("paid_amount") if doc.get("paid_amount") is not None else doc.get("amount")
            revenue[currency] = revenue.get(currency, 0) + int(paid or 0)
        return revenue


class _Book:
    """Every account during a run, with the running totals a day's numbers need (kept as the
    legs are added, instead of summing 50,000 accounts again every day)."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.members = {u: acc for u, acc in accounts.items() if metrics.is_member(u)}
        self.supply = sum(acc[0] for acc in accounts.values())  # GEMS (balance + held)
        self.held = sum(acc[1] for acc in accounts.values())


#: An account's GEMS (balance + held): the first of (GEMS, held, first activity ms).
_GEMS = itemgetter(0)


class _Counts:
    """What one day's legs add up to."""

    def __init__(self, per_message: int) -> None:
        self.per_message = per_message
        self.minted = self.burned = self.transferred = self.earned = self.messages = 0
        self.released = self.refunded = self.split = self.new_members = 0
        self.earned_set: set[int] = set()
        self.spent_set: set[int] = set()
        self.traded_set: set[int] = set()
        self.earned_by: dict[int, int] = {}
        self.partners: dict[int, set[int]] = {}

    def add(self, doc: Columns, book: _Book) -> None:
        """Count the legs of a column document and move the accounts by them."""
        accounts, members, partners = book.accounts, book.members, self.partners
        per_message, transfers = self.per_message, metrics.TRANSFER_KINDS
        supply = held = 0
        for kind, user, delta, held_delta, at_ms, mint, bps, partner in zip(
                doc["kind"], doc["user_id"], doc["delta"], doc["held_delta"], doc["at_ms"],
                doc["mint"], doc["multiplier_bps"], doc["counterparty_id"], strict=True):
            member = metrics.is_member(user)
            acc = accounts.get(user)
            if acc is None:
                acc = accounts[user] = [delta, held_delta, at_ms]
                if member:
                    members[user] = acc
                    self.new_members += 1
            else:
                acc[0] += delta
                acc[1] += held_delta
                if at_ms < acc[2]:
                    acc[2] = at_ms
            supply += delta
            held += held_delta
            if mint:
                if delta > 0:
                    self.minted += delta
                else:
                    self.burned -= delta
            if not member:
                continue
            if delta > 0 and not mint and kind in transfers:
                self.transferred += delta
            if held_delta < 0:  # the buyer's leg of an escrow settlement: its outcome
                if kind == "escrow_release":
                    self.released += 1
                elif kind == "escrow_split":
                    self.split += 1
                elif kind == "refund":
                    self.refunded += 1
            if metrics.earned(kind, delta):
                self.earned += delta
                self.earned_set.add(user)
                self.earned_by[user] = self.earned_by.get(user, 0) + delta
                if kind == "activity" and per_message > 0:
                    bps = bps or 10_000
                    self.messages += (delta * 10_000 // bps) // per_message
            if metrics.spent(kind, held_delta):
                self.spent_set.add(user)
            if metrics.traded(kind, held_delta):
                self.traded_set.add(user)
                if partner is not None and metrics.is_member(partner):
                    known = partners.get(user)
                    if known is None:  # (setdefault would build a set for every leg)
                        known = partners[user] = set()
                    known.add(partner)
        book.supply += supply
        book.held += held
