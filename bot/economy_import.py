"""`./gems import-economy`: bring members' balances over from UnbelievaBoat or Red-DiscordBot.

The file is read and checked by economy/currency/importing (pure parsing), then minted through
the ledger by its import service; this module opens the store, prints the report (one line per
member, the total) and, after a real import, the ledger audit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.backup import ToolError
from bot.runtime import opened_store
from bot.settings import Settings
from bot.startup_errors import StartupError
from bot.startup_migrations import ensure_migrated
from economy.core.actor import Actor
from economy.core.audit import AuditReport, audit
from economy.core.clock import SystemClock
from economy.currency.importing.parse import SOURCES, snowflake
from economy.currency.importing.service import ImportReport, checked_file
from economy.services import build_services

USAGE = ("./gems import-economy --from unbelievaboat|red FILE --guild SERVER_ID "
         "[--dry-run] [--merge]")


def read_request(args: argparse.Namespace) -> tuple[str, bytes]:
    """The source and the file's bytes, or ToolError saying what is missing."""
    if args.source not in SOURCES:
        raise ToolError(f"From which bot? --from unbelievaboat or --from red. Usage: {USAGE}")
    if not args.file:
        raise ToolError(f"Which file? Usage: {USAGE}")
    if args.guild is None:
        raise ToolError(f"Into which server? --guild SERVER_ID (right-click the server -> Copy "
                        f"Server ID). Usage: {USAGE}")
    if snowflake(args.guild) is None:
        raise ToolError(f"--guild {args.guild} is not a Discord server id (17 to 20 digits).")
    path = Path(args.file)
    if not path.is_file():
        raise ToolError(f"No such file: {path}")
    return args.source, path.read_bytes()


async def import_economy(settings: Settings, source: str, data: bytes, guild_id: int, *,
                         merge: bool, dry_run: bool) -> tuple[ImportReport, AuditReport | None]:
    """Run the import on the configured store; the audit after a real import (None on a dry run).

    A bad file is refused (ImportRefused) before the store is opened."""
    checked_file(source, data, guild_id)
    clock = SystemClock()
    async with opened_store(settings) as store:
        try:
            await ensure_migrated(store, settings, clock, apply=not dry_run)
        except StartupError as exc:
            raise ToolError(str(exc)) from exc
        services = build_services(store.db, clock, **settings.ledger_options())
        report = await services.economy_import.run(guild_id, Actor.system(), source, data,
                                                   merge=merge, dry_run=dry_run)
        return report, (None if dry_run else await audit(store.db))


def render(report: ImportReport, file_name: str) -> str:
    """The report as printed: one line per member, what was left out, the totals."""
    width = max((len(str(m.row.line)) for m in report.members), default=1)
    lines = [f"{SOURCES[report.source]} file {file_name} (sha256 {report.digest[:12]}) for "
             f"server {report.guild_id}: {len(report.members):,} members, "
             f"{report.total:,} GEMS."]
    for member in report.members:
        row = member.row
        lines.append(f"  line {row.line:>{width}}  user {row.user_id}  {row.amount:>15,}  "
                     f"{member.status}")
    for skipped in report.left_out:
        lines.append(f"  left out: {skipped}")
    if report.dry_run:
        lines.append(f"Dry run: nothing was changed. Importing would mint {report.minted:,} GEMS "
                     f"for {report.new_members:,} members"
                     + (f" ({report.already:,} already imported)." if report.already else "."))
    elif report.new_members == 0 and report.members:
        lines.append(f"Already imported: this file was imported before; nothing changed "
                     f"({report.already:,} members).")
    else:
        lines.append(f"Imported {report.minted:,} GEMS for {report.new_members:,} members"
                     + (f" ({report.already:,} already imported)." if report.already else "."))
    return "\n".join(lines)
