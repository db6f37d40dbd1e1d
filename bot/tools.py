"""The maintenance commands beside `run`: doctor, export, import, backup, import-economy (exit
codes, output)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.backup import ToolError, backup_embedded, export_stream, export_to, import_from
from bot.settings import Settings
from bot.store import StoreError
from economy.core.errors import GemsError

TOOLS = ("export", "import", "backup", "import-economy")


def run_tool(args: argparse.Namespace, settings: Settings) -> int:
    """Run one maintenance command; 0 on success, 1 when it found a problem, 2 when it could
    not run."""
    try:
        if args.command == "export":
            return _export(args, settings)
        if args.command == "import":
            return _import(args, settings)
        if args.command == "import-economy":
            return _import_economy(args, settings)
        if args.command == "backup":
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
    if not args.file:
        raise ToolError("Which file? `./gems import FILE` (an export made by `./gems export`).")
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
