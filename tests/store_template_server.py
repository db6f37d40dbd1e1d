"""The test suite's embedded store: bot.store_server, plus databases cloned from a template.

Migrating a database (every migration, ~211 index definitions) costs 0.5-1 s on the embedded
store; the suite used to do it for every test. Here the `store` fixture (tests/conftest.py)
migrates one database named TEMPLATE once per session (per xdist worker: each worker runs its own
server), and every in-memory database named like `clone_name()` is born as a copy of
it, page for page, through SQLite's backup API (a few milliseconds): the same collections,
indexes and `_migrations` records a fresh migration would leave. Every other name is born empty,
as on the real server, so tests of migrations and of several databases are unaffected.

It also answers one command of its own, `{"gemsLeftovers": [collection, ...], "atMost": n}`: every
document of those collections in one reply (`{"documents": {collection: [...]}}`), read as `find`
reads them and encoded by the same reply path, so the leftover check after each test
(tests/schema_guard.py) costs one round trip instead of one per collection written. Above `atMost`
documents (default 10,000; one reply is at most 16 MB) it refuses, and the caller reads each
collection with `find`.

Run as `python -m tests.store_template_server` (EmbeddedServer(module=...)); same arguments as
bot.store_server.
"""

from __future__ import annotations

import re
import sys

from nx_27017.handler import NeoSQLiteHandler

from bot import store_server

#: The database the session migrates once (then never writes again).
TEMPLATE = "gems_template"
#: Databases named CLONE_PREFIX<pid>_<n>, exactly, are created as copies of TEMPLATE. Names
#: tests derive from them (`store.db.name + "_m"`, a database to migrate or import into) are
#: born empty.
CLONE_PREFIX = "tc_"
_CLONE = re.compile(re.escape(CLONE_PREFIX) + r"\d+_\d+")


def clone_name(pid: int, n: int) -> str:
    """The name of a database born as a copy of the template."""
    return f"{CLONE_PREFIX}{pid}_{n}"


class TemplateHandler(NeoSQLiteHandler):
    """nx-27017's handler; a new in-memory `clone_name()` database starts as a copy of TEMPLATE."""

    def _open_db_conn(self, db_name: str):
        conn = super()._open_db_conn(db_name)
        if self._mode == "memory" and _CLONE.fullmatch(db_name):
            # Called under the handler's dict lock, so _conns is stable. The template is idle
            # (migrated before the first clone is asked for), so its pages are consistent.
            template = self._conns.get(TEMPLATE)
            if template is None:
                raise RuntimeError(f"{db_name}: migrate {TEMPLATE} before asking for clones")
            template.db.backup(conn.db)
        return conn

    def handle_command(self, msg):
        body = next((doc for kind, doc in msg["sections"] if kind == "body"), None)
        if not isinstance(body, dict) or "gemsLeftovers" not in body:
            return super().handle_command(msg)
        db_name = body.get("$db", "test")
        at_most = int(body.get("atMost", 10_000))
        with self._lock_for(db_name):
            db = self.get_database(db_name)
            present = set(db.list_collection_names())
            names = [name for name in body["gemsLeftovers"] if name in present]
            if sum(db[name].count_documents({}) for name in names) > at_most:
                # One reply is one BSON document (16 MB at most): the caller reads each
                # collection with `find` instead.
                return msg["request_id"], {"ok": 0, "code": 2, "codeName": "BadValue",
                                           "errmsg": f"more than {at_most} documents"}
            documents = {name: list(db[name].find({})) for name in names}
        return msg["request_id"], {"ok": 1, "documents": documents}


if __name__ == "__main__":
    sys.exit(store_server.main(handler_class=TemplateHandler))
