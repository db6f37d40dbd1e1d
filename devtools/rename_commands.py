"""Rewrite old command names to the new grammar in tests, demo scenes, benches and docs.

    .venv/bin/python -m devtools.rename_commands [--check] [paths...]

Two forms are rewritten, from the map in `cogs.help.RENAMED` (longest names first):
- `/old name` in text (messages, docs, comments): a slash not inside a word or path;
- `"old name ...` as a quoted command path, as tests and scenes pass it
  (`gc.slash(who, "listing mine")`), and `"cmd:old name"` route keys; only multi-word names,
  so plain words stay.
Files the parallel outlet work owns are skipped (see SKIP); run this again after merging it.
`--check` lists what would change and exits 1 if anything would.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cogs.help import RENAMED

#: Where old names were rewritten. Docstrings and comments in economy/ and bot/ still say
#: "/modules" etc. (left so parallel branches merge cleanly): pass `economy bot` after merging.
DEFAULT_PATHS = ("tests", "bot/demo", "bench", "docs", "README.md", "cogs")
SUFFIXES = {".py", ".md", ".txt", ".toml", ".yml", ".yaml", ".json"}
#: Old names that are not commands in the text (the map itself, its table, this script).
SKIP = {"cogs/help/_renames.py", "docs/renamed-commands.md", "devtools/rename_commands.py",
        "tests/surface/test_command_grammar.py",
        # Owned by the parallel outlet work (rooms/desks): rewritten after it is merged.
        "cogs/trades/_rooms.py", "cogs/mentorship/_rooms.py", "cogs/events/_discord.py"}


def _rules() -> list[tuple[re.Pattern[str], str]]:
    rules = []
    for old, new in sorted(RENAMED.items(), key=lambda item: -len(item[0])):
        if ":" in old:  # an option (`board:season`): fixed by hand
            continue
        rules.append((re.compile(r"(?<![\w/.-])/" + re.escape(old) + r"(?![\w-])"), "/" + new))
        if " " in old:
            rules.append((re.compile(r"(?<=[\"'])" + re.escape(old) + r"(?=[\"' ])"), new))
            # bot/response_policy.py's route keys (`cmd:<qualified name>`)
            rules.append((re.compile(r"(?<=[\"']cmd:)" + re.escape(old) + r"(?=[\"'])"), new))
    return rules


def rewrite(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    """`text` with every old command name replaced by its new one."""
    for pattern, new in rules:
        text = pattern.sub(new, text)
    return text


def _files(paths: list[str]):
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in candidates:
            if file.is_file() and file.suffix in SUFFIXES and file.as_posix() not in SKIP \
                    and not {".venv", "__pycache__", "node_modules"} & set(file.parts) \
                    and file not in seen:
                seen.add(file)
                yield file


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, list) the files under the given paths."""
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"] or list(DEFAULT_PATHS)
    rules = _rules()
    changed = []
    for file in _files(paths):
        text = file.read_text(encoding="utf-8")
        new = rewrite(text, rules)
        if new != text:
            changed.append(file.as_posix())
            if not check:
                file.write_text(new, encoding="utf-8")
    for name in changed:
        print(name)
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
