"""Logging set-up for the command line, without importing discord.py unless it colours.

`python -m bot` configures logging before it imports the runtime (discord.py, pymongo, every
feature; issue 28): a plain (non-terminal) set-up needs none of them.
"""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str, fmt: str = "text") -> None:
    """Readable logs on stderr (discord.py's formatter, our level); `fmt="json"`: JSON lines.

    Colour only when stderr is a terminal and NO_COLOR is unset (discord.py also colours inside
    Docker, which puts escape codes into piped logs and files).
    """
    if use_colour(sys.stderr):
        import discord

        discord.utils.setup_logging(level=getattr(logging, level), root=True)
    else:  # what discord.utils.setup_logging does with a plain formatter, minus the import
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(
            "[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{"))
        root = logging.getLogger()
        root.setLevel(getattr(logging, level))
        root.addHandler(handler)
    if fmt == "json":
        from bot.log_format import use_json_logs

        use_json_logs(getattr(logging, level))
    quiet_scheduler(getattr(logging, level))


def use_colour(stream) -> bool:
    """True when `stream` is a terminal and the NO_COLOR convention (no-color.org) is not set."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def quiet_scheduler(level: int) -> None:
    """APScheduler logs two INFO lines per job run (thousands a day) and two per job at start-up:
    show them only at DEBUG. Failures are logged by bot.jobs, one line each."""
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING)


__all__ = ["quiet_scheduler", "setup_logging", "use_colour"]
