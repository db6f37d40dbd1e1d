"""Insights: daily rollups (a job at each guild's reset hour, `./gems rollup` to backfill),
retention cohorts, anomaly flags and the /stats reports."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms, span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.modules import require_on
from economy.core.settings import GuildSettings, SettingsService
from economy.core.wording import plural
from economy.insights import metrics
from economy.insights.chart import render_chart
from economy.insights.days import day_at, day_of, monday
from economy.insights.models import Cohort, DailyRollup, Flag, MemberDay, StatsReport
from economy.insights.repo import InsightsRepo
from economy.insights.rollup import Accounts, DayResult, RollupEngine, Sources
from economy.trades.export import csv_safe

log = logging.getLogger(__name__)

#: A day is rolled up this long after it ends (a leg is stamped when its operation starts and
#: committed a moment later: the grace keeps a late commit inside its day's rollup).
GRACE = timedelta(minutes=5)
#: The job fills at most this many days per run (a longer gap: the next runs, or `./gems rollup`).
JOB_DAYS = 31
#: On a guild's first rollup the job starts this many days back (older days: `./gems rollup`).
FIRST_DAYS = 7
#: Anomalies are flagged for days that ended this recently (a backfill does not flood the queue).
FLAG_RECENT = timedelta(hours=48)
DISPUTE_WINDOW = timedelta(days=30)
MAX_DAYS = 90
VIEWS = ("economy", "engagement", "marketplace")


class InsightsService:
    """Computes, stores and reads the rollups; reports for /stats and the dashboard."""

    def __init__(self, repo: InsightsRepo, sources: Sources, settings: SettingsService,
                 clock: Clock) -> None:
        self._repo = repo
        self._src = sources
        self._settings = settings
        self._clock = clock
        self._engine = RollupEngine(repo, sources)
        self._locks: dict[int, asyncio.Lock] = {}

    # --- computing -----------------------------------------------------------------------------
    def last_complete_day(self, settings: GuildSettings) -> date:
        """The newest guild-local day that ended at least GRACE ago."""
        return day_at(settings, self._clock.now() - GRACE) - timedelta(days=1)

    async def rollup(self, guild_id: int, first: date, last: date | None = None) -> list[DailyRollup]:
        """Compute and store the days first..last (default: the last complete day); days that
        have not ended are left out. Idempotent: recomputing a day stores the same document.

        Raises: InvalidInput (first after last), Conflict (concurrent runs kept pruning the
            snapshot; retried by the next run).
        """
        settings = await self._settings.get(guild_id)
        newest = self.last_complete_day(settings)
        last = min(last or newest, newest)
        if first > last:
            raise InvalidInput(f"Nothing to compute: {first} has not ended yet in this server.")
        # One run per guild at a time in this process (two processes: the results are the same).
        async with self._locks.setdefault(guild_id, asyncio.Lock()):
            return await self._engine.run(
                guild_id, settings, first, last,
                on_day=lambda result, accounts: self._check(settings, result, accounts))

    async def run_due(self, guild_ids: Iterable[int]) -> int:
        """The job: roll up each guild's days that ended since its last rollup. Returns days.

        Raises: nothing expected (a failing guild is logged and retried next run).
        """
        done = 0
        for guild_id in guild_ids:
            try:
                done += await self._run_guild(guild_id)
            except Exception as error:  # one guild's failure must not stop the others
                log.warning("insights rollup of guild %s failed: %s: %s", guild_id,
                            type(error).__name__, error)
        return done

    async def _run_guild(self, guild_id: int) -> int:
        settings = await self._settings.get(guild_id)
        if not _on(settings):
            return 0
        last = self.last_complete_day(settings)
        state = await self._repo.state_of(guild_id)
        if state and state.get("last_day"):
            first = date.fromisoformat(state["last_day"]) + timedelta(days=1)
        else:
            first_ms = await self._src.ledger.first_entry_ms(guild_id)
            if first_ms is None:
                return 0
            first = max(day_at(settings, from_ms(first_ms)), last - timedelta(days=FIRST_DAYS - 1))
        if first > last:
            return 0
        last = min(last, first + timedelta(days=JOB_DAYS - 1))
        return len(await self.rollup(guild_id, first, last))

    async def backfill(self, since: date, guild_ids: Iterable[int]) -> dict[int, int]:
        """`./gems rollup --since DATE`: recompute every day from `since` for each guild.

        Raises: nothing expected (guilds with nothing to compute get 0).
        """
        done = {}
        for guild_id in guild_ids:
            settings = await self._settings.get(guild_id)
            first_ms = await self._src.ledger.first_entry_ms(guild_id)
            if first_ms is None:
                done[guild_id] = 0
                continue
            first = max(since, day_at(settings, from_ms(first_ms)))
            if first > self.last_complete_day(settings):
                done[guild_id] = 0
                continue
            done[guild_id] = len(await self.rollup(guild_id, first))
        return done

    async def guilds(self) -> list[int]:
        """Every guild with GEMS accounts (the job's and the backfill's guilds).

        Raises: nothing expected.
        """
        return await self._src.ledger.account_guild_ids()

    # --- anomalies -----------------------------------------------------------------------------
    async def _check(self, settings: GuildSettings, result: DayResult, accounts: Accounts) -> None:
        day = result.rollup
        if not settings.insights_flags or to_ms(self._clock.now()) - day.end_ms > span_ms(FLAG_RECENT):
            return
        guild_id = day.guild_id
        found: list[tuple[str, str, int | None, str]] = []
        median = day.median_earned
        for user, amount in sorted(result.earned_by.items()):
            if median > 0 and amount >= settings.insights_earning_min \
                    and amount > settings.insights_earning_multiple * median:
                found.append((f"earning:{day.day}:{user}", "earning", user,
                              f"<@{user}> earned {amount:,} on {day.day}: "
                              f"{amount // median}x the median earner ({median:,})."))
        before = result.supply_before
        if before > 0 and before >= settings.insights_supply_min \
                and (day.supply - before) * 100 > settings.insights_supply_jump_pct * before:
            found.append((f"supply:{day.day}", "supply", None,
                          f"Supply jumped {100 * (day.supply - before) // before}% on {day.day} "
                          f"({before:,} -> {day.supply:,}; minted {day.minted:,})."))
        young = day.end_ms - span_ms(timedelta(days=settings.insights_new_account_days))
        for user, partners in sorted(result.partners.items()):
            new = sorted(p for p in partners if p in accounts and accounts[p][2] >= young)
            if len(new) >= settings.insights_new_traders:
                found.append((f"new_accounts:{day.day}:{user}", "new_accounts", user,
                              f"<@{user}> traded with {len(new)} new accounts on {day.day}."))
        found.extend(await self._seller_flags(settings, guild_id, day))
        for key, kind, user, text in found:
            await self._repo.add_flag({"guild_id": guild_id, "key": key, "kind": kind,
                                       "day": day.day, "user_id": user, "text": text,
                                       "status": "pending", "at_ms": day.end_ms})

    async def _seller_flags(self, settings: GuildSettings, guild_id: int,
                            day: DailyRollup) -> list[tuple[str, str, int | None, str]]:
        end = from_ms(day.end_ms)
        trades = await self._src.trades.created_between(guild_id, end - DISPUTE_WINDOW, end)
        by_seller: dict[int, list[int]] = {}
        for trade in trades:
            counts = by_seller.setdefault(int(trade["seller_id"]), [0, 0])
            counts[0] += 1
            counts[1] += 1 if trade.get("dispute") else 0
        found = []
        for seller, (total, disputed) in sorted(by_seller.items()):
            if total >= settings.insights_dispute_min_trades \
                    and disputed * 100 > settings.insights_dispute_rate_pct * total:
                # Keyed by the dispute count: a new dispute is a new flag, a rerun is not.
                found.append((f"disputes:{seller}:{disputed}", "disputes", seller,
                              f"Seller <@{seller}>: {disputed} of {total} trades in 30 days "
                              f"disputed ({100 * disputed // total}%)."))
        return found

    async def pending_flags(self, guild_id: int) -> list[Flag]:
        """Anomalies not posted yet (the job hands them to the guild's process).

        Raises: nothing expected.
        """
        return [Flag(flag_id=d["_id"], guild_id=d["guild_id"], kind=d["kind"], day=d["day"],
                     user_id=d.get("user_id"), text=d["text"])
                for d in await self._repo.pending_flags(guild_id)]

    async def claim_flag(self, flag: Flag) -> bool:
        """True for the one caller that may post `flag` (at most once across processes).

        Raises: nothing expected.
        """
        return await self._repo.claim_flag(flag.flag_id, to_ms(self._clock.now()))

    # --- reading (the dashboard's API) ---------------------------------------------------------
    async def daily(self, guild_id: int, days: int) -> list[DailyRollup]:
        """The rollups of the last `days` complete days that are stored, oldest first.

        Raises: InvalidInput (days out of 1..366).
        """
        if not 1 <= days <= 366:
            raise InvalidInput("Pick between 1 and 366 days.")
        settings = await self._settings.get(guild_id)
        last = self.last_complete_day(settings)
        first = last - timedelta(days=days - 1)
        docs = await self._repo.days(guild_id, first.isoformat(), last.isoformat())
        return [_rollup(doc) for doc in docs]

    async def cohorts(self, guild_id: int, weeks: int = 8) -> list[Cohort]:
        """Members by the week of their first GEMS activity, and the share of them active in
        each later week (from the stored rollups), oldest week first.

        Raises: InvalidInput (weeks out of 1..52).
        """
        if not 1 <= weeks <= 52:
            raise InvalidInput("Pick between 1 and 52 weeks.")
        settings = await self._settings.get(guild_id)
        state = await self._repo.state_of(guild_id)
        if state is None:
            return []
        last = date.fromisoformat(state["last_day"])
        start = monday(last) - timedelta(weeks=weeks - 1)
        snapshot = await self._repo.load_snapshot(guild_id, int(state["snapshot_ms"]))
        newcomers = {user for user, (_, _, first_ms) in snapshot.items()
                     if metrics.is_member(user)
                     and monday(day_at(settings, from_ms(first_ms))) >= start}
        # A member's cohort is the week of their first active day (earned, spent or traded);
        # a newcomer who only ever received a grant is in no cohort.
        members: dict[date, set[int]] = {}
        active: dict[date, set[int]] = {}
        cohort_of: dict[int, date] = {}
        days = await self._repo.active_sets(guild_id, start.isoformat(), last.isoformat())
        for day in sorted(days):
            week = monday(date.fromisoformat(day))
            active.setdefault(week, set()).update(days[day])
            for user in days[day]:
                if user in newcomers and user not in cohort_of:
                    cohort_of[user] = week
                    members.setdefault(week, set()).add(user)
        cohorts = []
        for week in sorted(members):
            size = len(members[week])
            later = []
            probe = week
            while probe <= last:
                later.append(round(len(members[week] & active.get(probe, set())) / size, 4))
                probe += timedelta(weeks=1)
            cohorts.append(Cohort(week=week.isoformat(), size=size, retention=tuple(later)))
        return cohorts

    async def member_days(self, guild_id: int, user_id: int, days: int) -> list[MemberDay]:
        """A member's GEMS in and out per guild-local day over the last `days` days (today
        included), read from their ledger entries.

        Raises: InvalidInput (days out of range).
        """
        _days_ok(days)
        settings = await self._settings.get(guild_id)
        today = day_at(settings, self._clock.now())
        first = today - timedelta(days=days - 1)
        windows = [day_of(settings, first + timedelta(days=n)) for n in range(days)]
        rows = {w.key: [0, 0] for w in windows}
        legs = await self._src.ledger.member_entries_between(
            guild_id, user_id, windows[0].start_ms, windows[-1].end_ms)
        for leg in legs:
            key = day_at(settings, from_ms(int(leg["at_ms"]))).isoformat()
            delta = int(leg.get("delta") or 0)
            if key in rows:
                rows[key][0 if delta > 0 else 1] += abs(delta)
        return [MemberDay(day=k, earned=v[0], spent=v[1]) for k, v in rows.items()]

    def chart(self, title: str, days: list[str], series: list[tuple[str, list[float]]]) -> bytes:
        """A PNG line chart (the dashboard's and /stats' charts)."""
        return render_chart(title, days, series)

    # --- /stats ----------------------------------------------------------------------------------
    async def my_stats(self, guild_id: int, user_id: int, days: int) -> StatsReport:
        """/stats me: the member's own earning and spending.

        Raises: InvalidInput (days out of range), FeatureOff, NotFound (no GEMS activity yet).
        """
        settings = await require_on(self._settings, guild_id, "insights")
        rows = await self.member_days(guild_id, user_id, days)
        earned, spent = sum(r.earned for r in rows), sum(r.spent for r in rows)
        if not earned and not spent:
            raise NotFound(f"No GEMS in or out in the last {plural(days, 'day')} yet: earn some first!")
        labels = [r.day for r in rows]
        png = await asyncio.to_thread(render_chart, f"Your {settings.currency_name}, last {plural(days, 'day')}",
                                      labels, [("earned", [r.earned for r in rows]),
                                               ("spent", [r.spent for r in rows])])
        numbers = (("Earned", settings.money(earned)), ("Spent", settings.money(spent)),
                   ("Net", f"{earned - spent:+,}"),
                   ("Best day", max(rows, key=lambda r: r.earned).day))
        body = _csv(["day", "earned", "spent"], [[r.day, r.earned, r.spent] for r in rows])
        return StatsReport(title=f"Your {settings.currency_name}", days=len(rows), numbers=numbers, png=png,
                           csv=body, filename=f"my-stats-{labels[-1]}.csv")

    async def staff_stats(self, guild_id: int, actor: Actor, view: str, days: int) -> StatsReport:
        """/stats-admin economy|engagement|marketplace (moderators and admins).

        Raises: NotPermitted, InvalidInput, FeatureOff, NotFound (no rollup yet).
        """
        actor.require_moderator(guild_id)
        if view not in VIEWS:
            raise InvalidInput(f"Pick one of {', '.join(VIEWS)}.")
        _days_ok(days)
        settings = await require_on(self._settings, guild_id, "insights")
        rollups = await self.daily(guild_id, days)
        if not rollups:
            raise NotFound("No daily rollups yet: the first one is computed after this server's "
                           "first full day (the host can backfill with `./gems rollup --since`).")
        report = await asyncio.to_thread(_REPORTS[view], settings, rollups)
        if view != "engagement":
            return report
        cohorts = await self.cohorts(guild_id, min(12, max(2, days // 7 + 1)))
        return report.model_copy(update={"numbers": (*report.numbers,
                                                     ("Retention by first week", _cohort_text(cohorts)))})


def _on(settings: GuildSettings) -> bool:
    from economy.core.modules import is_on

    return is_on(settings, "insights")


def _cohort_text(cohorts: list[Cohort]) -> str:
    """The newest cohorts: `2026-03-02: 40 → 100% · 55% · 30%` (share active in each week)."""
    if not cohorts:
        return "no members yet"
    lines = [f"{c.week}: {c.size} → " + " · ".join(f"{round(r * 100)}%" for r in c.retention[:6])
             for c in cohorts[-4:]]
    return "\n".join(lines)


def _days_ok(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"Pick between 1 and {MAX_DAYS} days.")


def _rollup(doc: dict[str, Any]) -> DailyRollup:
    body = {k: v for k, v in doc.items() if k != "_id"}
    body["card_revenue"] = {r["currency"]: r["amount"] for r in doc.get("card_revenue") or []}
    return DailyRollup.model_validate(body)


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    """CSV that no spreadsheet runs as a formula (text cells escaped like the trade export)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


