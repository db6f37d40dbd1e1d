"""`python -m bot run | demo | migrate | audit | sync-commands`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.runtime import StartupError, migrate, run_audit, run_bot, setup_logging, sync_commands
from bot.settings import SettingsError, load_settings
from bot.store import StoreError

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
        choices=["run", "demo", "migrate", "audit", "sync-commands"],
        help="run the bot (default), play the offline demo, apply migrations, "
             "check the ledger, or sync slash commands",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print("GEMS cannot start: fix these settings (.env or environment):", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
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
    await sync_commands(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
