"""The ledger invariant, checked over a whole database.

For every account: balance + held == sum of its ledger deltas, and neither is negative.
For every guild: total GEMS held by accounts == sum of mint/burn legs (supply).
For every operation: the account-to-account legs sum to zero.
For every capped thing (open listing, open offer, alert, wallet, NFT rule, open card checkout):
exactly one place of its owner in `cap_slots`, and no place without a holder. Every open event's
`rsvp_count` and every mentor's `load` (caps held by guarded counters) equal what they count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from economy.core.wording import plural
from economy.events.repo import rsvp_count_mismatches
from economy.mentorship.repo import load_mismatches
from economy.repos import slot_repo
from economy.repos.base import Database
from economy.repos.ledger_repo import LedgerRepo


@dataclass
class AuditReport:
    """What the audit checked and every violation it found."""

    accounts: int = 0
    entries_total: int = 0
    guilds: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no invariant is violated."""
        return not self.problems

    def render(self) -> str:
        """A readable report."""
        head = (f"Audited {plural(self.accounts, 'account')} in {plural(self.guilds, 'guild')}; "
                f"ledger total {self.entries_total:,}.")
        if self.ok:
            return head + "\nOK: balances match the ledger and supply matches mints/burns."
        lines = [head, f"FAILED: {plural(len(self.problems), 'problem')}:"]
        lines += [f"  - {p}" for p in self.problems[:100]]
        if len(self.problems) > 100:
            lines.append(f"  ... and {len(self.problems) - 100} more")
        return "\n".join(lines)


async def audit(db: Database) -> AuditReport:
    """Check the ledger invariant across every guild in the database, and that the cap places
    (repos/slot_repo.py) match what holds them."""
    repo = LedgerRepo(db)
    report = AuditReport()
    guilds = await repo.guild_ids()
    for guild in guilds:
        report.guilds += 1
        await _audit_guild(repo, guild, report)
    counted = ("community_events", "mentors")
    for guild in sorted(set(guilds) | set(await slot_repo.guilds_with_places(repo.db,
                                                                            also=counted))):
        report.problems += await slot_repo.mismatches(repo.db, guild)
        # The two caps still held by guarded counters: an event's capacity, a mentor's.
        report.problems += await rsvp_count_mismatches(repo.db, guild)
        report.problems += await load_mismatches(repo.db, guild)
    return report


async def _audit_guild(repo: LedgerRepo, guild: int, report: AuditReport) -> None:
    sums = await repo.ledger_sums(guild)
    supply = 0
    async for accounts in repo.guild_account_pages(guild):
        for acc in accounts:
            supply += _audit_account(acc, sums.pop(acc["user_id"], (0, 0)), guild, report)
    for user, (ledger_sum, _) in sums.items():
        if ledger_sum != 0:
            report.problems.append(f"guild {guild} user {user}: ledger {ledger_sum} but no account")
    minted = await repo.minted(guild)
    report.entries_total += minted
    if minted != supply:
        report.problems.append(f"guild {guild}: supply {supply} != minted-burned {minted}")
    for op in await repo.unbalanced_operations(guild):
        report.problems.append(f"guild {guild} operation {op['_id']}: transfer legs sum to {op['sum']}")


def _audit_account(acc: dict, ledger: tuple[int, int], guild: int, report: AuditReport) -> int:
    """Check one account against its ledger (sum, held sum); returns its balance + held."""
    user = acc["user_id"]
    report.accounts += 1
    balance, held = acc.get("balance", 0), acc.get("held", 0)
    ledger_sum, ledger_held = ledger
    where = f"guild {guild} user {user}"
    if balance < 0 or held < 0:
        report.problems.append(f"{where}: negative balance {balance} / held {held}")
    if balance + held != ledger_sum:
        report.problems.append(f"{where}: balance+held {balance + held} != ledger {ledger_sum}")
    if held != ledger_held:
        report.problems.append(f"{where}: held {held} != ledger held {ledger_held}")
    return balance + held