def _economy(settings: GuildSettings, rows: list[DailyRollup]) -> StatsReport:
    labels = [r.day for r in rows]
    last = rows[-1]
    png = render_chart(f"Economy, last {plural(len(rows), 'day')}", labels, [
        ("minted", [r.minted for r in rows]), ("burned", [r.burned for r in rows]),
        ("transferred", [r.transferred for r in rows])])
    numbers = (("Supply", settings.money(last.supply)),
               ("Minted", f"{sum(r.minted for r in rows):,}"),
               ("Burned", f"{sum(r.burned for r in rows):,}"),
               ("Transferred", f"{sum(r.transferred for r in rows):,}"),
               ("In escrow", f"{last.escrow_held:,}"), ("Velocity", f"{last.velocity:.3f}"),
               ("Gini", f"{last.gini:.3f}"), ("Members", f"{last.members:,}"))
    body = _csv(["day", "minted", "burned", "transferred", "earned", "supply", "escrow_held",
                 "velocity", "gini", "members", "card_revenue"],
                [[r.day, r.minted, r.burned, r.transferred, r.earned, r.supply, r.escrow_held,
                  r.velocity, r.gini, r.members,
                  " ".join(f"{k}:{v}" for k, v in sorted(r.card_revenue.items()))] for r in rows])
    return StatsReport(title="Economy", days=len(rows), numbers=numbers, png=png, csv=body,
                       filename=f"economy-{labels[-1]}.csv")


