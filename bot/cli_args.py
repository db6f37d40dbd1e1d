"""The maintenance commands' names and argument checks, without importing the runtime.

`python -m bot <tool>` with a missing or malformed argument answers in a fraction of a second:
these checks run before discord.py, pymongo and the features are imported (issue 28).
"""

from __future__ import annotations

import argparse
from datetime import date

#: The maintenance commands bot.tools runs.
TOOLS = ("export", "import", "backup", "import-economy", "rollup")


class ToolError(Exception):
    """A maintenance command cannot run; the message says why."""


def argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with a maintenance command's arguments (None: nothing seen here).

    Only what needs neither the store nor the features is checked; the command checks the rest.
    """
    if args.command == "rollup":
        if not args.since:
            return "From which day? `./gems rollup --since 2026-01-01` (--guild ID: one guild)."
        try:
            date.fromisoformat(args.since)
        except ValueError:
            return f"{args.since!r} is not a date like 2026-01-01."
    if args.command == "import" and not args.file:
        return "Which file? `./gems import FILE` (an export made by `./gems export`)."
    return None


__all__ = ["TOOLS", "ToolError", "argument_problem"]
