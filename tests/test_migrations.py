"""Migrations are discovered in order, applied once, and recorded."""

from __future__ import annotations

from economy.clock import ManualClock
from economy.migrations import Migrator, discover


def test_discover_orders_versions():
    versions = [m.version for m in discover()]
    assert versions == sorted(versions) and versions[0] == "0001"


async def test_apply_is_recorded_and_idempotent(store):
    fresh = store.database(store.db.name + "_m")
    migrator = Migrator(fresh, ManualClock())
    assert [m.version for m in await migrator.pending()] == [m.version for m in discover()]
    applied = await migrator.apply_pending()
    assert applied and await migrator.pending() == []
    assert await migrator.apply_pending() == []
    recorded = await migrator.applied()
    assert all(doc["status"] == "done" for doc in recorded.values())
    indexes = await fresh["ledger"].index_information()
    assert any(info.get("unique") for info in indexes.values() if info["key"][0][0] == "guild_id")
    await store.client.drop_database(fresh.name)
