"""The maintenance commands beside `run`: doctor, export, import, backup, import-economy (exit
codes, output)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli_args import TOOLS, ToolError, argument_problem
from bot.settings import Settings

__all__ = ["TOOLS", "run_tool"]


def run_tool(args: argparse.Namespace, settings: Settings) -> int:
    """Run one maintenance command; 0 on success, 1 when it found a problem, 2 when it could
    not run."""
    # The runtime (store driver, features) is imported here, once the arguments are known good.
    from bot.store import StoreError
    from economy.core.errors import GemsError

    try:
        problem = argument_problem(args)
        if problem is not None:
            raise ToolError(problem)
        if args.command == "export":
            return _export(args, settings)
        if args.command == "import":
            return _import(args, settings)
        if args.command == "import-economy":
            return _import_economy(args, settings)
        if args.command == "rollup":
            return _rollup(args, settings)
        if args.command == "backup":
            from bot.backup import backup_embedded

            target = backup_embedded(settings, Path(args.out) if args.out else None)
            print(f"Backed up the embedded store to {target}")
            print(f"Restore: stop the bot, then copy it to {target.name} in DATA_DIR "
                  f"(or run with DATA_DIR={target.parent}).")
            return 0
        raise ToolError(f"unknown command {args.command}")
    except KeyboardInterrupt:
        return 130
    except (ToolError, StoreError, GemsError) as error:
        print(f"{args.command}: {getattr(error, 'message', error)}", file=sys.stderr)
        for problem in getattr(error, "problems", ()):  # a refused import: where and why
            print(f"  {problem}", file=sys.stderr)
        return 2


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backup import export_stream, export_to

    out = export_stream(args.out)
    try:
        count = asyncio.run(export_to(settings, out, args.guild))
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    where = f" of guild {args.guild}" if args.guild else ""
    print(f"Exported {count:,} documents{where}.", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backup import import_from

    result = asyncio.run(import_from(settings, Path(args.file)))
    total = sum(result.counts.values())
    print(f"Imported {total:,} documents into `{settings.database_name}` "
          f"({len(result.counts)} collections).")
    for name in result.migrations_applied_after:
        print(f"applied {name} (newer than the export)")
    assert result.audit is not None
    print(result.audit.render())
    return 0 if result.audit.ok else 1


def _import_economy(args: argparse.Namespace, settings: Settings) -> int:
    from bot.economy_import import import_economy, read_request, render

    source, data = read_request(args)
    report, audited = asyncio.run(import_economy(settings, source, data, args.guild,
                                                 merge=args.merge, dry_run=args.dry_run))
    print(render(report, Path(args.file).name))
    if audited is None:
        return 0
    print(audited.render())
    return 0 if audited.ok else 1


def _rollup(args: argparse.Namespace, settings: Settings) -> int:
    """`./gems rollup --since YYYY-MM-DD [--guild ID]`: recompute the insights rollups."""
    from datetime import date

    since = date.fromisoformat(args.since)  # checked by argument_problem
    days = asyncio.run(_run_rollup(settings, since, args.guild))
    for guild_id, count in sorted(days.items()):
        print(f"guild {guild_id}: {count} days rolled up")
    if not days:
        print("No guild has GEMS accounts yet: nothing to roll up.")
    return 0


async def _run_rollup(settings: Settings, since, guild_id: int | None) -> dict[int, int]:
    from bot.runtime import opened_store
    from bot.startup_migrations import ensure_migrated
    from bot.store import EmbeddedServer
    from economy.core.clock import SystemClock
    from economy.services import build_services

    if settings.embedded and str(settings.data_dir) != "memory":
        pid = EmbeddedServer(data_dir=str(settings.data_dir),
                             run_dir=Path(settings.data_dir)).live_pid()
        if pid is not None:  # one bot process per embedded data file
            raise ToolError(f"The bot (store pid {pid}) is running on {settings.data_dir}: stop "
                            "it first (its job rolls up each day that ends by itself).")
    async with opened_store(settings) as store:
        clock = SystemClock()
        await ensure_migrated(store, settings, clock, apply=False)
        services = build_services(store.db, clock)
        guilds = [guild_id] if guild_id is not None else await services.insights.guilds()
        return await services.insights.backfill(since, guilds)