def _engagement(settings: GuildSettings, rows: list[DailyRollup]) -> StatsReport:
    labels = [r.day for r in rows]
    png = render_chart(f"Engagement, last {plural(len(rows), 'day')}", labels, [
        ("daily active", [r.active for r in rows]), ("weekly active", [r.weekly_active for r in rows]),
        ("new members", [r.new_members for r in rows])])
    numbers = (("Active (avg/day)", f"{sum(r.active for r in rows) // len(rows):,}"),
               ("Weekly active", f"{rows[-1].weekly_active:,}"),
               ("New members", f"{sum(r.new_members for r in rows):,}"),
               ("Messages that earned", f"{sum(r.messages_earned for r in rows):,}"),
               ("Event check-ins", f"{sum(r.event_attendance for r in rows):,}"),
               ("Challenges done", f"{sum(r.challenge_completions for r in rows):,}"),
               ("Mentorships / milestones", f"{sum(r.mentorship_matches for r in rows):,} / "
                                             f"{sum(r.mentorship_milestones for r in rows):,}"))
    body = _csv(["day", "active", "earned", "spent", "traded", "weekly_active", "new_members",
                 "messages_earned", "event_attendance", "challenge_completions",
                 "mentorship_matches", "mentorship_milestones"],
                [[r.day, r.active, r.active_earned, r.active_spent, r.active_traded,
                  r.weekly_active, r.new_members, r.messages_earned, r.event_attendance,
                  r.challenge_completions, r.mentorship_matches, r.mentorship_milestones]
                 for r in rows])
    return StatsReport(title="Engagement", days=len(rows), numbers=numbers, png=png, csv=body,
                       filename=f"engagement-{labels[-1]}.csv")


