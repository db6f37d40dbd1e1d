"""`python -m bot <command>`: the bot's command line (`python -m bot help` lists the commands)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import bot.startup_phases  # noqa: F401 - first: its clock measures the start-up from here
from bot.cli_args import TOOLS, argument_problem
from bot.runtime_data import RuntimeDataError, is_shipped_content_dir, move_legacy_data
from bot.settings import SettingsError, load_settings

# The bot's runtime (discord.py, pymongo, every feature) is imported by the commands that run
# it, not by `help`, `invite`, `docs` or a settings error: those answer in a fraction of the time.

#: Every command with its one-line description: `--help`, `help` and docs/operations.md list these.
COMMANDS: dict[str, str] = {
    "run": "run the bot (DISCORD_TOKEN from .env; without one, the offline demo)",
    "demo": "play the offline demo: a scripted community on a local Discord stand-in",
    "test": "run the test suite (./gems only; `--fast` skips the slow tests)",
    "lint": "ruff and the import contracts (./gems only)",
    "migrate": "apply pending database migrations",
    "audit": "check the ledger invariant (balances == sum of ledger entries)",
    "sync-commands": "register the slash commands with Discord now",
    "doctor": "check the installation without changing anything (--connect: Discord too)",
    "invite": "print the invite link with exactly the permissions GEMS needs",
    "export": "write the data (or --guild ID's) as gzipped JSON lines (--out FILE)",
    "import": "load an export FILE into an empty database",
    "backup": "copy the embedded database consistently (--out DIR)",
    "import-economy": "mint balances from another bot: --from unbelievaboat|red FILE --guild ID",
    "rollup": "recompute the daily insights from --since YYYY-MM-DD (--guild ID: one guild)",
    "docs": "regenerate docs/settings.md from the settings models",
    "help": "list these commands",
}
#: Commands only the `gems` script runs (they need the dev tools it installs).
SCRIPT_ONLY = ("test", "lint")


def command_lines() -> str:
    """`commands:` and one line per command."""
    width = max(len(name) for name in COMMANDS)
    return "\n".join(["commands:", *(f"  {name:<{width}}  {text}"
                                     for name, text in COMMANDS.items())])


def commands_help(prog: str = "./gems") -> str:
    """The usage line and one line per command (`./gems help`)."""
    return (f"usage: {prog} [command] [options]   (default command: run)\n\n{command_lines()}\n\n"
            "More: README.md, docs/operations.md (every command's options).")


NO_TOKEN = (
    "No DISCORD_TOKEN is set, so GEMS cannot connect to Discord.\n"
    "  To run the real bot: copy .env.example to .env, put your bot token in DISCORD_TOKEN\n"
    "  (Discord Developer Portal -> your application -> Bot -> Reset Token), then `./gems run`.\n"
)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command, return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="GEMS Discord bot\n\n" + command_lines(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command", nargs="?", default="run",
        choices=[name for name in COMMANDS if name not in SCRIPT_ONLY],
        metavar="command", help="one of the commands above (default: run)",
    )
    parser.add_argument("file", nargs="?", help="import, import-economy: the file to read; "
                                                "invite: the application id")
    parser.add_argument("--guild", type=int, help="export: only this guild's documents; "
                                                  "import-economy: the server to import into; "
                                                  "rollup: only this guild")
    parser.add_argument("--from", dest="source", choices=("unbelievaboat", "red"),
                        help="import-economy: the bot the file comes from")
    parser.add_argument("--dry-run", action="store_true",
                        help="import-economy: print what would be minted, change nothing")
    parser.add_argument("--merge", action="store_true",
                        help="import-economy: add to a server whose members already hold GEMS")
    parser.add_argument("--since", help="rollup: the first day to compute (YYYY-MM-DD)")
    parser.add_argument("--out", help="export: write to this file instead of stdout; "
                                      "backup: the directory for the copy")
    parser.add_argument("--connect", action="store_true",
                        help="doctor: also log in to Discord and check channels and roles")
    args = parser.parse_intermixed_args(argv)  # `import-economy --from red FILE --guild ID`
    if args.command == "help":
        print(commands_help())
        return 0
    if args.command == "docs":
        from bot.settings_docs import write_settings_doc

        print(f"wrote {write_settings_doc()}")
        return 0
    if args.command == "doctor":  # reports bad settings as findings, one line each
        from bot.doctor import run_doctor

        return asyncio.run(run_doctor(connect=args.connect))
    if args.command in TOOLS and (problem := argument_problem(args)) is not None:
        print(f"{args.command}: {problem}", file=sys.stderr)  # before the runtime is imported
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print("GEMS cannot start: fix these settings (.env or environment):", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    if args.command == "invite":
        return _invite(args.file, settings)
    from bot.log_setup import setup_logging
    from bot.store import StoreError, start_embedded

    setup_logging(settings.log_level, settings.log_format)
    if settings.embedded and args.command != "demo":
        try:
            move_legacy_data(settings.data_dir)
        except RuntimeDataError as exc:
            print(f"GEMS cannot start: {exc}", file=sys.stderr)
            return 2
        if is_shipped_content_dir(settings.data_dir):
            logging.getLogger("gems").warning(
                "DATA_DIR=%s is the folder of shipped content: remove DATA_DIR from .env (the "
                "default is var/, git-ignored) and the database moves there once at start-up",
                settings.data_dir)
    if args.command in TOOLS:
        from bot.tools import run_tool

        return run_tool(args, settings)
    started = None
    if args.command == "run" and settings.discord_token is not None and settings.embedded:
        # The store process boots on the other core while this one imports the bot (issue 28).
        try:
            started = start_embedded(settings.data_dir)
        except StoreError as exc:
            print(f"GEMS cannot start: {exc}", file=sys.stderr)
            return 2
    from bot.startup_errors import StartupError

    try:
        return asyncio.run(_dispatch(args.command, settings, started))
    except KeyboardInterrupt:
        return 130
    except (StartupError, StoreError) as exc:
        print(f"GEMS cannot start: {exc}", file=sys.stderr)
        return 2


def _invite(given: str | None, settings) -> int:
    """Print the invite link: the application id from the argument, DISCORD_APPLICATION_ID,
    or the token (its first part encodes it)."""
    from bot.permissions import application_id_from_token, invite_url, labels_sentence

    app_id: int | None = None
    if given is not None:
        if not given.strip().isdigit():
            print(f"invite: {given!r} is not an application id (a number)", file=sys.stderr)
            return 2
        app_id = int(given)
    elif settings.discord_application_id is not None:
        app_id = settings.discord_application_id
    elif settings.discord_token is not None:
        app_id = application_id_from_token(settings.discord_token.get_secret_value())
    if app_id is None:
        print("invite: which application? `./gems invite APPLICATION_ID`, or set "
              "DISCORD_APPLICATION_ID (or DISCORD_TOKEN) in .env. The id is on the Developer "
              "Portal -> your application -> General Information.", file=sys.stderr)
        return 2
    print(invite_url(app_id))
    print(f"Permissions: {labels_sentence()}.", file=sys.stderr)
    return 0


async def _dispatch(command: str, settings, started=None) -> int:
    """Run `command`; `started`: the embedded store process main() started for `run`."""
    from bot.runtime import migrate, run_audit, run_bot, sync_commands

    if command == "run" and settings.discord_token is None:
        print(NO_TOKEN, file=sys.stderr)
        command = "demo"
    if command == "run":
        await run_bot(settings, started=started)
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
