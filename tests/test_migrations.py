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


async def test_0015_flags_rsvps_that_were_used_for_a_check_in(store):
    import importlib
    up = importlib.import_module("migrations.0015_rsvp_checked_in").up
    raw = store.db.raw
    await raw["event_rsvps"].insert_many([{"_id": "1:1:5", "user_id": 5},
                                          {"_id": "1:1:6", "user_id": 6},
                                          {"_id": "1:1:7", "user_id": 7, "checked_in": True}])
    await raw["event_attendance"].insert_one({"_id": "1:1:5", "user_id": 5})
    await up(raw)
    await up(raw)  # re-runnable
    flags = {d["_id"]: bool(d["checked_in"]) async for d in raw["event_rsvps"].find({})}
    assert flags == {"1:1:5": True, "1:1:6": False, "1:1:7": True}
