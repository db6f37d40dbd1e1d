"""Where runtime data lives, and the one-time move out of the shipped-content folder.

`data/` holds content shipped with GEMS (categories, challenge pool, seasons); runtime data (the
embedded store's SQLite files, its socket, pid and log, backups) lives in `var/` (DATA_DIR,
git-ignored). Installations from before that split kept their database in `data/`: at start-up
(`run`, `migrate`, `audit`, `backup`, ...) those files move once to `var/`, logged. When both
folders hold a database the bot refuses to start rather than guess which one is current.
`./gems doctor` only reports what the move would do (`planned_move`).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("gems")

#: The folder runtime data used to live in (relative to the working directory, like DATA_DIR).
LEGACY_DIR = Path("data")
#: The default DATA_DIR.
DEFAULT_DIR = Path("var")

# The SQLite files of a database (one per database name) and the store's log.
_SIDECARS = ("", "-wal", "-shm", "-journal")


class RuntimeDataError(Exception):
    """The runtime data cannot be moved safely; the message says what to do."""


@dataclass(frozen=True)
class Move:
    """What the one-time move would do: these names, from `source` to `target`."""

    source: Path
    target: Path
    names: tuple[str, ...]

    def describe(self) -> str:
        """`data/gems.db, data/backups -> var/`."""
        return f"{', '.join(str(self.source / n) for n in self.names)} -> {self.target}/"


def _legacy_names(source: Path) -> list[str]:
    names = sorted({p.name for p in source.glob("*.db*")
                    if any(p.name.endswith(".db" + s) for s in _SIDECARS)})
    names += [n for n in ("backups", "nx-27017.log") if (source / n).exists()]
    return names


def planned_move(data_dir: Path | str, legacy_dir: Path = LEGACY_DIR) -> Move | None:
    """The move start-up would make: None when there is nothing to move (or DATA_DIR is not
    the default, or points at the legacy folder itself). Raises RuntimeDataError when both
    folders hold a database, or a store still serves the legacy folder. Reads only."""
    if str(data_dir) == "memory":
        return None
    target, source = Path(data_dir), Path(legacy_dir)
    if not source.is_dir() or source.resolve() == target.resolve():
        return None
    if target.resolve() != DEFAULT_DIR.resolve():
        return None  # an explicit DATA_DIR elsewhere: the operator chose it, data/ is not ours
    names = _legacy_names(source)
    if not any(n.endswith(".db") for n in names):
        return None
    clashes = [n for n in names if n.endswith(".db") and (target / n).exists()]
    if clashes:
        raise RuntimeDataError(
            f"Both {source}/ and {target}/ hold a database ({', '.join(clashes)}). Runtime data "
            f"now lives in {target}/; GEMS will not guess which copy is current. Keep one: move "
            f"the other out of the way (e.g. `mv {source / clashes[0]} ~/`), then start again.")
    from bot.store import EmbeddedServer

    pid = EmbeddedServer(data_dir=str(source), run_dir=source).live_pid()
    if pid is not None:
        raise RuntimeDataError(
            f"An embedded store (pid {pid}) still serves {source}/: stop that bot, then start "
            f"again (its database moves to {target}/ once).")
    return Move(source=source, target=target, names=tuple(names))


def move_legacy_data(data_dir: Path | str, legacy_dir: Path = LEGACY_DIR) -> Move | None:
    """Move a database left in `legacy_dir` (and its WAL/SHM files, backups and log) to
    `data_dir`, once; returns what moved (None: nothing to do). Raises RuntimeDataError."""
    move = planned_move(data_dir, legacy_dir)
    if move is None:
        return None
    move.target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in move.names:
        destination = move.target / name
        if destination.exists():  # backups/ or the log already there: merge, never overwrite
            if (move.source / name).is_dir():
                for child in (move.source / name).iterdir():
                    if not (destination / child.name).exists():
                        shutil.move(str(child), str(destination / child.name))
                continue
            destination = move.target / f"{name}.from-data"
        shutil.move(str(move.source / name), str(destination))
    for stale in ("nx-27017.pid", "nx-27017.sock"):  # no store runs there (checked above)
        (move.source / stale).unlink(missing_ok=True)
    log.info("moved the runtime data %s (data/ now holds only shipped content)",
             move.describe())
    return move


def is_shipped_content_dir(data_dir: Path | str) -> bool:
    """True when DATA_DIR points at the folder of shipped content (`data/` in the project)."""
    return str(data_dir) != "memory" and os.path.realpath(data_dir) == os.path.realpath(
        LEGACY_DIR) and (LEGACY_DIR / "categories.json").exists()
