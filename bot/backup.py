"""`./gems export`, `./gems import` and `./gems backup`: moving and copying the data.

- export: the configured database (or one guild) as gzipped JSON lines (economy/core/dump.py).
- import: such a file into the configured database, which must be empty; then the audit.
- backup: a consistent copy of the embedded store's SQLite file while the bot runs. nx-27017
  keeps one SQLite file per database, `DATA_DIR/<DATABASE_NAME>.db`, in WAL mode, and commits a
  transaction only when its outermost savepoint is released; SQLite's online backup API copies
  the file inside one read transaction, so the copy is one committed state, and in WAL mode the
  bot's writes go on meanwhile.
"""

from __future__ import annotations

import gzip
import io
import os
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from bot.cli_args import ToolError
from bot.runtime import opened_store
from bot.settings import Settings
from economy.core.clock import SystemClock
from economy.core.dump import DumpService, ImportResult
from economy.repos.dump_repo import DumpRepo


async def export_to(settings: Settings, out: BinaryIO, guild_id: int | None = None) -> int:
    """Write the export (gzipped) to `out`; returns the number of documents."""
    written = 0
    async with opened_store(settings) as store:
        service = DumpService(DumpRepo(store.db), SystemClock())
        with gzip.GzipFile(filename="", fileobj=out, mode="wb") as gz:
            async for line in service.export_lines(guild_id):
                gz.write(line.encode() + b"\n")
                written += 1
    return max(0, written - 2)  # header and footer are not documents


def export_stream(out_path: str | None) -> BinaryIO:
    """The binary stream to export to: a file, or stdout when it is redirected."""
    if out_path:
        return open(out_path, "wb")
    if sys.stdout.isatty():
        raise ToolError("The export is binary (gzip): redirect it, e.g. "
                        "`./gems export > gems.jsonl.gz`, or pass --out FILE.")
    return sys.stdout.buffer


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as f:  # type: ignore[operator]
        yield from io.TextIOWrapper(f, encoding="utf-8")


async def import_from(settings: Settings, path: Path) -> ImportResult:
    """Import the export at `path` into the configured (empty) database."""
    if not path.is_file():
        raise ToolError(f"No such file: {path}")
    async with opened_store(settings) as store:
        service = DumpService(DumpRepo(store.db), SystemClock())
        return await service.import_lines(lambda: _lines(path))


def embedded_file(settings: Settings) -> Path:
    """The SQLite file of the configured embedded database."""
    return Path(settings.data_dir).resolve() / f"{settings.database_name}.db"


def backup_embedded(settings: Settings, out_dir: Path | None = None) -> Path:
    """Copy the embedded database consistently (bot running or not); returns the new file.

    The copy lands in `out_dir` (default DATA_DIR/backups/<UTC time>/) under the same file name,
    so that directory can serve as a DATA_DIR (restore, or `./gems export` from it).
    """
    if not settings.embedded:
        raise ToolError("`./gems backup` copies the embedded store. For MongoDB use its own "
                        "tools (mongodump, Atlas backups) or `./gems export`.")
    source = embedded_file(settings)
    if not source.is_file():
        raise ToolError(f"No embedded database at {source} (nothing to back up yet).")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = out_dir or source.parent / "backups" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    target = out_dir / source.name
    if target.exists():
        raise ToolError(f"{target} already exists; pick another directory.")
    partial = target.with_suffix(".partial")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # all pages in one step: one read transaction, one committed state
            status = dst.execute("PRAGMA integrity_check").fetchone()[0]
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    if status != "ok":
        partial.unlink(missing_ok=True)
        raise ToolError(f"The copy failed SQLite's integrity check: {status}")
    os.chmod(partial, 0o600)
    partial.rename(target)
    return target
