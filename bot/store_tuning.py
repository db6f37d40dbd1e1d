"""Removals of wasted work, and one type correction, inside the embedded store's child process
(bot.store_server).

Each speed tuning removes work whose result neosqlite throws away, so what the store answers is
the same; the type correction makes it store what MongoDB stores (last item below);
each is applied only when the library still has the shape it was written against, and is pinned
by tests/bot/test_store_tuning.py (same answers, and the waste measured gone).

- **The size estimate of every aggregate.** `AggregationCursor._execute` first estimates the
  result size, to choose memory-constrained processing when the optional `quez` package is
  installed; the estimate starts with `SELECT COUNT(1)` over the whole collection. Without
  `quez` the estimate is computed and ignored, yet it is the largest fixed cost of every pipeline
  on a big collection (~15 ms per aggregate at 670,000 keyword postings: a keyword search makes
  three). Without `quez` the estimate is skipped.
- **The deep copy of every inserted document.** `_internal_insert` deep-copies the document so it
  can set `_id` without touching the caller's dict, then `_convert_bytes_to_binary` rebuilds
  every dict and list of that copy anyway. The profiler put it at half of an insert (31.7 of
  58.7 s for 237,000 keyword postings, inflated by the profiler's cost per call); measured without
  the profiler, inserts are about 15 % slower with it (bench/store_tuning_bench.py). A shallow
  copy of the top level gives the same stored document and leaves the caller's nested values untouched all the
  same (they are rebuilt, never mutated). The caller's dict still gets the generated `_id` when it
  had none, as before.
- **The two conversion walks of every document.** nx-27017 turns BSON ObjectIds into neosqlite's
  (`convert_bson_to_neo_objectids`) and neosqlite turns bytes into Binary
  (`_convert_bytes_to_binary`), each a recursive call with several `isinstance` tests per value,
  scalars included: together 33 of 88 s profiled inserting 670,000 postings. Scalars (str, int,
  float, bool, None) are now returned without a call; every other value still goes through the
  library's own function.
- **Booleans and dates written by `$set` keep their type** (a correction, not a speed-up). The SQL
  tier of neosqlite's updates binds a `$set` scalar as an SQLite parameter inside `json_set`:
  SQLite has no boolean, so `True` is stored as the number 1, and Python's sqlite3 adapts a
  datetime to its ISO text, so a top-level or dotted date becomes a string. An inserted document
  keeps both types (it is serialised as JSON), and so does a `$set` of a whole subdocument. Every
  update of a stored document goes through `_internal_update`; after it, the bool and datetime
  values of `$set` are written once more with their JSON form (`json_set(data, path, json(?))`,
  the encoding inserts use), inside one SQLite savepoint with the update, so the document is never
  left with the number. Without it a database written by the embedded store changes meaning when
  moved to MongoDB (`{paid: false}` does not match 0 there; `{$ne: true}` matches 1).
- **The conversion walk of every reply.** nx-27017 passes every reply through
  `convert_neo_to_bson_objectids` before encoding it, a recursive call with several `isinstance`
  tests per value: 10.5 ms of a 3,333-leg day read as columns (23,000 integers), 2.0 ms with
  scalars returned without a call (the same fast path as above; the walk's one rule, a dict's
  `id` of 0 sent as Int64, is kept).
- **The measuring of a one-document batch.** Before replying, nx-27017 encodes each document of
  the first batch to BSON only to measure it (so a batch stays under 16 MB), then encodes the
  reply again; the first document always goes in, so for a batch of one (every `find_first`,
  every grouped read) the measure is thrown away: 4-5 ms of a rollup's day of columns (0.76 MB).
- **A thread hop per request.** nx-27017's request loop hands every request to a worker thread
  (`asyncio.to_thread`) and back: ~170 of ~450 µs of store CPU for a small find, update or insert
  (thread wake-ups, the GIL changing hands, the loop's self-pipe). The hop buys nothing here: the
  handler holds one lock per database for the whole request and never waits on another request,
  so requests to the bot's one database never overlapped anyway. Requests now run on the loop
  thread. What changes: requests to different databases no longer overlap (the bot uses one), and
  a long request (a rollup's day, ~0.7 s at 2 million legs) delays the driver's heartbeat by as
  much, far inside its 20 s timeout.
- **SQLite's page cache.** 2 MB by default, so index inserts into a collection of several hundred
  thousand documents re-read pages from the OS: 0.142 against 0.106 ms per posting at 300,000 with
  64 MiB (256 MiB was no faster).
"""

from __future__ import annotations

import asyncio
import inspect
import logging

log = logging.getLogger(__name__)


def _skip_unused_size_estimate() -> bool:
    from neosqlite.collection import aggregation_cursor

    cursor_class = getattr(aggregation_cursor, "AggregationCursor", None)
    if getattr(aggregation_cursor, "QUEZ_AVAILABLE", True) or cursor_class is None \
            or not hasattr(cursor_class, "_estimate_result_size"):
        return False

    def _estimate_result_size(self) -> int:  # the estimate only matters with quez
        return 0

    cursor_class._estimate_result_size = _estimate_result_size
    return True


