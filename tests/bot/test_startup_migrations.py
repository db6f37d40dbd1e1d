"""Migrations at start-up: embedded applies (backup first when it holds data); MongoDB refuses
unless AUTO_MIGRATE, and then only the holder of the migrations lease applies them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import textwrap

import pytest

from bot.settings import Settings
from bot.startup_errors import StartupError
from bot.startup_migrations import MIGRATIONS_LEASE, ensure_migrated
from bot.store import Store, open_store
from economy.core.clock import SystemClock
from economy.core.migrations import Migrator, discover

pytestmark = pytest.mark.timeout(90)

_packages = itertools.count()
MONGO = "mongodb://db.example/?replicaSet=rs0"  # settings only: the store is the test's


def _slow_package(tmp_path, seconds: float) -> str:
    """A migrations package with one migration that takes `seconds` and counts its runs."""
    name = f"slow_migrations_{next(_packages)}"
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("RUNS = []\n")
    (pkg / "9001_slow.py").write_text(textwrap.dedent(f"""
        import asyncio
        from {name} import RUNS

        async def up(db):
            RUNS.append(1)
            await asyncio.sleep({seconds})
            await db["slow_things"].create_index("x")
    """))
    if str(tmp_path) not in sys.path:
        sys.path.insert(0, str(tmp_path))
    return name


def _mongo_settings(**values) -> Settings:
    return Settings(_env_file=None, mongodb_uri=MONGO, lease_seconds=1, **values)


async def test_mongodb_refuses_without_auto_migrate_and_names_the_command(store, tmp_path):
    package = _slow_package(tmp_path, 0)
    with pytest.raises(StartupError) as refused:
        await ensure_migrated(store, _mongo_settings(), SystemClock(), package=package)
    assert "9001_slow" in str(refused.value) and "`./gems migrate`" in str(refused.value)
    assert "AUTO_MIGRATE=true" in str(refused.value)
    # An explicit AUTO_MIGRATE=false also stops the embedded store from migrating at start.
    embedded_off = Settings(_env_file=None, data_dir="memory", auto_migrate=False)
    with pytest.raises(StartupError, match="AUTO_MIGRATE=false"):
        await ensure_migrated(store, embedded_off, SystemClock(), package=package)


@pytest.mark.slow  # a 1 s wall-clock migration the others wait out
async def test_only_the_lease_holder_migrates_the_others_wait(store, tmp_path, caplog):
    package = _slow_package(tmp_path, 1.0)
    settings = _mongo_settings(auto_migrate=True)
    with caplog.at_level(logging.INFO, logger="gems"):
        results = await asyncio.gather(*(
            ensure_migrated(store, settings, SystemClock(), package=package, owner=f"proc-{i}",
                            poll_seconds=0.1)
            for i in range(3)))
    assert sys.modules[package].RUNS == [1]  # applied once
    assert sorted(map(len, results)) == [0, 0, 1]
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert len(waits) == 2 and all("holds the migrations lease" in w for w in waits)
    assert await Migrator(store.db, SystemClock(), package).pending() == []
    lease = await store.db["leases"].find_one({"_id": MIGRATIONS_LEASE})
    assert lease["released"]  # handed back at once


async def test_a_waiter_gives_up_with_a_clear_line_while_the_holder_is_stuck(store, tmp_path):
    package = _slow_package(tmp_path, 0)
    now_ms = int(SystemClock().now().timestamp() * 1000)
    await store.db["leases"].insert_one({"_id": MIGRATIONS_LEASE, "owner": "host:4242:stuck",
                                         "token": 1, "expires_at": now_ms + 600_000})
    with pytest.raises(StartupError) as gave_up:
        await ensure_migrated(store, _mongo_settings(auto_migrate=True), SystemClock(),
                              package=package, wait_seconds=0.5, poll_seconds=0.1)
    assert "host:4242:stuck" in str(gave_up.value) and "./gems migrate" in str(gave_up.value)
    assert sys.modules[package].RUNS == []


async def test_the_lease_of_a_dead_holder_runs_out_and_a_waiter_migrates(store, tmp_path):
    package = _slow_package(tmp_path, 0)
    now_ms = int(SystemClock().now().timestamp() * 1000)
    await store.db["leases"].insert_one({"_id": MIGRATIONS_LEASE, "owner": "host:1:killed",
                                         "token": 3, "expires_at": now_ms + 300})
    applied = await ensure_migrated(store, _mongo_settings(auto_migrate=True), SystemClock(),
                                    package=package, poll_seconds=0.1)
    assert applied == ["9001_slow"] and sys.modules[package].RUNS == [1]


@pytest.mark.slow
async def test_embedded_backs_up_a_database_in_use_before_migrating(tmp_path, caplog):
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data)
    last = discover()[-1]
    store: Store = await open_store(mongodb_uri=None, database_name="gems", data_dir=data)
    try:
        migrator = Migrator(store.db, SystemClock())
        await migrator.apply_pending(only={m.version for m in discover()} - {last.version})
        await store.db["accounts"].insert_one({"guild_id": 1, "user_id": 2, "balance": 5})
        with caplog.at_level(logging.INFO, logger="gems"):
            applied = await ensure_migrated(store, settings, SystemClock())
    finally:
        await store.close()
    assert applied == [f"{last.version}_{last.name}"]
    (copy,) = (data / "backups").glob("*/gems.db")
    lines = [r.getMessage() for r in caplog.records if "backed up" in r.getMessage()]
    assert len(lines) == 1 and str(copy) in lines[0] and last.version in lines[0]
    # The copy is the state before the migration, with the data in it.
    old: Store = await open_store(mongodb_uri=None, database_name="gems", data_dir=copy.parent)
    try:
        assert await old.db["accounts"].find_one({"user_id": 2})
        assert [m.version for m in await Migrator(old.db, SystemClock()).pending()] == [last.version]
    finally:
        await old.close()


@pytest.mark.slow
async def test_embedded_fresh_database_migrates_without_a_backup(tmp_path, caplog):
    data = tmp_path / "data"
    store: Store = await open_store(mongodb_uri=None, database_name="gems", data_dir=data)
    try:
        with caplog.at_level(logging.INFO, logger="gems"):
            applied = await ensure_migrated(store, Settings(_env_file=None, data_dir=data),
                                            SystemClock())
    finally:
        await store.close()
    assert len(applied) == len(discover())
    assert not (data / "backups").exists()
    assert any("database migrated" in r.getMessage() for r in caplog.records)


def test_auto_migrate_unset_means_embedded_yes_mongodb_no():
    for value, embedded, mongodb in (("", True, False), ("false", False, False),
                                     ("true", True, True)):
        assert Settings(_env_file=None, auto_migrate=value).migrates_at_start is embedded
        assert _mongo_settings(auto_migrate=value).migrates_at_start is mongodb
    assert Settings(_env_file=None).migrates_at_start and not _mongo_settings().migrates_at_start
