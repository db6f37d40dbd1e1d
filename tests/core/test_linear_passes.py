"""Migrations, backfills and guild-wide reads are linear and bounded: every read of a big
collection is an index-backed page (`$match` on guild_id, `$limit`), never a `find` that the
embedded store would scan and sort in Python, and the number of round trips is pages + guilds.

The commands are recorded with PyMongo's command monitoring on a second client to the same
database, so the tests count what actually went over the wire (no timing asserts).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, monitoring

from economy.core.audit import audit
from economy.marketplace.member_repo import MarketMemberRepo
from economy.marketplace.repo import ListingRepo
from economy.marketplace.terms_repo import postings_of
from economy.repos import paging
from economy.repos.base import Database, find_docs
from economy.trades.repo import TradeRepo

pytestmark = pytest.mark.timeout(60)

terms_migration = importlib.import_module("migrations.0004_listing_terms")
dates_migration = importlib.import_module("migrations.0005_versions_and_dates")
words_migration = importlib.import_module("migrations.0010_posting_words")


class Recorder(monitoring.CommandListener):
    """Every command sent, as (command name, collection, command document)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str, dict]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        cmd = event.command
        self.commands.append((event.command_name, str(cmd.get(event.command_name)), dict(cmd)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def reads(self, collection: str) -> list[tuple[str, dict]]:
        """The commands on `collection` that are not writes."""
        return [(name, cmd) for name, coll, cmd in self.commands
                if coll == collection and name not in ("insert", "update", "delete")]


@pytest.fixture
async def watched(store, mongo_uri) -> AsyncIterator[tuple[object, Recorder]]:
    """(raw database, recorder): the test database through a monitored client."""
    recorder = Recorder()
    client = AsyncMongoClient(mongo_uri[0], event_listeners=[recorder])
    yield client[store.db.name], recorder
    await client.close()


SIZES = {11: 2, 12: 25, 13: 7}  # guild -> listings


async def seed_listings(db) -> list[dict]:
    docs = []
    for guild_id, n in SIZES.items():
        for i in range(1, n + 1):
            docs.append({"guild_id": guild_id, "listing_id": i, "seller_id": 1,
                         "status": "active" if i % 4 else "sold", "keywords": ["ruby", f"w{i}"],
                         "category": "rings", "condition": "new", "price_gems": i,
                         "price_usd_cents": None, "listed_ts": i, "popularity": 0,
                         "updated_at": "2026-01-01T00:00:00+00:00", "created_ts": 5})
    await db["listings"].insert_many(docs)
    return docs


def assert_paged(commands: list[tuple[str, dict]], *, batch: int) -> None:
    """Only bounded aggregates: a `$limit` of at most `batch`, never a `find`."""
    assert commands
    for name, cmd in commands:
        assert name == "aggregate", name
        stages = {next(iter(stage)): stage[next(iter(stage))] for stage in cmd["pipeline"]}
        assert "$match" in stages and 0 < stages.get("$limit", 0) <= batch, cmd["pipeline"]


def expected_round_trips(batch: int, *, active_only: bool = False) -> int:
    # One index probe per guild plus the final empty probe, then pages: a short page ends a
    # guild, a full one needs one more read.
    sizes = [n - n // 4 if active_only else n for n in SIZES.values()]  # i % 4 == 0: sold
    return len(SIZES) + 1 + sum(n // batch + 1 for n in sizes)


async def test_postings_backfill_pages_linearly(watched, caplog, monkeypatch):
    db, recorder = watched
    docs = await seed_listings(db)
    recorder.commands.clear()
    monkeypatch.setattr(paging, "PROGRESS_EVERY", 10)
    with caplog.at_level(logging.INFO, logger="economy.repos.paging"):
        written = await terms_migration.backfill(db, batch=10)
    listing_reads = recorder.reads("listings")
    assert_paged(listing_reads, batch=10)
    # Only active listings are sent: the pages (not the guild probes) ask for them.
    assert len(listing_reads) == expected_round_trips(10, active_only=True)
    pages_read = [cmd for _, cmd in listing_reads if "listing_id" in cmd["pipeline"][0]["$match"]
                  or cmd["pipeline"][0]["$match"].get("status")]
    assert pages_read and all(cmd["pipeline"][0]["$match"]["status"] == "active"
                              for cmd in pages_read)
    assert_paged(recorder.reads("listing_terms"), batch=1)  # one probe: is it empty?
    want = sorted((p for d in docs for p in postings_of(d)), key=lambda p: p["_id"])
    assert written == len(want)
    got = await find_docs(db["listing_terms"], {})
    assert sorted(got, key=lambda p: p["_id"]) == want
    progress = [r.getMessage() for r in caplog.records if "documents" in r.getMessage()]
    # A line each time another 10 documents were read (pages end at guild boundaries).
    label = "postings backfill: active listings read"
    assert progress == [f"{label}: {n} documents" for n in (12, 21)] + [
        f"{label}: done, 27 documents"]
    # Run again (an interrupted run, or migration 0010): replaces by `_id`, same result, also
    # when the postings are written in small transactions.
    monkeypatch.setattr(terms_migration, "POSTINGS_PER_WRITE", 7)
    await terms_migration.backfill(db, batch=7)
    assert sorted(await find_docs(db["listing_terms"], {}), key=lambda p: p["_id"]) == want


async def test_migration_0010_rewrites_postings_without_keyword_sets(watched):
    db, _ = watched
    docs = await seed_listings(db)
    old = [{k: v for k, v in p.items() if k != "w"} for d in docs for p in postings_of(d)]
    await db["listing_terms"].insert_many(old)
    await words_migration.up(db)
    want = sorted((p for d in docs for p in postings_of(d)), key=lambda p: p["_id"])
    assert sorted(await find_docs(db["listing_terms"], {}), key=lambda p: p["_id"]) == want


async def test_versions_and_dates_pass_is_paged(watched):
    db, recorder = watched
    await seed_listings(db)
    recorder.commands.clear()
    await dates_migration.up(db)
    assert_paged(recorder.reads("listings"), batch=dates_migration.BATCH)
    assert len(recorder.reads("listings")) == expected_round_trips(dates_migration.BATCH)
    listings = await find_docs(db["listings"], {})
    assert all(d["version"] == 0 and "updated_at" not in d and d["updated_ts"]
               for d in listings)


async def test_guild_alerts_are_streamed_in_bounded_pages(services, watched):
    db, _ = watched
    repo = MarketMemberRepo(services.db, ListingRepo(services.db))
    alerts_per_member = {5: 1, 6: 4, 7: 2, 8: 1, 9: 3}
    for user_id, n in alerts_per_member.items():
        for alert_id in range(1, n + 1):
            await db["market_alerts"].insert_one(
                {"guild_id": 77, "user_id": user_id, "alert_id": alert_id, "keywords": []})
    await db["market_alerts"].insert_one({"guild_id": 78, "user_id": 5, "alert_id": 1})
    seen = [(d["user_id"], d["alert_id"]) async for d in repo.guild_alerts(77, batch=3)]
    assert seen == [(u, a) for u, n in alerts_per_member.items() for a in range(1, n + 1)]


async def test_full_loads_do_not_come_back(watched):
    """Guild-wide and sweep reads are bounded pipelines on the indexed side (no `find`)."""
    db, recorder = watched
    watched_db = Database(db.client, db.name, write_lock=None)
    repo = MarketMemberRepo(watched_db, ListingRepo(watched_db))
    for user_id in range(20):
        await db["market_alerts"].insert_one(
            {"guild_id": 77, "user_id": user_id, "alert_id": 1, "keywords": []})
        await db["market_alert_outbox"].insert_one(
            {"_id": f"77:{user_id}:1", "guild_id": 77, "user_id": user_id, "listing_id": 1,
             "alert_id": 1, "due_ms": user_id})
    recorder.commands.clear()
    assert len([d async for d in repo.guild_alerts(77, batch=6)]) == 20
    assert await repo.due_alert_members(100, limit=5) == [(77, u) for u in range(5)]
    assert_paged(recorder.reads("market_alerts"), batch=6)
    assert_paged(recorder.reads("market_alert_outbox"), batch=5)


async def test_postings_are_indexed_after_a_fresh_backfill_and_before_a_rerun(watched):
    db, recorder = watched
    docs = await seed_listings(db)
    await db["listing_terms"].drop()
    want = sorted((p for d in docs for p in postings_of(d)), key=lambda p: p["_id"])

    def order() -> list[str]:
        names = [name for name, coll, _ in recorder.commands if coll == "listing_terms"]
        return [name for name in names if name in ("insert", "createIndexes")]

    recorder.commands.clear()
    await terms_migration.up(db)
    sent = order()
    # Written first, indexed once at the end (one sorted build per index).
    assert sent[-1] == "createIndexes" and sent.count("createIndexes") == 1 and "insert" in sent
    keys = {tuple(k for k, _ in info["key"])
            for info in (await db["listing_terms"].index_information()).values()}
    assert {("guild_id", "term", sort, "listing_id") for sort in (
        "listed_ts", "price_gems", "price_usd_cents", "popularity")} <= keys
    assert sorted(await find_docs(db["listing_terms"], {}), key=lambda p: p["_id"]) == want

    # An interrupted run left postings behind: index first, then replace them.
    await db["listing_terms"].delete_many({"_id": {"$in": [p["_id"] for p in want[::2]]}})
    recorder.commands.clear()
    await terms_migration.up(db)
    sent = order()
    assert sent[0] == "createIndexes" and "insert" in sent
    assert sorted(await find_docs(db["listing_terms"], {}), key=lambda p: p["_id"]) == want


async def test_audit_reads_a_guilds_accounts_in_bounded_pages(watched):
    db, recorder = watched
    guild = 77
    await db["accounts"].insert_many([{"guild_id": guild, "user_id": u, "balance": 0, "held": 0}
                                      for u in range(1, 2502)])
    # One account in the last page disagrees with its (empty) ledger.
    await db["accounts"].update_one({"guild_id": guild, "user_id": 2501},
                                    {"$set": {"balance": 5}})
    recorder.commands.clear()
    report = await audit(Database(db.client, db.name, write_lock=asyncio.Lock()))
    account_pages = [r for r in recorder.reads("accounts") if r[0] == "aggregate"]
    assert_paged(account_pages, batch=paging.BATCH)
    assert len(account_pages) == 3  # 1,000 + 1,000 + 501
    assert report.accounts == 2501
    assert any("user 2501: balance+held 5 != ledger 0" in p for p in report.problems)


async def test_due_trades_are_read_in_bounded_pages_and_ordered_by_date(watched):
    db, recorder = watched
    base = datetime(2026, 11, 1, tzinfo=UTC)
    trades = []
    for i in range(1, 1201):  # history: completed trades the sweep must never read
        trades.append({"guild_id": 5, "trade_id": i, "status": "completed",
                       "times": {"release_at": base}})
    for i, hours in enumerate([5, -3, 2, None, -1, 9, -8], start=2001):
        trades.append({"guild_id": 5, "trade_id": i, "status": "delivered",
                       "reminder_sent": i % 2 == 0,
                       "times": {"release_at": None if hours is None else base + timedelta(hours=hours)}})
    trades.append({"guild_id": 6, "trade_id": 1, "status": "delivered",
                   "times": {"release_at": base - timedelta(days=1)}})
    await db["trades"].insert_many(trades)
    repo = TradeRepo(Database(db.client, db.name, write_lock=asyncio.Lock()))
    now = base + timedelta(hours=4)
    recorder.commands.clear()
    due = await repo.due(5, "delivered", "times.release_at", now)
    # Earliest first; not the future ones (+5 h, +9 h), not the one without a date, not guild 6.
    assert [d["trade_id"] for d in due] == [2007, 2002, 2005, 2003]
    reads = recorder.reads("trades")
    assert_paged(reads, batch=500)
    assert all(cmd["pipeline"][0]["$match"]["status"] == "delivered" for _, cmd in reads)
    due = await repo.due(5, "delivered", "times.release_at", now, {"reminder_sent": False})
    assert [d["trade_id"] for d in due] == [2007, 2005, 2003]  # odd ids: no reminder yet
    assert await repo.guild_ids() == [5, 6]
    assert not [name for name, coll, _ in recorder.commands if name in ("find", "distinct")]
