"""The leftover-document check: every document a test leaves in its database must match the
collection's declared `$jsonSchema` (economy/repos/schemas.py).

Run by the `store` fixture (tests/conftest.py) after each test that used a database, so a repo
that writes a boolean as a number, a date as text or an undeclared collection fails the test that
wrote it -- the documents a real MongoDB validator would refuse, or that would change meaning
when moved there.

`GEMS_SCHEMA_SURVEY=<file>`: instead of checking, append the (collection, field, BSON type)
triples found to that file, one JSON object per line -- to compare the declarations with what the
suite actually writes.
"""

from __future__ import annotations

import json
import os

from economy.repos.base import Database
from economy.repos.schema_check import mismatches, survey
from economy.repos.schemas import SCHEMAS, UNCHECKED

#: Stop listing after this many problems (the first ones say enough).
MAX_REPORTED = 20
#: Collections tests create to probe the store itself (odd types on purpose), not the bot's.
TEST_COLLECTIONS = frozenset({"probe_types"})


async def check_leftovers(db: Database) -> list[str]:
    """Problems with the documents in `db` (empty when every document matches)."""
    survey_file = os.environ.get("GEMS_SCHEMA_SURVEY")
    problems: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for name in sorted(await db.raw.list_collection_names()):
        if name.startswith("system.") or name in UNCHECKED or name in TEST_COLLECTIONS:
            continue
        schema = SCHEMAS.get(name)
        async for doc in db.raw[name].find({}):
            if survey_file:
                seen.update((name, path, kind) for path, kind in survey(doc))
                continue
            if schema is None:
                problems.append(f"{name}: collection has no declared schema "
                                "(add it to economy/repos/schemas.py)")
                break
            problems.extend(f"{name} _id={doc.get('_id')!r}: {m}"
                            for m in mismatches(schema, doc))
            if len(problems) >= MAX_REPORTED:
                return problems
    if survey_file and seen:
        _append(survey_file, seen)
    return problems


def _append(path: str, seen: set[tuple[str, str, str]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.writelines(json.dumps({"c": c, "p": p, "t": t}) + "\n" for c, p, t in seen)