class _ShallowCopied(dict):
    """A document whose `deepcopy` is a shallow copy (its nested values are rebuilt later)."""

    def __deepcopy__(self, memo: dict) -> dict:
        return dict(self)


def _insert_without_deep_copy() -> bool:
    from neosqlite.collection.query_helper import crud_operations, utils

    mixin = getattr(crud_operations, "CRUDOperationsMixin", None)
    original = getattr(mixin, "_internal_insert", None)
    # Only safe while the insert rebuilds the document's containers itself.
    if original is None or not hasattr(utils, "_convert_bytes_to_binary") \
            or "_convert_bytes_to_binary" not in original.__code__.co_names \
            or "deepcopy" not in original.__code__.co_names:
        return False

    def _internal_insert(self, document):
        if type(document) is not dict:
            return original(self, document)
        inserted_id = original(self, _ShallowCopied(document))
        if "_id" not in document:  # as the original does for the caller's dict
            document["_id"] = inserted_id
        return inserted_id

    mixin._internal_insert = _internal_insert
    return True


#: Leaf types every conversion walk returns unchanged (never ObjectId, bytes, dict or list).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _with_scalar_fast_path(original, *, cursor_id_zero: bool = False):
    """`original` (a recursive document conversion) that returns scalar leaves without a call.

    Plain dicts and lists are rebuilt here exactly as `original` rebuilds them; every other value
    (ObjectId, bytes, datetime, Decimal, dict/list subclasses) still goes to `original`, so the
    result is the same. `cursor_id_zero`: keep the rule of nx-27017's reply conversion that a
    dict's `id` equal to 0 (the cursor id) becomes Int64(0).
    """
    from bson.int64 import Int64

    def convert(value):
        kind = type(value)
        if kind is dict:
            out = {}
            for key, item in value.items():
                if cursor_id_zero and key == "id" and item == 0:
                    out[key] = Int64(0)
                elif type(item) in _SCALARS:
                    out[key] = item
                else:
                    out[key] = convert(item)
            return out
        if kind is list:
            return [v if type(v) in _SCALARS else convert(v) for v in value]
        return original(value)

    convert.__wrapped__ = original
    return convert


def _conversions_skip_scalars() -> bool:
    from neosqlite.collection.query_helper import utils as neo_utils
    from nx_27017 import utils as nx_utils

    # Both are imported inside the functions that call them, so the module attribute is what
    # every insert and filter conversion uses.
    names = ((nx_utils, "convert_bson_to_neo_objectids"),
             (neo_utils, "_convert_bytes_to_binary"))
    if any(not callable(getattr(module, name, None)) for module, name in names):
        return False
    for module, name in names:
        original = getattr(module, name)
        if not hasattr(original, "__wrapped__"):
            setattr(module, name, _with_scalar_fast_path(original))
    return True


def _replies_skip_scalars() -> bool:
    from nx_27017 import utils as nx_utils
    from nx_27017 import wire_protocol

    # Every reply is encoded through this module attribute (imported there under this name).
    original = getattr(wire_protocol, "_convert_objectids", None)
    expected = getattr(nx_utils, "convert_neo_to_bson_objectids", None)
    if original is None or getattr(original, "__wrapped__", original) is not expected:
        return False
    if not hasattr(original, "__wrapped__"):
        wire_protocol._convert_objectids = _with_scalar_fast_path(original, cursor_id_zero=True)
    return True


def _single_documents_unmeasured() -> bool:
    from nx_27017.handler import NeoSQLiteHandler

    original = NeoSQLiteHandler.__dict__.get("_fit_bson_budget")
    if not isinstance(original, staticmethod):
        return False
    fit = original.__func__
    if hasattr(fit, "__wrapped__"):
        return True

    def _fit_bson_budget(docs, *args, **kwargs):
        # The first document always goes in the batch: with one there is nothing to measure.
        if len(docs) <= 1:
            return list(docs), []
        return fit(docs, *args, **kwargs)

    _fit_bson_budget.__wrapped__ = fit
    NeoSQLiteHandler._fit_bson_budget = staticmethod(_fit_bson_budget)
    return True


#: SQLite page cache per database, in KiB (SQLite's default is 2,000 KiB).
PAGE_CACHE_KIB = 65_536


def _larger_page_cache() -> bool:
    from neosqlite.connection import Connection

    original = getattr(Connection, "_configure_connection", None)
    if original is None:
        return False

    def _configure_connection(self) -> None:
        original(self)
        self.db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")

    Connection._configure_connection = _configure_connection
    return True


#: `$set` values the SQL tier of neosqlite's updates stores with the wrong JSON type.
def _mistyped(value) -> bool:
    import datetime

    return isinstance(value, bool | datetime.datetime)


