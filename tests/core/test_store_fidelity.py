"""Pins the store behaviours the repositories rely on (embedded nx-27017 and MongoDB alike)."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import DuplicateKeyError

from economy.repos.base import count, find_docs, find_first


async def test_transaction_starting_with_a_write_is_atomic(store):
    col = store.db["fidelity"]
    await store.db.write(lambda: col.insert_one({"k": 1, "n": 0}))

    async def work(session):
        await col.update_one({"k": 1}, {"$inc": {"n": 1}}, session=session)
        await col.insert_one({"k": 2}, session=session)
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await store.db.transaction(work)
    assert (await find_first(col, {"k": 1}))["n"] == 0
    assert await count(col, {"k": 2}) == 0


async def test_duplicate_key_aborts_the_whole_transaction(store):
    col = store.db["fidelity"]
    await col.create_index([("g", 1), ("key", 1)], unique=True)
    await store.db.write(lambda: col.insert_one({"g": 1, "key": "a"}))

    async def work(session):
        await col.insert_one({"g": 1, "key": "b"}, session=session)
        await col.insert_one({"g": 1, "key": "a"}, session=session)

    with pytest.raises(DuplicateKeyError):
        await store.db.transaction(work)
    assert await count(col, {"g": 1}) == 1


async def test_guarded_decrement_under_concurrency(store):
    col = store.db["fidelity"]
    await store.db.write(lambda: col.insert_one({"k": "bal", "v": 100}))

    async def take():
        return await store.db.write(lambda: col.find_one_and_update(
            {"k": "bal", "v": {"$gte": 1}}, {"$inc": {"v": -1}}))

    results = await asyncio.gather(*[take() for _ in range(200)])
    assert sum(r is not None for r in results) == 100
    assert (await find_first(col, {"k": "bal"}))["v"] == 0


async def test_null_filter_matches_a_missing_field(store):
    col = store.db["fidelity"]
    await store.db.write(lambda: col.insert_one({"k": 1}))
    result = await store.db.write(lambda: col.update_one({"k": 1, "missing": None}, {"$set": {"x": 1}}))
    assert result.modified_count == 1


async def test_pipeline_reads_sort_skip_limit_and_count(store):
    col = store.db["fidelity"]
    await store.db.write(lambda: col.insert_many([{"g": 1, "v": i} for i in range(30)] + [{"g": 2, "v": 99}]))
    docs = await find_docs(col, {"g": 1}, sort={"v": -1}, skip=5, limit=3)
    assert [d["v"] for d in docs] == [24, 23, 22]
    assert await count(col, {"g": 1}) == 30
    assert await count(col, {"g": 1, "v": {"$gt": 25}}) == 4
    assert await count(col, {"g": 3}) == 0


async def test_datetimes_come_back_timezone_aware(store, clock):
    col = store.db["fidelity"]
    await store.db.write(lambda: col.insert_one({"at": clock.now()}))
    doc = await find_first(col, {})
    assert doc["at"] == clock.now() and doc["at"].tzinfo is not None


async def test_date_ranges_through_find(store, clock):
    col = store.db["fidelity"]
    now = clock.now()
    await store.db.write(lambda: col.insert_many([{"g": 1, "due": now}]))
    from datetime import timedelta

    assert await col.count_documents({"g": 1, "due": {"$lte": now}}) == 1
    assert await col.count_documents({"g": 1, "due": {"$lt": now}}) == 0
    assert await col.count_documents({"g": 1, "due": {"$gt": now - timedelta(seconds=1)}}) == 1
    assert await col.count_documents({"g": 1, "due": {"$gt": now}}) == 0


async def test_datetimes_written_inside_a_set_subdocument_keep_their_type(store, clock):
    col = store.db["fidelity"]
    await store.db.write(lambda: col.insert_one({"k": 1, "times": {"due": None}}))
    await store.db.write(lambda: col.update_one({"k": 1}, {"$set": {"times": {"due": clock.now()}}}))
    doc = await find_first(col, {"k": 1})
    assert doc["times"]["due"] == clock.now()
    assert await col.count_documents({"times.due": {"$lte": clock.now()}}) == 1


async def test_pipeline_or_after_the_other_conditions_keeps_them(store):
    """nx-27017 gap: in a pipeline `$match` whose FIRST key is `$or`, the keys after it are
    dropped (a guild_id equality listed after `$or` matched other guilds). Repositories put `$or`
    last, or alone; this pins the form that is correct on both stores."""
    col = store.db["fidelity_or"]
    await col.create_index([("g", 1), ("k", 1)])
    await store.db.write(lambda: col.insert_many(
        [{"g": 1, "k": 1}, {"g": 2, "k": 1}, {"g": 2, "k": 2, "v": 1}]))
    either = [{"v": {"$exists": False}}, {"k": 5}]
    docs = await find_docs(col, {"g": 1, "k": {"$gt": 0}, "$or": either}, sort={"k": 1},
                           limit=10)
    assert [(d["g"], d["k"]) for d in docs] == [(1, 1)]
