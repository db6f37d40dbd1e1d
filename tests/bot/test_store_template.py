"""The suite's per-test databases: copies of one migrated template (tests/store_template_server.py)
must be exactly what migrating a fresh database gives, and independent of each other."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot.store import _client
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.repos.base import Database
from tests.store_template_server import CLONE_PREFIX, clone_name

pytestmark = pytest.mark.timeout(60)


async def _shape(db: Database) -> dict[str, list]:
    shape = {}
    for name in sorted(await db.raw.list_collection_names()):
        indexes = [{k: v for k, v in ix.items() if k != "ns"}
                   async for ix in await db.raw[name].list_indexes()]
        shape[name] = sorted(indexes, key=repr)
    return shape


async def test_a_clone_is_a_freshly_migrated_database(store, mongo_uri):
    uri, embedded = mongo_uri
    if not embedded:
        pytest.skip("clones exist on the embedded store only")
    assert store.db.name.startswith(CLONE_PREFIX)
    client = _client(uri)
    fresh = Database(client, "fresh_for_template_check", write_lock=asyncio.Lock())
    try:
        assert await fresh.raw.list_collection_names() == []  # other names are born empty
        await Migrator(fresh, ManualClock()).apply_pending()
        expected = await _shape(fresh)
        assert len(expected) > 20 and sum(map(len, expected.values())) > 100
        assert await _shape(store.db) == expected
        assert await Migrator(store.db, ManualClock()).pending() == []
        migrated = [d async for d in fresh.raw["_migrations"].find({}, {"finished_at": 0})]
        cloned = [d async for d in store.db.raw["_migrations"].find({}, {"finished_at": 0})]
        assert cloned == migrated
    finally:
        await client.drop_database("fresh_for_template_check")
        await client.close()


async def test_clones_do_not_share_documents(store, mongo_uri):
    uri, embedded = mongo_uri
    if not embedded:
        pytest.skip("clones exist on the embedded store only")
    await store.db.raw["accounts"].insert_one({"guild_id": 1, "user_id": 2, "balance": 0,
                                                "held": 0})
    client = _client(uri)
    other, derived = clone_name(os.getpid(), 10**9), store.db.name + "_import"
    try:
        assert await client[other]["accounts"].count_documents({}) == 0
        assert await client[other]["_migrations"].count_documents({}) > 0
        # A name derived from a clone's (a database to migrate or import into) is born empty.
        assert await client[derived].list_collection_names() == []
    finally:
        for name in (other, derived):
            await client.drop_database(name)
        await client.close()
