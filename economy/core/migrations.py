"""Applies the numbered modules in `migrations/` and records each in `_migrations`.

A migration is `migrations/NNNN_name.py` with `async def up(db)`, where `db` is the raw PyMongo
database. Versions are applied in order, once: the `_migrations` document is claimed before `up`
runs, so two processes starting together cannot apply one twice.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType

from economy.core.clock import Clock
from economy.repos.base import Database
from economy.repos.migration_repo import MigrationRepo

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)$")


class MigrationError(Exception):
    """A migration failed or the database is in an unknown migration state."""


@dataclass(frozen=True)
class Migration:
    """One numbered migration module."""

    version: str
    name: str
    module: ModuleType


def discover(package: str = "migrations") -> list[Migration]:
    """All migrations in the package, ordered by version."""
    pkg = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        match = _NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if not callable(getattr(module, "up", None)):
            raise MigrationError(f"{info.name} has no `async def up(db)`")
        found.append(Migration(match.group(1), match.group(2), module))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {package}: {versions}")
    return found


class Migrator:
    """Knows which migrations are applied and applies the rest."""

    def __init__(self, db: Database, clock: Clock, package: str = "migrations") -> None:
        self._db = db
        self._clock = clock
        self._package = package
        self._repo = MigrationRepo(db)

    async def applied(self) -> dict[str, dict]:
        """Recorded migrations by version.

        Raises: nothing expected.
        """
        return await self._repo.applied()

    async def pending(self) -> list[Migration]:
        """Migrations not yet applied (or left unfinished by a crash).

        Raises: MigrationError.
        """
        applied = await self.applied()
        return [m for m in discover(self._package)
                if applied.get(m.version, {}).get("status") != "done"]

    async def holds_data(self) -> bool:
        """True when any collection besides the bookkeeping ones (`_migrations`, the leases taken
        to migrate) holds a document: a database in use, worth a backup before migrating. A fresh
        one has only empty collections and indexes.

        Raises: nothing expected.
        """
        return await self._repo.holds_data()

    async def apply_pending(self, only: set[str] | None = None) -> list[Migration]:
        """Apply every pending migration in order (only the versions in `only` when given);
        returns what was applied.

        Raises: MigrationError.
        """
        done = []
        for migration in await self.pending():
            if only is not None and migration.version not in only:
                continue
            await self._claim(migration)
            try:
                await migration.module.up(self._db.raw)
            except Exception as exc:
                await self._repo.release(migration.version)
                raise MigrationError(f"migration {migration.version}_{migration.name} failed: {exc}") from exc
            await self._repo.finish(migration.version, self._clock.now())
            done.append(migration)
        return done

    async def _claim(self, migration: Migration) -> None:
        existing = await self._repo.claim(migration.version, migration.name, self._clock.now())
        if existing is not None:
            if existing.get("status") == "running":
                # A crash mid-migration: migrations are written to be re-runnable (indexes).
                return
            raise MigrationError(
                f"migration {migration.version} is being applied by another process"
            )
