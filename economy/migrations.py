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

from pymongo.errors import DuplicateKeyError

from economy.clock import Clock
from economy.repos.base import Database

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)$")


_BOOKKEEPING = frozenset({"_migrations", "leases", "lease_terms"})


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
        self._col = db["_migrations"]

    async def applied(self) -> dict[str, dict]:
        """Recorded migrations by version."""
        return {doc["_id"]: doc async for doc in self._col.find({})}

    async def pending(self) -> list[Migration]:
        """Migrations not yet applied (or left unfinished by a crash)."""
        applied = await self.applied()
        return [m for m in discover(self._package)
                if applied.get(m.version, {}).get("status") != "done"]

    async def holds_data(self) -> bool:
        """True when any collection besides the bookkeeping ones (`_migrations`, the leases taken
        to migrate) holds a document: a database in use, worth a backup before migrating. A fresh
        one has only empty collections and indexes."""
        for name in await self._db.raw.list_collection_names():
            if name in _BOOKKEEPING or name.startswith("system."):
                continue
            if await self._db[name].find_one({}, projection={"_id": 1}) is not None:
                return True
        return False

    async def apply_pending(self, only: set[str] | None = None) -> list[Migration]:
        """Apply every pending migration in order (only the versions in `only` when given);
        returns what was applied."""
        done = []
        for migration in await self.pending():
            if only is not None and migration.version not in only:
                continue
            await self._claim(migration)
            try:
                await migration.module.up(self._db.raw)
            except Exception as exc:
                await self._db.write(lambda m=migration: self._col.delete_one({"_id": m.version}))
                raise MigrationError(f"migration {migration.version}_{migration.name} failed: {exc}") from exc
            await self._db.write(lambda m=migration: self._col.update_one(
                {"_id": m.version}, {"$set": {"status": "done", "finished_at": self._clock.now()}}))
            done.append(migration)
        return done

    async def _claim(self, migration: Migration) -> None:
        doc = {"_id": migration.version, "name": migration.name, "status": "running",
               "started_at": self._clock.now()}
        try:
            await self._db.write(lambda: self._col.insert_one(doc))
        except DuplicateKeyError:
            existing = await self._col.find_one({"_id": migration.version})
            if existing and existing.get("status") == "running":
                # A crash mid-migration: migrations are written to be re-runnable (indexes).
                return
            raise MigrationError(
                f"migration {migration.version} is being applied by another process"
            ) from None
