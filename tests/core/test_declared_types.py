"""Declared document types (economy/repos/schemas.py): the checker, and migration 0013's repair
of booleans the embedded store used to write as numbers."""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime

import pytest
from bson import Int64, ObjectId

from economy.core.migrations import MigrationError
from economy.repos.schema_check import bool_paths, bson_type, mismatches, normalise
from economy.repos.schemas import SCHEMAS, validator

pytestmark = pytest.mark.timeout(60)

m0013 = importlib.import_module("migrations.0013_declared_types")


def test_bson_types_are_what_pymongo_sends():
    assert bson_type(True) == "bool" and bson_type(1) == "int"
    assert bson_type(2**31) == "long" and bson_type(Int64(1)) == "long"
    assert bson_type(datetime.now(UTC)) == "date" and bson_type(ObjectId()) == "objectId"
    assert bson_type(1.5) == "double" and bson_type(None) == "null"


def test_a_number_where_a_boolean_is_declared_is_refused_and_normalised():
    schema = SCHEMAS["challenge_completions"]
    doc = {"_id": ObjectId(), "guild_id": 1, "user_id": 2, "paid": 0, "reward": 5}
    assert [m.field for m in mismatches(schema, doc)] == ["paid"]
    fixed, changed = normalise(schema, doc)
    assert changed == 1 and fixed["paid"] is False and doc["paid"] == 0  # a copy
    assert list(mismatches(schema, fixed)) == []
    # A date stored as text becomes the date where a date is declared.
    query = {"_id": ObjectId(), "guild_id": 1, "used_at": "2026-01-02 03:04:05+00:00"}
    fixed, changed = normalise(SCHEMAS["saved_queries"], query)
    assert changed == 1 and fixed["used_at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    # Only 0/1 become booleans; any other number stays and is still refused.
    still, changed = normalise(schema, {**doc, "paid": 7})
    assert changed == 0 and [m.field for m in mismatches(schema, still)] == ["paid"]


def test_every_boolean_the_repos_write_is_declared():
    declared = {(name, path) for name, schema in SCHEMAS.items()
                for path in bool_paths(schema)}
    for field in [("challenge_completions", "paid"), ("challenge_progress", "completed"),
                  ("trades", "reminder_sent"), ("listings", "reminded"),
                  ("community_events", "next_pending"), ("community_events", "payout_done"),
                  ("community_events", "reminded_24h"), ("community_events", "reminded_1h"),
                  ("community_events", "live_announced"), ("multipliers", "start_announced"),
                  ("multipliers", "end_announced"), ("accounts", "system"),
                  ("mentorships", "mentor_ok"), ("mentorships", "mentee_ok"),
                  ("community_goals", "announced"), ("community_goals", "payout_done"),
                  ("season_results", "announced"), ("leases", "released"),
                  ("guild_settings", "values.double_weekend")]:
        assert field in declared, field


def test_validators_are_json_schema_documents():
    for name in SCHEMAS:
        schema = validator(name)["$jsonSchema"]
        assert schema["bsonType"] == "object" and "additionalProperties" not in schema
        assert "_id" in schema["properties"], name


async def _plant(db) -> None:
    """Documents as an embedded store before the correction left them (inserted numbers)."""
    await db["challenge_completions"].insert_many([
        {"guild_id": 1, "user_id": i, "paid": value, "reward": 1}
        for i, value in enumerate([0, 1, True, False, 0, 1, 1])])
    await db["challenge_completions"].insert_one({"guild_id": 1, "user_id": 99, "reward": 0})
    await db["community_events"].insert_one(
        {"_id": "1:1", "guild_id": 1, "event_id": 1, "reminded_1h": 1, "reminded_24h": 0,
         "payout_done": False, "rsvp_count": 1})
    await db["guild_settings"].insert_one(
        {"guild_id": 1, "version": 3, "values": {"double_weekend": 1, "marketplace_usd": 0,
                                                "daily_amount": 1}})
    await db["leases"].insert_one({"_id": "jobs", "released": 0, "token": 1,
                                   "previous": {"owner": "a", "released": 1}})
    # A date written by `$set` was stored as Python's str() of the datetime.
    await db["saved_queries"].insert_one({"guild_id": 1, "user_id": 2, "query": "ruby",
                                          "used_at": "2026-01-02 03:04:05.123000+00:00"})


async def test_migration_0013_repairs_planted_numbers_and_is_rerunnable(store, caplog):
    db = store.db.raw
    await _plant(db)
    caplog.set_level(logging.INFO)
    await m0013.up(db)
    paid = {d["user_id"]: d.get("paid")
            for d in await db["challenge_completions"].find().to_list()}
    assert paid == {0: False, 1: True, 2: True, 3: False, 4: False, 5: True, 6: True, 99: None}
    assert all(type(v) is bool for k, v in paid.items() if k != 99)
    event = await db["community_events"].find_one({"_id": "1:1"})
    assert event["reminded_1h"] is True and event["reminded_24h"] is False
    assert event["rsvp_count"] == 1 and type(event["rsvp_count"]) is int  # not declared bool
    values = (await db["guild_settings"].find_one({"guild_id": 1}))["values"]
    assert values == {"double_weekend": True, "marketplace_usd": False, "daily_amount": 1}
    assert values["double_weekend"] is True and type(values["daily_amount"]) is int
    lease = await db["leases"].find_one({"_id": "jobs"})
    assert lease["released"] is False and lease["previous"]["released"] is True
    saved = await db["saved_queries"].find_one({"guild_id": 1})
    assert saved["used_at"] == datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    assert "validators skipped" in caplog.text  # the embedded store keeps none
    # Re-runnable: nothing left to repair.
    for name, path in [("challenge_completions", "paid"), ("community_events", "reminded_1h"),
                       ("guild_settings", "values.double_weekend")]:
        assert await m0013.repair_booleans(db[name], path) == 0


async def test_repair_walks_in_pages(store):
    col = store.db.raw["challenge_progress"]
    await col.insert_many([{"_id": f"p{i}", "guild_id": 1, "completed": i % 2}
                           for i in range(7)])
    assert await m0013.repair_booleans(col, "completed", batch=2) == 7
    docs = await col.find().to_list()
    assert [d["completed"] for d in docs] == [False, True, False, True, False, True, False]


async def test_repair_refuses_to_loop_when_the_store_writes_the_number_again(store):
    class Untyped:
        """A collection whose writes leave the number (the store without the correction)."""

        name = "challenge_progress"

        def __init__(self, col):
            self._col = col

        def find(self, *args, **kwargs):
            return self._col.find(*args, **kwargs)

        async def bulk_write(self, ops, ordered):
            return None  # nothing changes

    col = store.db.raw["challenge_progress"]
    await col.insert_one({"_id": "p", "guild_id": 1, "completed": 1})
    with pytest.raises(MigrationError, match="not looping"):
        await m0013.repair_booleans(Untyped(col), "completed")
    await col.update_one({"_id": "p"}, {"$set": {"completed": True}})
