"""Migrations are discovered in order, applied once, and recorded."""

from __future__ import annotations

from economy.core.actor import Actor
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator, discover


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


async def test_0016_indexes_the_gift_queue_and_its_schema_is_the_declared_one(store):
    """The sweep's two reads have their indexes; re-runnable on a collection that already holds
    notices; the frozen validator equals the declaration it was written from."""
    import importlib

    from economy.repos.schemas import validator
    migration = importlib.import_module("migrations.0016_gift_notices")
    raw = store.db.raw
    await raw["gift_notices"].insert_one({"_id": "1:5:1", "guild_id": 1, "user_id": 5,
                                          "sender_id": 6, "amount": 10, "note": None,
                                          "at_ms": 1, "due_ms": 2})
    await migration.up(raw)
    await migration.up(raw)  # re-runnable
    keys = {tuple(k for k, _ in info["key"])
            for info in (await raw["gift_notices"].index_information()).values()}
    assert {("due_ms",), ("guild_id", "user_id", "at_ms")} <= keys
    assert validator("gift_notices") == migration.VALIDATOR


async def test_0004_writes_postings_through_the_transaction_helper(store, monkeypatch):
    """Its backfill commits like every other transaction (retries, majority on MongoDB), not
    through a bare `with_transaction`."""
    import importlib

    from bson import ObjectId

    from economy.repos.base import MAJORITY, Database

    m0004 = importlib.import_module("migrations.0004_listing_terms")
    concerns = []
    original = Database.transaction

    async def spy(self, work):
        concerns.append(None if self.serializes_writes else MAJORITY)
        return await original(self, work)

    monkeypatch.setattr(Database, "transaction", spy)
    posting = {"_id": "p1", "guild_id": 1, "term": "ring", "lid": ObjectId()}
    await m0004._replace(store.db.raw, [posting], delete=True)
    assert concerns == [MAJORITY]
    assert await store.db["listing_terms"].count_documents({"_id": "p1"}) == 1


async def test_0014_backfills_one_place_per_holder(services, clock):
    """Places for what holds one today, numbered per owner; the audit then finds them exact."""
    import importlib

    from economy.core.audit import audit

    m0014 = importlib.import_module("migrations.0014_cap_slots")
    ms, g = services.marketplace, 77
    await services.settings.set(g, Actor.system(), "offer_cooldown_seconds", "0")
    drafts = [await ms.listings.create_draft(g, 5, category="rings", condition="new",
                                    title="Blue sapphire ring", description="A lovely ring.",
                                    price_gems=500) for _ in range(3)]
    await ms.listings.publish(g, 5, drafts[0].listing_id)
    await ms.listings.withdraw(g, 5, drafts[0].listing_id)  # holds none any more
    await services.trades.offer(g, 5, 6, 10, "a thing")
    await ms.watch.add_alert(g, 6, keywords="ruby", category=None, max_price_gems=None)
    db = services.db
    await db["cap_slots"].delete_many({})  # as before 0014
    await db["counters"].insert_one({"_id": f"{g}:pay_open:6", "open": 1})
    assert not (await audit(services.db)).ok
    await m0014.up(db.raw)
    await m0014.up(db.raw)  # re-runnable
    places = await db["cap_slots"].find({"guild_id": g}).to_list()
    assert sorted((p["kind"], p["owner"], p["n"]) for p in places) == [
        ("alert", 6, 1), ("listing", 5, 1), ("listing", 5, 2), ("offer", 6, 1)]
    assert await db["counters"].count_documents({"_id": f"{g}:pay_open:6"}) == 0
    report = await audit(services.db)
    assert report.ok, report.render()


#: What a migration may import from the live code (migrations/README.md): storage
#: infrastructure only; feature logic is kept as a frozen copy in migrations/_frozen/.
MIGRATION_IMPORTS = {"economy.repos.base", "economy.repos.paging", "economy.core.migrations",
                     "economy.repos.schemas"}


def test_migrations_import_only_infrastructure():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "migrations"
    assert sorted(root.glob("0*.py")), root  # the folder this test reads (it moved once)
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name.split(".")[0] in ("economy", "bot", "cogs"):
                    assert name in MIGRATION_IMPORTS, f"{path.name} imports {name}"
        if path.name.startswith("0013"):
            continue
        assert "economy.repos.schemas" not in path.read_text(), path.name


async def test_0023_indexes_collectibles_and_its_schema_is_the_declared_one(store):
    """An edition by (badge, serial) and a collectible's moves have their indexes; re-runnable;
    the frozen validator of `badge_transfers` equals its declaration."""
    import importlib

    from economy.repos.schemas import validator
    migration = importlib.import_module("migrations.0023_collectibles")
    raw = store.db.raw
    await raw["badge_transfers"].insert_one({
        "_id": "1:trade:5", "guild_id": 1, "award_id": "1:c1#1", "badge": "c1", "serial": 1,
        "from_id": 5, "to_id": 6, "trade_id": 5, "listing_id": 3, "at_ms": 1})
    await migration.up(raw)
    await migration.up(raw)  # re-runnable
    keys = {tuple(k for k, _ in info["key"])
            for info in (await raw["badge_transfers"].index_information()).values()}
    assert {("guild_id", "award_id", "at_ms"), ("guild_id", "from_id"),
            ("guild_id", "to_id")} <= keys
    keys = {tuple(k for k, _ in info["key"])
            for info in (await raw["badge_awards"].index_information()).values()}
    assert ("guild_id", "badge", "serial") in keys
    assert validator("badge_transfers") == migration.VALIDATOR


async def test_0024_indexes_the_running_boosts(store):
    """A results page reads the running boosts by (guild_id, status, boosted_until_ms); the
    migration is re-runnable and its read finds only listings boosted after now."""
    import importlib

    from economy.marketplace.repo import ListingRepo
    migration = importlib.import_module("migrations.0024_listing_boosts")
    raw = store.db.raw
    await raw["listings"].insert_many([
        {"guild_id": 1, "listing_id": 1, "status": "active", "boosted_until_ms": 500},
        {"guild_id": 1, "listing_id": 2, "status": "active", "boosted_until_ms": 50},
        {"guild_id": 1, "listing_id": 3, "status": "active"},
        {"guild_id": 1, "listing_id": 4, "status": "sold", "boosted_until_ms": 900},
        {"guild_id": 2, "listing_id": 1, "status": "active", "boosted_until_ms": 900}])
    await migration.up(raw)
    await migration.up(raw)  # re-runnable
    keys = {tuple(k for k, _ in info["key"])
            for info in (await raw["listings"].index_information()).values()}
    assert ("guild_id", "status", "boosted_until_ms") in keys
    found = await ListingRepo(store.db).boosted(1, 100, limit=10)
    assert [d["listing_id"] for d in found] == [1]
    await raw["listings"].delete_many({})
