"""The leftover-document check: every document a test leaves in its database must match the
collection's declared `$jsonSchema` (economy/repos/schemas.py).

Run by the `store` fixture (tests/conftest.py) after each test that used a database, so a repo
that writes a boolean as a number, a date as text or an undeclared collection fails the test that
wrote it -- the documents a real MongoDB validator would refuse, or that would change meaning
when moved there.

Cheap: the test's database starts empty, so only collections written during the test can hold
documents. The fixture's client carries `WRITES` (a PyMongo command listener) that notes the
collection of every insert/update/delete/findAndModify per database, and only those collections
are read back (one `find` each: reading all ~65 collections cost ~140 ms per test on the
embedded store). Writes from other clients (a bot in a child process) are not seen.

`GEMS_SCHEMA_SURVEY=<file>`: instead of checking, append the (collection, field, BSON type)
triples found to that file, one JSON object per line -- to compare the declarations with what the
suite actually writes.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

from pymongo import monitoring
from pymongo.errors import OperationFailure

from economy.repos.base import Database
from economy.repos.schema_check import mismatches, survey
from economy.repos.schemas import SCHEMAS, UNCHECKED

#: Stop listing after this many problems (the first ones say enough).
MAX_REPORTED = 20
#: Leftover documents read in one reply of the test store (one BSON reply is at most 16 MB).
ONE_REPLY_AT_MOST = 10_000
#: Collections tests create to probe the store itself (odd types on purpose), not the bot's.
TEST_COLLECTIONS = frozenset({"probe_types", "probe", "claims", "things", "fidelity",
                              "fidelity_or", "x", "flags"})


class WriteListener(monitoring.CommandListener):
    """Notes which collections each database was written to (by this client)."""

    COMMANDS = ("insert", "update", "delete", "findAndModify")

    def __init__(self) -> None:
        self.written: defaultdict[str, set[str]] = defaultdict(set)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in self.COMMANDS:
            self.written[event.database_name].add(str(event.command[event.command_name]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


WRITES = WriteListener()


async def check_leftovers(db: Database) -> list[str]:
    """Problems with the documents in `db` (empty when every document matches): the
    collections `WRITES` saw written in `db` (all of them when the client has no listener)."""
    survey_file = os.environ.get("GEMS_SCHEMA_SURVEY")
    problems: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    listened = WRITES in db.client.options.event_listeners
    names = WRITES.written.pop(db.name, set()) if listened \
        else await db.raw.list_collection_names()
    names = sorted(name for name in names if not (
        name.startswith("system.") or name in UNCHECKED or name in TEST_COLLECTIONS))
    stored = await _all_documents(db, names)
    for name in names:
        schema = SCHEMAS.get(name)
        for doc in stored[name]:
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


async def _all_documents(db: Database, names: list[str], *,
                         at_most: int = ONE_REPLY_AT_MOST) -> dict[str, list[dict]]:
    """Every document of each collection in `names`: in one round trip from the test store
    (tests/store_template_server.py's `gemsLeftovers`) up to `at_most` documents, one `find`
    each beyond that and elsewhere (MongoDB)."""
    if not names:
        return {}
    try:
        reply = await db.raw.command({"gemsLeftovers": names, "atMost": at_most},
                                     codec_options=db.raw.codec_options)  # as `find` decodes
    except OperationFailure:
        return {name: await db.raw[name].find({}).to_list() for name in names}
    documents = reply["documents"]
    return {name: documents.get(name, []) for name in names}


def _append(path: str, seen: set[tuple[str, str, str]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.writelines(json.dumps({"c": c, "p": p, "t": t}) + "\n" for c, p, t in seen)
