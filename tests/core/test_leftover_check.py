"""The leftover check every test's database gets (tests/schema_guard.py): one round trip on the
test store, and a document that breaks its collection's schema is reported."""

from __future__ import annotations

import datetime

import pytest
from pymongo import monitoring

from bot.store import _client
from economy.repos.base import Database
from tests.schema_guard import WRITES, check_leftovers


class _Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


@pytest.mark.planted_documents  # the fixture's own check would fail on the planted document
async def test_one_round_trip_reads_every_written_collection_and_finds_the_mistyped(
        store, mongo_uri):
    uri, embedded = mongo_uri
    commands = _Commands()
    client = _client(uri, event_listeners=[WRITES, commands])
    try:
        db = Database(client, store.db.name, write_lock=None)
        when = datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)
        await db["accounts"].insert_one({"guild_id": 1, "user_id": 2, "balance": "50",
                                         "held": 0})
        await db["ledger"].insert_one({"guild_id": 1, "user_id": 2, "delta": 5, "at": when})
        await db["trades"].delete_many({})
        commands.names.clear()
        problems = await check_leftovers(db)
        read = list(commands.names)
    finally:
        await client.close()
    # accounts, ledger and trades in one read on the test store; MongoDB refuses the command,
    # then each is read with a find
    assert read == ["gemsLeftovers"] + ([] if embedded else ["find"] * 3)
    assert any(p.startswith("accounts _id=") and "balance" in p for p in problems), problems
    assert WRITES.written.get(db.name) is None  # taken: nothing is read twice


async def test_more_leftovers_than_one_reply_holds_are_read_collection_by_collection(
        store, mongo_uri):
    """Above its limit the test store refuses the one-reply read (a reply is one BSON document,
    16 MB at most) and each collection is read with `find`: the same documents either way."""
    from tests.schema_guard import _all_documents

    commands = _Commands()
    client = _client(mongo_uri[0], event_listeners=[commands])
    try:
        db = Database(client, store.db.name, write_lock=None)
        await db["probe"].insert_many([{"_id": n} for n in range(3)])
        await db["things"].insert_one({"_id": 9})
        commands.names.clear()
        small = await _all_documents(db, ["probe", "things"], at_most=2)
        read = list(commands.names)
        whole = await _all_documents(db, ["probe", "things"])
    finally:
        await client.close()
    expected = {"probe": [{"_id": 0}, {"_id": 1}, {"_id": 2}], "things": [{"_id": 9}]}
    assert small == whole == expected
    assert read == ["gemsLeftovers", "find", "find"]  # refused (over the limit, or MongoDB)
