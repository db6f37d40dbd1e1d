"""Export -> import round trips (exact BSON types, audit), refusals, and the live backup."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from bson import Binary, Int64, ObjectId, json_util
from bson.json_util import CANONICAL_JSON_OPTIONS

from bot.backup import backup_embedded
from bot.settings import Settings
from bot.store import open_store
from bot.tools import run_tool
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.dump import DumpService, decode, encode
from economy.core.errors import InvalidInput
from economy.repos.base import Database
from economy.repos.dump_repo import DumpRepo
from economy.services import build_services

pytestmark = pytest.mark.timeout(90)

GUILD, OTHER = 111, 222


async def _populate(services, clock) -> None:
    ledger = services.ledger
    for guild in (GUILD, OTHER):
        await ledger.grant(guild, Actor(1, is_admin=True), 10, 1_000, reason="seed", key=f"seed:{guild}")
        await ledger.transfer(guild, 10, 11, 250, key=f"t:{guild}", note="thanks")
        await services.settings.set(guild, Actor(1, is_admin=True), "currency_name", "Shards")
        await services.trades.offer(guild, 10, 11, 5, "A pebble")  # a per-guild counter
    await ledger.hold(GUILD, 10, 100, key="hold:1", ref="trade:1")
    clock.advance(days=1)
    await services.db.write(lambda: services.db["probe_types"].insert_one({
        "guild_id": GUILD, "big": Int64(2**40), "small_long": Int64(7), "small": 7,
        "at": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), "oid": ObjectId(),
        "bin": Binary(b"\x00\x01gems"),
        "nested": {"list": [1, "two", {"three": 3.5}], "none": None}}))


async def _dump(db: Database, guild: int | None = None) -> list[str]:
    return [line async for line in DumpService(DumpRepo(db), ManualClock()).export_lines(guild)]


async def _canonical(db: Database) -> dict[str, list[str]]:
    """Every document as type-exact canonical JSON (keys sorted: pymongo writes `_id` first on
    insert, where an upsert on the embedded store left it last), per collection."""
    repo = DumpRepo(db)
    return {name: sorted([json_util.dumps(doc, json_options=CANONICAL_JSON_OPTIONS,
                                          sort_keys=True) async for doc in repo.documents(name)])
            for name in await repo.collection_names()}


@pytest.fixture
async def empty_db(store):
    """A second, never-migrated database on the same deployment."""
    name = f"{store.db.name}_copy"
    yield store.database(name)
    await store.client.drop_database(name)


async def test_export_import_round_trip_is_exact_and_audits(store, services, clock, empty_db):
    await _populate(services, clock)
    before = await audit(services.db)
    assert before.ok
    lines = await _dump(store.db)
    header = decode(lines[0])
    assert header["migrations"] == sorted(header["migrations"]) and "0001" in header["migrations"]

    result = await DumpService(DumpRepo(empty_db), clock).import_lines(lambda: lines)
    assert result.audit is not None and result.audit.ok, result.audit.render()
    assert result.audit.accounts == before.accounts
    assert result.migrations_applied_after == []
    assert await _canonical(empty_db) == await _canonical(store.db)
    probe = await empty_db["probe_types"].find_one({})
    assert isinstance(probe["big"], Int64) and probe["big"] == 2**40
    assert probe["at"] == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert probe["bin"] == b"\x00\x01gems"
    # The indexes came with the migrations: a replayed key is still refused by the copy.
    copy = build_services(empty_db, clock)
    replay = await copy.ledger.transfer(GUILD, 10, 11, 250, key=f"t:{GUILD}", note="thanks")
    assert replay.replayed


async def test_import_refuses_a_non_empty_database_and_damaged_files(store, services, clock,
                                                                     empty_db):
    await _populate(services, clock)
    lines = await _dump(store.db)
    service = DumpService(DumpRepo(empty_db), clock)
    for damaged, why in [(lines[:-1], "truncated"), (lines[:3] + lines[4:], "counts"),
                         (["{not json"], "not valid JSON"), ([], "empty"),
                         (['{"hello": 1}'], "not a GEMS export")]:
        with pytest.raises(InvalidInput, match=why):
            await service.import_lines(lambda d=damaged: d)
    assert await _canonical(empty_db) == {}  # nothing written by a refused import
    newer = decode(lines[0]) | {"migrations": [*decode(lines[0])["migrations"], "9999"]}
    with pytest.raises(InvalidInput, match="newer GEMS"):
        await service.import_lines(lambda: [encode(newer), *lines[1:]])

    with pytest.raises(InvalidInput, match="not empty"):
        await DumpService(DumpRepo(store.db), clock).import_lines(lambda: lines)


async def test_guild_export_holds_only_that_guild(store, services, clock, empty_db):
    await _populate(services, clock)
    lines = await _dump(store.db, OTHER)
    docs = [decode(line) for line in lines[1:-1]]
    assert docs and all(d["d"].get("guild_id") == OTHER or d["d"]["_id"].startswith(f"{OTHER}:")
                        for d in docs)
    assert {"c": "counters", "d": {"_id": f"{OTHER}:trades", "seq": 1}} in docs
    result = await DumpService(DumpRepo(empty_db), clock).import_lines(lambda: lines)
    assert result.audit.ok and result.audit.guilds == 1
    assert await build_services(empty_db, clock).ledger.balance(OTHER, 11) == 250


def _cli(args, tmp_path, **env):
    # PYTHONPATH: the CLI runs the code under test (from another cwd, an editable install of
    # another checkout would otherwise win).
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    full_env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": "",
                "PYTHONPATH": root, **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env,
                          capture_output=True, timeout=90)


@pytest.mark.slow
async def test_cli_export_import_and_live_backup(tmp_path):
    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path / "data") as live:
        from economy.core.migrations import Migrator

        await Migrator(live.db, ManualClock()).apply_pending()
        clock = ManualClock()
        services = build_services(live.db, clock)
        await _populate(services, clock)

        # Backup while the store runs and members keep transferring.
        stop = asyncio.Event()

        async def traffic() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                await services.ledger.transfer(GUILD, 10 + i % 2, 11 - i % 2, 1, key=f"live:{i}")
                await asyncio.sleep(0.01)  # steady traffic, leaving CPU to the backup process

        writer = asyncio.create_task(traffic())
        settings = Settings(_env_file=None, data_dir=tmp_path / "data")
        copy = await asyncio.to_thread(backup_embedded, settings, tmp_path / "snap")
        await services.ledger.transfer(GUILD, 10, 11, 1, key="after-backup")
        stop.set()
        await writer
        assert copy == tmp_path / "snap" / "gems.db" and copy.is_file()
        assert oct(copy.stat().st_mode & 0o777) == "0o600"
        live_entries = await live.db["ledger"].count_documents({})

    # The bot is stopped now: export to stdout (redirected), import into another database.
    exported = _cli(["export"], tmp_path)
    assert exported.returncode == 0, exported.stderr.decode()
    assert b"Exported" in exported.stderr
    (tmp_path / "gems.jsonl.gz").write_bytes(exported.stdout)
    assert decode(gzip.decompress(exported.stdout).split(b"\n")[0])["gems_export"] == 1
    imported = _cli(["import", str(tmp_path / "gems.jsonl.gz")], tmp_path, DATABASE_NAME="moved")
    assert imported.returncode == 0, imported.stderr.decode()
    assert b"OK: balances match" in imported.stdout
    # The CLI wiring of `backup` (the copy itself is tested above while the store ran).
    args = argparse.Namespace(command="backup", out=str(tmp_path / "snap2"), guild=None, file=None)
    assert run_tool(args, Settings(_env_file=None, data_dir=tmp_path / "data")) == 0
    assert (tmp_path / "snap2" / "gems.db").is_file()

    # The snapshot is a consistent store of its own: it audits clean.
    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path / "snap") as snap:
        report = await audit(snap.db)
        entries = await snap.db["ledger"].count_documents({})
    assert report.ok, report.render()
    assert 0 < entries < live_entries  # writes went on during and after the copy


async def test_export_makes_declared_booleans_booleans_and_refuses_what_still_breaks(store):
    col = store.db["challenge_completions"]
    # As an embedded store before the correction left a boolean written with `$set`.
    old = await col.insert_one({"guild_id": GUILD, "user_id": 5, "paid": 1, "reward": 3})
    records = [decode(line) for line in await _dump(store.db)]
    (exported,) = [r["d"] for r in records if r.get("c") == "challenge_completions"]
    assert exported["paid"] is True
    bad = await col.insert_one({"guild_id": GUILD, "user_id": 6, "paid": 7, "reward": 3})
    with pytest.raises(InvalidInput) as refused:
        await _dump(store.db)
    message = refused.value.message
    assert "`challenge_completions`" in message and repr(bad.inserted_id) in message
    assert "`paid` is int 7, declared bool" in message
    await col.delete_many({"_id": {"$in": [old.inserted_id, bad.inserted_id]}})


async def test_import_repairs_old_exports_and_refuses_documents_that_break_the_schema(
        store, services, clock, empty_db):
    await _populate(services, clock)
    lines = await _dump(store.db)
    header, footer = decode(lines[0]), decode(lines[-1])
    header["collections"] = sorted({*header["collections"], "challenge_completions"})
    counts = footer["end"]["counts"] | {"challenge_completions": 1}

    def export_with(paid):
        doc = {"_id": ObjectId(), "guild_id": GUILD, "user_id": 5, "paid": paid, "reward": 3}
        return [encode(header), *lines[1:-1], encode({"c": "challenge_completions", "d": doc}),
                encode({"end": {"counts": counts}})]

    service = DumpService(DumpRepo(empty_db), clock)
    broken = export_with("yes")
    with pytest.raises(InvalidInput, match=r"line \d+: `challenge_completions` document .*"
                                           r"`paid` is string 'yes', declared bool"):
        await service.import_lines(lambda: broken)
    assert await _canonical(empty_db) == {}  # refused before writing anything
    old = export_with(0)  # an export made from a store that wrote the boolean as 0
    result = await service.import_lines(lambda: old)
    assert result.audit is not None and result.audit.ok
    (doc,) = await empty_db["challenge_completions"].find({}).to_list()
    assert doc["paid"] is False
