"""The test suite's embedded store: bot.store_server, plus databases cloned from a template.

Migrating a database (every migration, ~211 index definitions) costs 0.5-1 s on the embedded
store; the suite used to do it for every test. Here the `store` fixture (tests/conftest.py)
migrates one database named TEMPLATE once per session (per xdist worker: each worker runs its own
server), and every in-memory database whose name starts with CLONE_PREFIX is born as a copy of
it, page for page, through SQLite's backup API (a few milliseconds): the same collections,
indexes and `_migrations` records a fresh migration would leave. Every other name is born empty,
as on the real server, so tests of migrations and of several databases are unaffected.

Run as `python -m tests.store_template_server` (EmbeddedServer(module=...)); same arguments as
bot.store_server.
"""

from __future__ import annotations

import sys

from nx_27017.handler import NeoSQLiteHandler

from bot import store_server

#: The database the session migrates once (then never writes again).
TEMPLATE = "gems_template"
#: Databases whose names start with this are created as copies of TEMPLATE.
CLONE_PREFIX = "tc_"


class TemplateHandler(NeoSQLiteHandler):
    """nx-27017's handler; a new in-memory CLONE_PREFIX database starts as a copy of TEMPLATE."""

    def _open_db_conn(self, db_name: str):
        conn = super()._open_db_conn(db_name)
        if self._mode == "memory" and db_name.startswith(CLONE_PREFIX):
            # Called under the handler's dict lock, so _conns is stable. The template is idle
            # (migrated before the first clone is asked for), so its pages are consistent.
            template = self._conns.get(TEMPLATE)
            if template is None:
                raise RuntimeError(f"{db_name}: migrate {TEMPLATE} before asking for clones")
            template.db.backup(conn.db)
        return conn


if __name__ == "__main__":
    sys.exit(store_server.main(handler_class=TemplateHandler))
