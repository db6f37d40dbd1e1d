"""`python -m bot run | demo | migrate | audit | sync-commands | doctor | export | import | backup`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.runtime import StartupError, migrate, run_audit, run_bot, setup_logging, sync_commands
from bot.settings import SettingsError, load_settings
from bot.store import StoreError
from bot.tools import TOOLS, run_tool

NO_TOKEN = (
    "No DISCORD_TOKEN is set, so GEMS cannot connect to Discord.\n"
    "  To run the real bot: copy .env.example to .env, put your bot token in DISCORD_TOKEN\n"
    "  (Discord Developer Portal -> your application -> Bot -> Reset Token), then `./gems run`.\n"
)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="GEMS Discord bot")
    parser.add_argument(
        "command", nargs="?", default="run",
        choices=["run", "demo", "migrate", "audit", "sync-commands", "doctor", *TOOLS],
        help="run the bot (default), play the offline demo, apply migrations, "
             "check the ledger, sync slash commands, check the installation (doctor), "
             "export/import the data, or back up the embedded store",
    )
    parser.add_argument("file", nargs="?", help="import: the export file to read")
    parser.add_argument("--guild", type=int, help="export: only this guild's documents")
    parser.add_argument("--out", help="export: write to this file instead of stdout; "
                                      "backup: the directory for the copy")
    parser.add_argument("--connect", action="store_true",
                        help="doctor: also log in to Discord and check channels and roles")
    args = parser.parse_args(argv)
    if args.command == "doctor":  # reports bad settings as findings, one line each
        from bot.doctor import run_doctor

        return asyncio.run(run_doctor(connect=args.connect))
    try:
        settings = load_settings()
    except SettingsError as exc:
        print("GEMS cannot start: fix these settings (.env or environment):", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    if args.command in TOOLS:
        return run_tool(args, settings)
    try:
        return asyncio.run(_dispatch(args.command, settings))
    except KeyboardInterrupt:
        return 130
    except (StartupError, StoreError) as exc:
        print(f"GEMS cannot start: {exc}", file=sys.stderr)
        return 2


async def _dispatch(command: str, settings) -> int:
    if command == "run" and settings.discord_token is None:
        print(NO_TOKEN, file=sys.stderr)
        command = "demo"
    if command == "run":
        await run_bot(settings)
        return 0
    if command == "demo":
        from bot.demo import run_demo

        return await run_demo()
    if command == "migrate":
        applied = await migrate(settings)
        print("\n".join(f"applied {name}" for name in applied) or "The database is up to date.")
        return 0
    if command == "audit":
        report = await run_audit(settings)
        print(report.render())
        return 0 if report.ok else 1
    outcomes = await sync_commands(settings)
    for outcome in outcomes:
        if outcome.status == "failed":
            print(f"could not sync the slash commands {outcome.where}: {outcome.error}",
                  file=sys.stderr)
        else:
            print(f"synced {outcome.commands} slash commands {outcome.where}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
