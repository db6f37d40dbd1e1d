"""The embedded store's tunings (bot/store_tuning.py): same answers, the waste measured gone.

Each check runs neosqlite in a child Python process (the tunings patch the library's classes, as
they do in the store's own child process), first untuned and then tuned, against the same data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot import store_tuning
from bot.store import open_store

pytestmark = pytest.mark.slow  # each check runs neosqlite or a store in a child process

ROOT = Path(__file__).resolve().parents[2]

CHECK = textwrap.dedent(r'''
    import copy, datetime, json, sys
    from neosqlite import Connection
    from bot import store_tuning

    deep_dict_copies = 0
    _deep_dict = copy._deepcopy_dispatch[dict]
    def counting(*args):
        global deep_dict_copies
        deep_dict_copies += 1
        return _deep_dict(*args)
    copy._deepcopy_dispatch[dict] = counting

    def documents():
        when = datetime.datetime(2026, 11, 22, 9, 30, tzinfo=datetime.timezone.utc)
        return [
            {"_id": "a", "guild_id": 1, "term": "ruby", "w": {"ruby": 1, "gold": 1},
             "specs": [["metal", "gold"], {"carat": 2}], "blob": b"\x00\x01",
             "nested": {"deep": {"list": [1, {"x": b"\xff"}]}}, "at": when, "price": 10},
            {"guild_id": 1, "term": "gold", "w": {"gold": 1}, "price": 5},  # no _id
            {"_id": "c", "guild_id": 2, "term": "ruby", "w": {}, "price": 7},
        ]

    def run(tuned):
        global deep_dict_copies
        conn = Connection(":memory:")
        col = conn["postings"]
        col.create_index([("guild_id", 1), ("term", 1), ("price", 1)])
        docs = documents()
        before = copy.deepcopy(docs)
        deep_dict_copies = 0
        col.insert_many(docs)
        copies = deep_dict_copies
        generated = [d for d in docs if "_id" not in before[docs.index(d)]]
        unchanged = all({k: v for k, v in d.items() if k != "_id" or "_id" in b} == b
                        for d, b in zip(docs, before))
        statements = []
        conn.db.set_trace_callback(statements.append)
        pipelines = [
            [{"$match": {"guild_id": 1, "term": "ruby"}}, {"$sort": {"price": 1}},
             {"$limit": 10}],
            [{"$match": {"guild_id": 1}}, {"$limit": 1000}, {"$count": "n"}],
            [{"$match": {"guild_id": 1, "w.gold": 1}}, {"$sort": {"price": -1}}],
        ]
        answers = [list(col.aggregate(p)) for p in pipelines]
        conn.db.set_trace_callback(None)
        stored = sorted(col.find({}), key=lambda d: d["price"])
        for d in stored + [d for a in answers for d in a]:
            if d.get("term") == "gold":  # its generated _id differs run to run
                d["_id"] = "GEN"
        return {
            "stored": repr(stored), "answers": repr(answers),
            "deep_dict_copies": copies, "caller_unchanged": unchanged,
            "caller_got_generated_id": all("_id" in d for d in generated),
            "collection_counts": sum("COUNT(1)" in s for s in statements),
            "cache_size": conn.db.execute("PRAGMA cache_size").fetchone()[0],
        }

    def conversions():
        from bson import ObjectId, SON
        from nx_27017 import utils as nx_utils
        from neosqlite.collection.query_helper import utils as neo_utils
        oid = ObjectId("65a1b2c3d4e5f60718293a4b")
        sample = {"_id": oid, "n": 1, "f": 1.5, "t": True, "z": None, "s": "x", "b": b"\x01",
                  "list": [oid, 2, [b"\x02", {"o": oid}]], "son": SON([("o", oid), ("b", b"3")]),
                  "at": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)}
        out = []
        for convert in (nx_utils.convert_bson_to_neo_objectids, neo_utils._convert_bytes_to_binary):
            done = convert(sample)
            out.append(repr(done) + "|" + repr({k: type(v).__name__ for k, v in done.items()}))
        # A reply as nx-27017 encodes it: neosqlite ObjectIds and Decimals inside, cursor ids.
        from decimal import Decimal
        from bson.int64 import Int64
        from neosqlite.objectid import ObjectId as NeoObjectId
        from nx_27017 import wire_protocol
        neo = NeoObjectId(oid.binary)
        reply = {"cursor": {"id": 0, "ns": "db.c", "firstBatch": [
            {"_id": neo, "id": 0, "n": [1, 2, None, True, "s", 1.5], "d": Decimal("2.5"),
             "at": sample["at"], "deep": [{"id": False, "o": [neo]}, {"id": 0.0}],
             "big": Int64(7)}, {"_id": "k", "id": 3, "cols": [[1, 2], [neo]]}]}, "ok": 1}
        done = wire_protocol._convert_objectids(reply)
        out.append(repr(done) + "|" + repr(_types(done)))
        return out

    def batches():
        import bson
        from nx_27017.handler import NeoSQLiteHandler
        encodes = [0]
        original = bson.BSON.encode.__func__
        def counting(cls, *args, **kwargs):
            encodes[0] += 1
            return original(cls, *args, **kwargs)
        bson.BSON.encode = classmethod(counting)
        big = {"_id": "big", "cols": list(range(300_000))}  # about 3.4 MB
        cases = [[], [big], [{"a": 1}, {"b": 2}], [big] * 6]
        found = [repr(NeoSQLiteHandler._fit_bson_budget(docs)) for docs in cases]
        found.append(repr(NeoSQLiteHandler._fit_bson_budget([big] * 3, 8_000_000)))
        bson.BSON.encode = classmethod(original)
        return {"answers": found, "single_encodes": encodes[0]}

    def _types(value):
        if isinstance(value, dict):
            return {k: _types(v) for k, v in value.items()}
        if isinstance(value, list):
            return [_types(v) for v in value]
        return type(value).__name__

    untuned = run(False)
    untuned["conversions"] = conversions()
    untuned["batches"] = batches()
    applied = store_tuning.apply()
    tuned = run(True)
    tuned["conversions"] = conversions()
    tuned["batches"] = batches()
    print(json.dumps({"untuned": untuned, "tuned": tuned, "applied": applied}))
''')


@pytest.fixture(scope="module")
def report() -> dict:
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_tuning_applies_to_the_installed_library(report):
    # A neosqlite upgrade that changes a patched shape makes this fail (not a silent slowdown).
    assert report["applied"] == list(store_tuning.TUNINGS)


def test_the_store_answers_the_same_tuned(report):
    untuned, tuned = report["untuned"], report["tuned"]
    assert tuned["stored"] == untuned["stored"]
    assert tuned["answers"] == untuned["answers"]
    assert "b'\\x00\\x01'" in tuned["stored"] or "x00" in tuned["stored"]  # bytes kept


def test_conversion_walks_give_the_same_documents(report):
    assert report["tuned"]["conversions"] == report["untuned"]["conversions"]
    assert "ObjectId" in report["tuned"]["conversions"][0]


def test_a_batch_of_one_is_no_longer_encoded_to_be_measured(report):
    untuned, tuned = report["untuned"]["batches"], report["tuned"]["batches"]
    assert tuned["answers"] == untuned["answers"]  # the same batches, the 16 MB cut included
    assert "'big'" in tuned["answers"][1]
    # Untuned: one encode for the single document, 2 + 5 (the sixth passes 16 MB) + 3 more.
    assert untuned["single_encodes"] == 1 + 2 + 5 + 3
    assert tuned["single_encodes"] == untuned["single_encodes"] - 1


def test_inserts_no_longer_deep_copy_and_leave_the_callers_document_alone(report):
    untuned, tuned = report["untuned"], report["tuned"]
    assert untuned["deep_dict_copies"] > 0  # the waste, as measured untuned
    assert tuned["deep_dict_copies"] == 0
    for run in (untuned, tuned):
        assert run["caller_unchanged"]
        assert run["caller_got_generated_id"]  # as before: the caller's dict learns its _id


def test_aggregates_no_longer_count_the_collection(report):
    assert report["untuned"]["collection_counts"] >= 3  # one per aggregate
    assert report["tuned"]["collection_counts"] == 0


def test_databases_get_the_larger_page_cache(report):
    assert report["untuned"]["cache_size"] == -2000  # SQLite's default
    assert report["tuned"]["cache_size"] == -store_tuning.PAGE_CACHE_KIB


async def test_the_embedded_store_runs_tuned():
    store = await open_store(mongodb_uri=None, database_name="tuning", data_dir="memory")
    async with store:
        await store.db["x"].insert_one({"_id": 1})
        logged = (store.server.run_dir / "nx-27017.log").read_text()
    for name in store_tuning.TUNINGS:
        assert f"store tuning: {name}" in logged


TYPES = textwrap.dedent(r'''
    import datetime, json
    from neosqlite import Connection
    from bot import store_tuning

    WHEN = datetime.datetime(2026, 11, 22, 9, 30, tzinfo=datetime.timezone.utc)

    def run():
        conn = Connection(":memory:")
        col = conn["flags"]
        col.insert_one({"_id": "a", "paid": False, "sub": {"n": 1}, "version": 1})
        col.update_one({"_id": "a", "paid": False},  # the SQL tier, with another operator
                       {"$set": {"paid": True, "sub.ok": False, "at": WHEN, "sub.at": WHEN},
                        "$inc": {"version": 1}})
        col.find_one_and_update({"_id": "b"}, {"$set": {"reminded": True, "at": WHEN}},
                                upsert=True)  # findAndModify's upsert: insert, then $set
        answer = col.find_one_and_update({"_id": "a"}, {"$set": {"paid": False}},
                                         return_document=True)
        stored = {row[0]: json.loads(row[1])
                  for row in conn.db.execute("SELECT _id, json(data) FROM flags")}
        return {"stored": stored, "answer_paid": repr(answer["paid"]),
                "found": repr(col.find_one({"_id": "b"}))}

    untuned = run()
    applied = store_tuning.apply({"booleans and dates written by $set keep their type"})
    print(json.dumps({"untuned": untuned, "tuned": run(), "applied": applied}))
''')


@pytest.fixture(scope="module")
def types_report() -> dict:
    out = subprocess.run([sys.executable, "-c", TYPES], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_untuned_set_stores_booleans_as_numbers_and_dates_as_text(types_report):
    # The library's behaviour the correction exists for; if an upgrade fixes it, drop the tuning.
    stored = types_report["untuned"]["stored"]
    assert stored["a"]["paid"] == 0 and stored["a"]["paid"] is not False
    assert stored["a"]["sub"]["ok"] == 0 and stored["a"]["sub"]["ok"] is not False
    assert stored["b"]["reminded"] == 1 and stored["b"]["reminded"] is not True
    assert isinstance(stored["a"]["at"], str) and isinstance(stored["b"]["at"], str)


def test_tuned_set_and_upsert_keep_booleans_and_dates(types_report):
    assert types_report["applied"] == ["booleans and dates written by $set keep their type"]
    stored = types_report["tuned"]["stored"]
    assert stored["a"]["paid"] is False and stored["a"]["sub"]["ok"] is False
    assert stored["b"]["reminded"] is True
    for date in (stored["a"]["at"], stored["a"]["sub"]["at"], stored["b"]["at"]):
        assert date == {"$date": "2026-11-22T09:30:00+00:00"}  # the form an insert stores
    assert stored["a"]["version"] == 2 and stored["a"]["sub"]["n"] == 1  # the rest applied
    assert types_report["tuned"]["answer_paid"] == "False"  # the answer as stored
    assert "datetime.datetime(2026, 11, 22, 9, 30" in types_report["tuned"]["found"]


async def test_the_embedded_store_keeps_booleans_written_by_set_and_upsert():
    from datetime import UTC, datetime

    from pymongo import ReturnDocument

    store = await open_store(mongodb_uri=None, database_name="types", data_dir="memory")
    async with store:
        col = store.db["flags"]
        await col.insert_one({"_id": 1, "paid": False})
        await col.update_one({"_id": 1, "paid": False}, {"$set": {"paid": True}})
        await col.find_one_and_update({"_id": 2}, {"$set": {"announced": True}}, upsert=True,
                                      return_document=ReturnDocument.AFTER)
        when = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
        await col.update_one({"_id": 1}, {"$set": {"due": when}})
        docs = {d["_id"]: d for d in await col.find({}).to_list()}
    assert docs[1]["paid"] is True and docs[2]["announced"] is True
    assert isinstance(docs[1]["due"], datetime)


THREADS = textwrap.dedent(r'''
    import asyncio, json, tempfile, threading
    from pathlib import Path
    from urllib.parse import quote
    from pymongo import MongoClient
    from nx_27017.handler import NeoSQLiteHandler
    from nx_27017.server import handle_client
    from bot import store_tuning

    class Recording(NeoSQLiteHandler):
        """Notes the thread every request is handled on."""
        threads = set()
        def handle_command(self, msg):
            self.threads.add(threading.get_ident())
            return super().handle_command(msg)
        def handle_insert(self, msg):
            self.threads.add(threading.get_ident())
            return super().handle_insert(msg)

    def ask(path):
        with MongoClient("mongodb://" + quote(path, safe=""), serverSelectionTimeoutMS=5000) as c:
            c["d"]["x"].insert_one({"_id": 1, "n": 1})
            c["d"]["x"].update_one({"_id": 1}, {"$inc": {"n": 1}})
            return repr(c["d"]["x"].find_one({"_id": 1}))

    async def run():
        Recording.threads = set()
        path = str(Path(tempfile.mkdtemp()) / "store.sock")
        handler = Recording(":memory:", data_dir="memory")
        server = await asyncio.start_unix_server(
            lambda reader, writer: handle_client(reader, writer, handler), path=path)
        async with server:
            answer = await asyncio.to_thread(ask, path)
        return {"answer": answer,
                "on_loop_thread": Recording.threads == {threading.get_ident()}}

    untuned = asyncio.run(run())
    applied = store_tuning.apply({"requests run on the loop thread (no thread hop)"})
    print(json.dumps({"untuned": untuned, "tuned": asyncio.run(run()), "applied": applied}))
''')


def test_requests_are_handled_on_the_loop_thread_with_the_same_answers():
    out = subprocess.run([sys.executable, "-c", THREADS], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["applied"] == ["requests run on the loop thread (no thread hop)"]
    assert not report["untuned"]["on_loop_thread"]  # nx-27017 hops to a worker thread
    assert report["tuned"]["on_loop_thread"]
    assert report["tuned"]["answer"] == report["untuned"]["answer"] == "{'_id': 1, 'n': 2}"
