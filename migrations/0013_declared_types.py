"""Declared document types: repair booleans stored as numbers and dates stored as text, then
install `$jsonSchema` validators (economy/repos/schemas.py).

1. Repair. The embedded store (before bot/store_tuning.py's correction) stored a boolean written
   by `$set` or a findAndModify upsert as the number 0/1. For every field a collection declares
   as a boolean (nested ones included; arrays are not entered -- no repository writes a boolean
   into an array element with `$set`), the documents holding a number 0/1 there get the boolean.
   In pages of 5,000: each page is a query for the documents still holding a number there
   (`{field: {$type: "number", $in: [0, 1]}}`, valid on both stores; a repaired document no longer
   matches), then one bulk write by `_id`, guarded by the number read. Re-runnable: a second
   run finds nothing. A store that writes the number again makes a page return a document
   already repaired; that stops the migration with an error instead of looping.
   Dates the same way: a date written by `$set` was stored as text (`2026-01-02
   03:04:05.123000+00:00`); every field declared as a date that holds such text gets the date
   (query `{field: {$type: "string"}}`, text that is not a date is left for the export to
   refuse). A new database (`dbStats` counts no document beyond the migration records) has
   nothing to repair and is not walked.
2. Validators. On MongoDB every declared collection gets its schema as a validator
   (`collMod`, or `create` for a collection that does not exist yet) with
   `validationLevel: "moderate"` (existing documents that do not match can still be updated;
   new and matching ones must keep matching). The embedded store accepts `collMod`/`create`
   with a validator but keeps none (its `listCollections` shows no validator), so after the
   first collection the migration checks whether the validator was kept and, when it was not,
   skips the rest and logs so; the repair above still ran.

Frozen and live parts (migrations/README.md): the repair is data history, so the fields it
repairs are a frozen list (migrations/_frozen/declared_types.py) -- a field declared a boolean
later was never written as 0/1 by the old store and must not be converted by this migration.
The validators are the current contract, not data: they are read from economy/repos/schemas.py
when this runs (moderate validation, extra fields allowed), and a later migration that changes a
declaration installs them again the same way.
"""

from __future__ import annotations

import logging

from pymongo import UpdateOne
from pymongo.errors import CollectionInvalid, OperationFailure

from economy.core.migrations import MigrationError
from economy.repos.schemas import SCHEMAS, validator
from migrations._frozen.declared_types import BOOLEANS, DATES, stored_date

log = logging.getLogger(__name__)

#: Documents per page. On the embedded store each page's query scans the collection (~2.7 s at
#: 50,000 documents), so the pages are large; the documents to repair are small.
BATCH = 5000
NAMESPACE_EXISTS = 48


def _number_at(doc: dict, path: str):
    value: object = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if type(value) is int and value in (0, 1) else None


async def repair_booleans(col, path: str, *, batch: int = BATCH) -> int:
    """Turn every number 0/1 at `path` of `col` into the boolean; returns how many changed."""
    stored_as_number = {"$type": "number", "$in": [0, 1]}
    repaired: set = set()
    while True:
        docs = await col.find({path: stored_as_number}).limit(batch).to_list()
        ops = []
        for doc in docs:
            value = _number_at(doc, path)
            if value is None:
                continue
            if doc["_id"] in repaired:
                raise MigrationError(
                    f"{col.name}.{path}: the store wrote the number again after the repair "
                    "(bot/store_tuning.py's boolean correction is not applied); not looping")
            repaired.add(doc["_id"])
            # Guarded by the number read (plain equality: on the embedded store a write filter
            # it cannot translate to SQL, such as `$type`, updates the wrong document when
            # `_id`s are integers; there `{f: 0}` also matches false, which is harmless here).
            ops.append(UpdateOne({"_id": doc["_id"], path: value},
                                 {"$set": {path: bool(value)}}))
        if not ops:
            break
        await col.bulk_write(ops, ordered=False)
    if repaired:
        log.info("migration 0013: %s.%s: %d numbers made booleans", col.name, path,
                 len(repaired))
    return len(repaired)


async def repair_dates(col, path: str, *, batch: int = BATCH) -> int:
    """Turn every datetime stored as text at `path` of `col` into the date; returns how many."""
    repaired: set = set()
    while True:
        docs = await col.find({path: {"$type": "string"}}).limit(batch).to_list()
        ops = []
        for doc in docs:
            text = _text_at(doc, path)
            date = stored_date(text) if text is not None else None
            if date is None:
                continue
            if doc["_id"] in repaired:
                raise MigrationError(f"{col.name}.{path}: the store wrote the text again after "
                                     "the repair; not looping")
            repaired.add(doc["_id"])
            ops.append(UpdateOne({"_id": doc["_id"], path: text}, {"$set": {path: date}}))
        if not ops:
            break
        await col.bulk_write(ops, ordered=False)
    if repaired:
        log.info("migration 0013: %s.%s: %d texts made dates", col.name, path, len(repaired))
    return len(repaired)


def _text_at(doc: dict, path: str) -> str | None:
    value: object = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if type(value) is str else None


async def _keeps_validators(db, name: str) -> bool:
    async for info in await db.list_collections(filter={"name": name}):
        return bool(info.get("options", {}).get("validator"))
    return False


async def install_validators(db, existing: set[str]) -> bool:
    """Install every declared validator; False (nothing more tried) when the store keeps none."""
    for number, name in enumerate(sorted(SCHEMAS)):
        spec = {"validator": validator(name), "validationLevel": "moderate"}
        if name in existing:
            await db.command({"collMod": name, **spec})
        else:
            try:
                await db.create_collection(name, **spec)
            except (CollectionInvalid, OperationFailure) as error:  # created meanwhile
                if getattr(error, "code", NAMESPACE_EXISTS) != NAMESPACE_EXISTS:
                    raise
                await db.command({"collMod": name, **spec})
        if number == 0 and not await _keeps_validators(db, name):
            log.info("migration 0013: this store keeps no collection validators "
                     "(the embedded store); validators skipped, data repaired")
            return False
    return True


async def holds_data(db) -> bool:
    """True unless the database holds nothing but the migration records (a new database: one
    `dbStats`, instead of a query per declared field -- ~230 ms on every test's database)."""
    stats = await db.command({"dbStats": 1})
    return int(stats.get("objects", 1)) > await db["_migrations"].count_documents({})


async def up(db) -> None:
    """Repair declared booleans stored as numbers, then install the validators (re-runnable)."""
    existing = set(await db.list_collection_names())
    repair = await holds_data(db)
    for name in sorted(set(BOOLEANS) | set(DATES)):
        if repair and name in existing:
            for path in BOOLEANS.get(name, ()):
                await repair_booleans(db[name], path)
            for path in DATES.get(name, ()):
                await repair_dates(db[name], path)
    await install_validators(db, existing)