def _marketplace(settings: GuildSettings, rows: list[DailyRollup]) -> StatsReport:
    labels = [r.day for r in rows]
    png = render_chart(f"Marketplace, last {plural(len(rows), 'day')}", labels, [
        ("new listings", [r.listings for r in rows]), ("sales", [r.sales for r in rows])])
    released = sum(r.escrow_released for r in rows)
    settled = released + sum(r.escrow_refunded + r.escrow_split for r in rows)
    disputes = sum(r.disputes_opened for r in rows)
    numbers = (("Listings", f"{sum(r.listings for r in rows):,}"),
               ("Sales", f"{sum(r.sales for r in rows):,}"),
               ("Volume", settings.money(sum(r.sales_volume for r in rows))),
               ("Escrow settled", f"{settled:,} ({released:,} released)"),
               ("Disputes", f"{disputes:,}" + (f" ({100 * disputes // settled}%)" if settled else "")))
    body = _csv(["day", "category", "listings", "sales", "volume", "median_price"],
                [[r.day, c.category, c.listings, c.sales, c.volume, c.median_price]
                 for r in rows for c in r.categories])
    return StatsReport(title="Marketplace", days=len(rows), numbers=numbers, png=png, csv=body,
                       filename=f"marketplace-{labels[-1]}.csv")


_REPORTS = {"economy": _economy, "engagement": _engagement, "marketplace": _marketplace}
