"""Export a database to JSON lines and import it into an empty one (moving stores, backups).

Format (one JSON object per line, MongoDB Extended JSON in canonical mode, so datetimes, int64,
ObjectIds and binary data come back with exactly their BSON types):

    {"gems_export": 1, "database": ..., "guild_id": null|ID, "migrations": ["0001", ...],
     "exported_at": ..., "collections": [...]}                      header
    {"c": "<collection>", "d": {<document>}}                         one per document
    {"end": {"counts": {"<collection>": N, ...}}}                    footer (detects truncation)

Import refuses anything but an empty database (bookkeeping aside), validates the whole file
before writing, applies the export's migrations (indexes) first, inserts the documents, applies
migrations newer than the export, and returns the ledger audit.

Both check every document of a declared collection against its `$jsonSchema`
(economy/repos/schemas.py), so a database moves to MongoDB with the types MongoDB's validators
and queries expect: the export first turns an int 0/1 where a boolean is declared into the
boolean (older embedded stores wrote booleans set by `$set` as numbers, where `{flag: false}`
stops matching on MongoDB; the import does the same for exports made before), then refuses any document that still breaks the schema, naming the
collection, `_id` and field. Collections without a declaration are carried unchecked.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from economy.core.audit import AuditReport, audit
from economy.core.clock import Clock
from economy.core.errors import InvalidInput
from economy.core.migrations import Migrator, discover
from economy.repos.dump_repo import DumpRepo, decode, encode
from economy.repos.schema_check import mismatches, normalise
from economy.repos.schemas import SCHEMAS

FORMAT_VERSION = 1


@dataclass
class ImportResult:
    """What an import wrote and the audit afterwards."""

    counts: dict[str, int] = field(default_factory=dict)
    migrations_applied_after: list[str] = field(default_factory=list)
    audit: AuditReport | None = None


class DumpService:
    """Exports and imports whole databases (or one guild's documents)."""

    def __init__(self, repo: DumpRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def export_lines(self, guild_id: int | None = None) -> AsyncIterator[str]:
        """The export, line by line (header, documents, footer).

        Raises: InvalidInput.
        """
        names = await self._repo.collection_names()
        header = {"gems_export": FORMAT_VERSION, "database": self._repo.db.name,
                  "guild_id": guild_id, "migrations": await self._repo.applied_migrations(),
                  "exported_at": self._clock.now(), "collections": names}
        yield encode(header)
        counts: dict[str, int] = {}
        session = self._repo.snapshot_session()
        async with session if session is not None else contextlib.nullcontext():
            for name in names:
                counts[name] = 0
                async for doc in self._repo.documents(name, guild_id, session=session):
                    counts[name] += 1
                    yield encode({"c": name, "d": conform(name, doc)})
        yield encode({"end": {"counts": counts}})

    async def import_lines(self, open_lines: Callable[[], Iterable[str]]) -> ImportResult:
        """Import an export into this (empty) database; returns counts and the audit.

        `open_lines()` yields the file's lines; it is called twice: the first pass validates the
        whole file, the second inserts in batches (memory stays small for big exports).
        Raises InvalidInput, before writing anything, for a non-empty database, a damaged or
        truncated file, or an export from a newer version of GEMS.
        """
        header = _validate(open_lines())
        known = [m.version for m in discover()]
        unknown = sorted(set(header["migrations"]) - set(known))
        if unknown:
            raise InvalidInput(f"This export comes from a newer GEMS (migrations {unknown}); "
                               "upgrade this installation first.")
        await self._require_empty(header["migrations"])
        migrator = Migrator(self._repo.db, self._clock)
        await migrator.apply_pending(only=set(header["migrations"]))
        result = ImportResult()
        for name, batch in _batches(open_lines()):
            await self._repo.insert(name, batch)
            result.counts[name] = result.counts.get(name, 0) + len(batch)
        result.migrations_applied_after = [
            f"{m.version}_{m.name}" for m in await migrator.apply_pending()]
        result.audit = await audit(self._repo.db)
        return result

    async def _require_empty(self, export_migrations: list[str]) -> None:
        for name in await self._repo.collection_names():
            if await self._repo.has_documents(name):
                raise InvalidInput(
                    f"The target database `{self._repo.db.name}` is not empty (`{name}` has "
                    "documents). Import only into an empty database.")
        extra = sorted(set(await self._repo.applied_migrations()) - set(export_migrations))
        if extra:
            raise InvalidInput(
                f"The target database already has migrations {extra} that the export lacks; "
                "import into a database that was never migrated.")


def conform(collection: str, doc: dict, *, repair: bool = True) -> dict:
    """`doc` as its collection's schema declares it: an int 0/1 where only a boolean is declared
    becomes the boolean (when `repair`); raises InvalidInput naming the collection, `_id` and
    field for anything else the schema refuses. Undeclared collections pass unchanged."""
    schema = SCHEMAS.get(collection)
    if schema is None:
        return doc
    if repair:
        doc, _ = normalise(schema, doc)
    problems = list(mismatches(schema, doc))
    if problems:
        listed = "; ".join(map(str, problems[:5]))
        raise InvalidInput(f"`{collection}` document _id={doc.get('_id')!r} does not match its "
                           f"declared schema: {listed}. Fix the document (or its declaration in "
                           "economy/repos/schemas.py) and try again.")
    return doc


def _records(lines: Iterable[str]) -> Iterable[tuple[int, dict]]:
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            yield number, decode(line)
        except ValueError as error:
            raise InvalidInput(f"line {number} is not valid JSON: {error}") from None


def _validate(lines: Iterable[str]) -> dict:
    """Check a whole export (header first, known collections, footer counts); its header."""
    header: dict | None = None
    footer: dict | None = None
    counts: dict[str, int] = {}
    for number, obj in _records(lines):
        if footer is not None:
            raise InvalidInput(f"line {number}: data after the end marker")
        if header is None:
            if obj.get("gems_export") != FORMAT_VERSION or not isinstance(
                    obj.get("migrations"), list):
                raise InvalidInput("This is not a GEMS export (or its format version is unknown).")
            header = obj
            counts = dict.fromkeys(obj.get("collections", []), 0)
        elif "end" in obj:
            footer = obj["end"]
        elif obj.get("c") in counts and isinstance(obj.get("d"), dict):
            try:
                conform(obj["c"], obj["d"])  # an export made before the repair: repairable
            except InvalidInput as error:
                raise InvalidInput(f"line {number}: {error.message}") from None
            counts[obj["c"]] += 1
        else:
            raise InvalidInput(f"line {number}: unexpected record")
    if header is None:
        raise InvalidInput("The file is empty.")
    if footer is None:
        raise InvalidInput("The export is truncated (no end marker); nothing was imported.")
    if footer.get("counts") != counts:
        raise InvalidInput("The export's document counts do not match its end marker.")
    return header


def _batches(lines: Iterable[str], size: int = 1000) -> Iterable[tuple[str, list[dict]]]:
    """(collection, documents) batches of a validated export, in file order."""
    name: str | None = None
    batch: list[dict] = []
    for _, obj in _records(lines):
        if "c" not in obj:
            continue
        if obj["c"] != name or len(batch) >= size:
            if batch:
                yield name, batch  # type: ignore[misc]
            name, batch = obj["c"], []
        batch.append(conform(obj["c"], obj["d"]))
    if batch:
        yield name, batch  # type: ignore[misc]
