"""Every command of the real command tree is documented in docs/features.md (the README keeps
only a short list by role), so a new or renamed command cannot ship undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import discord
import pytest

pytestmark = pytest.mark.timeout(60)

FEATURES = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def _leaves(command, path: tuple[str, ...] = ()):
    """(top-level name, the subcommand words below it) for every runnable command."""
    path = (*path, command.name)
    children = getattr(command, "commands", None)
    if children:
        for child in children:
            yield from _leaves(child, path)
    else:
        yield path


def _documented(path: tuple[str, ...], lines: list[str]) -> bool:
    # The table writes related subcommands compactly (`/market edit|withdraw|relist`), so a
    # leaf counts as documented when one line names its group path and its own word.
    group, leaf = "/" + " ".join(path[:-1]), path[-1]
    if len(path) == 1:
        return any(re.search(rf"`/{re.escape(leaf)}[` ]", line) for line in lines)
    return any(group in line and re.search(rf"(?<![\w-]){re.escape(leaf)}(?![\w-])", line)
               for line in lines)


async def test_every_command_is_documented_in_features_md(gc):
    lines = FEATURES.read_text(encoding="utf-8").splitlines()
    tree = gc.bot.tree
    missing = [" ".join(path) for command in tree.get_commands(type=discord.AppCommandType.chat_input)
               for path in _leaves(command) if not _documented(path, lines)]
    assert missing == [], "undocumented in docs/features.md: " + ", ".join(missing)
    menus = [c.name for kind in (discord.AppCommandType.user, discord.AppCommandType.message)
             for c in tree.get_commands(type=kind)]
    assert all(name in FEATURES.read_text(encoding="utf-8") for name in menus), menus