def _typed_set_values() -> bool:
    from neosqlite.collection import json_helpers, json_path_utils
    from neosqlite.collection.query_helper import QueryHelper, update_operations, utils
    from neosqlite.sql_utils import quote_table_name

    mixin = getattr(update_operations, "UpdateOperationsMixin", None)
    original = getattr(mixin, "_internal_update", None)
    # The shape this correction is written against: every update of a stored document goes
    # through `_internal_update(doc_id, update_spec, original_doc, ...)`, `doc_id` 0 being the
    # upsert draft that the caller inserts itself (and inserts keep types).
    needed = (getattr(json_helpers, "neosqlite_json_dumps", None),
              getattr(json_path_utils, "parse_json_path", None),
              getattr(utils, "_get_json_function", None))
    if original is None or any(f is None for f in needed) \
            or getattr(QueryHelper, "_internal_update", None) is not original \
            or original.__code__.co_varnames[:4] != ("self", "doc_id", "update_spec",
                                                     "original_doc") \
            or "_perform_enhanced_sql_update" not in original.__code__.co_names \
            or not hasattr(QueryHelper, "_get_integer_id_for_oid"):
        return False
    dumps, parse_json_path, json_function = needed

    def _internal_update(self, doc_id, update_spec, original_doc, *args, **kwargs):
        values = update_spec.get("$set") if doc_id != 0 else None
        fixes = [(path, value) for path, value in values.items()
                 if _mistyped(value) and "$" not in path] if isinstance(values, dict) else []
        if not fixes:
            return original(self, doc_id, update_spec, original_doc, *args, **kwargs)
        db = self.collection.db
        # One savepoint: the update and the correction commit together (or not at all), inside
        # a session's transaction as well as outside one.
        db.execute("SAVEPOINT gems_typed_set")
        try:
            updated, modified = original(self, doc_id, update_spec, original_doc,
                                         *args, **kwargs)
            clauses = ", ".join(f"'{parse_json_path(path)}', json(?)" for path, _ in fixes)
            set_function = json_function("set", self.jsonb.jsonb_supported)
            db.execute(
                f"UPDATE {quote_table_name(self.collection.name)} "
                f"SET data = {set_function}(data, {clauses}) WHERE id = ?",
                [dumps(value) for _, value in fixes] + [self._get_integer_id_for_oid(doc_id)])
        except BaseException:
            db.execute("ROLLBACK TO gems_typed_set")
            db.execute("RELEASE gems_typed_set")
            raise
        db.execute("RELEASE gems_typed_set")
        for path, value in fixes:  # the answer as stored (it was read back with the numbers)
            *parents, leaf = path.split(".")
            target = updated
            for part in parents:
                target = target.get(part) if isinstance(target, dict) else None
            if isinstance(target, dict) and leaf in target:
                target[leaf] = value
        return updated, modified

    _internal_update.__wrapped__ = original
    mixin._internal_update = _internal_update
    QueryHelper._internal_update = _internal_update
    return True


class _AsyncioWithoutThreadHop:
    """`asyncio` as nx-27017's request loop sees it: `to_thread(f, ...)` calls `f` right away."""

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    @staticmethod
    async def to_thread(func, /, *args, **kwargs):
        return func(*args, **kwargs)


def _requests_on_the_loop_thread() -> bool:
    from nx_27017 import server

    if isinstance(getattr(server, "asyncio", None), _AsyncioWithoutThreadHop):
        return True
    handle_client = getattr(server, "handle_client", None)
    # The shape this is written against: the loop coroutine offloads each request with
    # `asyncio.to_thread(handler.handle_..., msg)` through the module's `asyncio` name.
    if getattr(server, "asyncio", None) is not asyncio \
            or not inspect.iscoroutinefunction(handle_client) \
            or "to_thread" not in inspect.getsource(handle_client):
        return False
    server.asyncio = _AsyncioWithoutThreadHop()
    return True


TUNINGS = {
    "aggregate size estimate skipped (quez not installed)": _skip_unused_size_estimate,
    "inserts copy the document once, shallowly": _insert_without_deep_copy,
    "document conversions return scalars without a call": _conversions_skip_scalars,
    "replies convert scalars without a call": _replies_skip_scalars,
    "a batch of one document is not encoded to be measured": _single_documents_unmeasured,
    f"page cache {PAGE_CACHE_KIB // 1024} MiB per database": _larger_page_cache,
    "booleans and dates written by $set keep their type": _typed_set_values,
    "requests run on the loop thread (no thread hop)": _requests_on_the_loop_thread,
}


def apply(only: set[str] | None = None) -> list[str]:
    """Apply every tuning the installed neosqlite allows; returns the names of those applied.

    `only`: apply just these (the benches time the store with and without each one).
    """
    applied = []
    for name, tune in TUNINGS.items():
        if only is not None and name not in only:
            continue
        try:
            if tune():
                applied.append(name)
        except Exception:  # an unexpected library shape: serve untuned rather than not at all
            log.warning("store tuning %r not applied", name, exc_info=True)
    return applied
