"""Group commit (economy/repos/ledger_writer.py): batching, per-caller answers, two writers racing.

Two writers stand for two bot processes: two LedgerServices over two Database handles (separate
clients) on one store, each remembering balances on its own. The handles share the embedded
store's lock only because nx-27017 cannot isolate concurrent transactions (on MongoDB the
transactions themselves are isolated); the lock does not keep a writer's remembered balances
fresh, so what keeps money right here is the balance guard in every account update, and the
tests assert the guards really missed and were recovered from.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.store import _client
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.errors import AlreadyRecorded, InsufficientFunds, NotPermitted, OutcomeUnknown
from economy.repos.base import Database
from economy.repos.ledger_repo import LedgerRepo
from economy.services import build_services
from tests.faults import FaultyDatabase

pytestmark = pytest.mark.timeout(60)

G = 61
ADMIN = 1


async def ok_audit(services):
    report = await audit(services.db)
    assert report.ok, report.render()


async def seed(services, users, amount):
    for user in users:
        await services.ledger.grant(G, Actor(ADMIN, is_admin=True), user, amount, reason="seed", key=f"seed:{user}")


@pytest.fixture
async def second(store, mongo_uri):
    """A second writer: its own client and services on the same database (another process)."""
    client = _client(mongo_uri[0])
    db = Database(client, store.db.name, write_lock=store.db._lock)
    yield build_services(db, ManualClock())
    await client.close()


async def entries(services, key):
    return await LedgerRepo(services.db).entries_for_key(G, key)


async def test_concurrent_transfers_share_transactions_and_each_caller_gets_its_answer(services):
    await seed(services, [10], 100)
    writer = services.ledger.writer
    before = writer.batches
    outcomes = await asyncio.gather(
        *[services.ledger.transfer(G, 10, 20 + i, 10, key=f"b{i}") for i in range(15)],
        return_exceptions=True,
    )
    moved = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(moved) == 10 and all(isinstance(o, InsufficientFunds) for o in refused)
    assert all(o.balance == 0 and o.needed == 10 for o in refused)
    assert writer.batches - before < 10  # many movements per transaction
    # Each caller got its own entries, with the balance after its own leg, in arrival order.
    assert [o.entries[0].balance_after for o in moved] == list(range(90, -1, -10))
    assert [o.idempotency_key for o in moved] == [f"b{i}" for i in range(10)]
    assert await services.ledger.balance(G, 10) == 0
    await ok_audit(services)


async def test_replays_in_the_batch_and_in_the_store_answer_the_first_result(services):
    await seed(services, [10], 100)
    first = await services.ledger.transfer(G, 10, 11, 30, key="dup")
    results = await asyncio.gather(
        services.ledger.transfer(G, 10, 11, 30, key="dup"),  # recorded before this batch
        services.ledger.transfer(G, 10, 12, 5, key="new"),
        services.ledger.transfer(G, 10, 12, 5, key="new"),  # repeated inside the batch
        services.ledger.transfer(G, 10, 13, 7, key="other"),
    )
    assert results[0].replayed and results[0].entries == first.entries
    assert [r.replayed for r in results[1:]] == [False, True, False]
    assert results[2].entries == results[1].entries
    assert await services.ledger.balance(G, 10) == 100 - 30 - 5 - 7
    await ok_audit(services)


async def test_a_key_recorded_by_another_writer_is_a_replay_not_a_second_movement(services,
                                                                                 second):
    await seed(services, [10], 100)
    first = await second.ledger.transfer(G, 10, 11, 40, key="shared")
    again, other = await asyncio.gather(
        services.ledger.transfer(G, 10, 11, 40, key="shared"),
        services.ledger.transfer(G, 10, 12, 1, key="mine"),
    )
    assert again.replayed and again.entries == first.entries
    assert not other.replayed
    assert await services.ledger.balance(G, 10) == 59
    assert len(await entries(services, "shared")) == 2
    await ok_audit(services)


async def test_a_refused_also_fails_alone_and_the_batch_commits_without_it(services):
    await seed(services, [10], 100)

    async def refuse(session):
        raise NotPermitted("not today")

    async def fine(session):
        await services.db["probe"].insert_one({"guild_id": G, "ok": 1}, session=session)

    outcomes = await asyncio.gather(
        services.ledger.transfer(G, 10, 11, 10, key="a", also=fine),
        services.ledger.transfer(G, 10, 12, 10, key="b", also=refuse),
        services.ledger.transfer(G, 10, 13, 10, key="c"),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], NotPermitted)
    assert not isinstance(outcomes[0], Exception) and not isinstance(outcomes[2], Exception)
    assert await entries(services, "b") == []
    assert await services.db["probe"].count_documents({"guild_id": G}) == 1
    assert await services.ledger.balance(G, 10) == 80
    await ok_audit(services)


async def test_many_refusals_in_one_batch_redo_each_accepted_request_at_most_once(services):
    """A flash sale: 40 buyers of the last 5 units in one batch. Each refusal commits what is
    ahead of it and goes on with the rest; retrying the whole batch after every refusal
    instead ran each accepted callback again after every refusal (36 times each here)."""
    await seed(services, [10], 1000)
    await services.db["probe"].insert_one({"_id": "stock", "left": 5})
    runs: list[str] = []

    def buy(key):
        async def grant(session):
            runs.append(key)
            taken = await services.db["probe"].update_one(
                {"_id": "stock", "left": {"$gt": 0}}, {"$inc": {"left": -1}}, session=session)
            if taken.modified_count == 0:
                raise NotPermitted("sold out")
        return grant

    keys = [f"buy{i}" for i in range(40)]
    outcomes = await asyncio.gather(
        *(services.ledger.transfer(G, 10, 11, 1, key=key, also=buy(key)) for key in keys),
        return_exceptions=True)
    sold = [k for k, o in zip(keys, outcomes, strict=True) if not isinstance(o, Exception)]
    assert sold == keys[:5] and all(isinstance(o, NotPermitted) for o in outcomes[5:])
    assert max(runs.count(k) for k in sold) <= 2  # the aborted attempt, then its own commit
    assert len(runs) <= 2 * 5 + 35
    assert await services.ledger.balance(G, 11) == 5
    await ok_audit(services)


async def test_guard_miss_reloads_and_the_request_that_now_lacks_funds_fails_alone(services,
                                                                                   second):
    await seed(services, [10, 30], 100)
    await services.ledger.transfer(G, 10, 11, 1, key="warm")  # this writer now knows 10 has 99
    await second.ledger.take(G, Actor(ADMIN, is_admin=True), 10, 80, reason="moved elsewhere", key="elsewhere")
    misses = services.ledger.writer.guard_misses
    outcomes = await asyncio.gather(
        services.ledger.transfer(G, 10, 11, 50, key="too-much"),  # fits 99, not the real 19
        services.ledger.transfer(G, 30, 11, 10, key="fine"),
        return_exceptions=True,
    )
    assert services.ledger.writer.guard_misses > misses
    assert isinstance(outcomes[0], InsufficientFunds) and outcomes[0].balance == 19
    assert not isinstance(outcomes[1], Exception)
    assert await services.ledger.balance(G, 10) == 19
    assert await services.ledger.balance(G, 11) == 11
    await ok_audit(services)


async def test_refusal_for_funds_is_decided_on_a_fresh_balance(services, second):
    await seed(services, [10], 5)
    await services.ledger.transfer(G, 10, 11, 5, key="drain")  # this writer knows 10 has 0
    await second.ledger.grant(G, Actor(ADMIN, is_admin=True), 10, 50, reason="topped up elsewhere", key="top")
    movement = await services.ledger.transfer(G, 10, 11, 20, key="after-top-up")
    assert movement.entries[0].balance_after == 30
    await ok_audit(services)


@pytest.mark.slow
async def test_two_writers_racing_on_the_same_accounts_lose_and_duplicate_nothing(services,
                                                                                  second):
    users = list(range(100, 108))
    await seed(services, users, 300)
    rng = random.Random(7)
    plan = [(*rng.sample(users, 2), rng.randint(1, 60)) for _ in range(400)]

    async def one(ledger, i):
        a, b, amount = plan[i]
        try:
            await ledger.transfer(G, a, b, amount, key=f"race:{i}")
            return i
        except InsufficientFunds:
            return None

    # Every transfer is sent by both writers (a retry landing on another process), interleaved.
    calls = [one(w.ledger, i) for i in range(len(plan)) for w in (services, second)]
    done = {i for i in await asyncio.gather(*calls) if i is not None}
    misses = services.ledger.writer.guard_misses + second.ledger.writer.guard_misses
    assert misses > 0  # the writers really raced on stale balances
    balances = [await services.ledger.balance(G, u) for u in users]
    assert min(balances) >= 0 and sum(balances) == 300 * len(users)
    ledger = services.db["ledger"]
    assert await ledger.count_documents({"guild_id": G, "kind": "transfer"}) == 2 * len(done)
    for i in done:
        assert len(await entries(services, f"race:{i}")) == 2
    await ok_audit(services)


async def test_ambiguous_batch_commit_is_settled_for_every_caller(store, clock):
    db = FaultyDatabase(store.db)
    services = build_services(db, clock)
    await seed(services, [10], 1000)
    db.plan = ["unknown_after_commit"]  # committed, reply lost: everyone moved once
    moved = await asyncio.gather(
        *[services.ledger.transfer(G, 10, 20 + i, 10, key=f"u{i}") for i in range(5)])
    assert all(not m.replayed for m in moved)
    assert await services.ledger.balance(G, 10) == 950
    db.plan = ["unknown_before_commit", "unknown_before_commit"]  # never applied, stays unknown
    outcomes = await asyncio.gather(
        *[services.ledger.transfer(G, 10, 30 + i, 10, key=f"v{i}") for i in range(5)],
        return_exceptions=True)
    assert all(isinstance(o, OutcomeUnknown) for o in outcomes)
    assert await services.ledger.balance(G, 10) == 950
    db.plan = ["transient"]  # rolled back and retried by the driver: moves once
    await asyncio.gather(
        *[services.ledger.transfer(G, 10, 30 + i, 10, key=f"v{i}") for i in range(5)])
    assert await services.ledger.balance(G, 10) == 900
    for i in range(5):
        assert len(await entries(services, f"v{i}")) == 2
    await ok_audit(services)


async def test_batch_max_one_is_the_transaction_per_movement_path(store, clock):
    services = build_services(store.db, clock, ledger_batch_max=1)
    assert services.ledger.writer is None
    await seed(services, [10], 100)
    results = await asyncio.gather(
        *[services.ledger.transfer(G, 10, 11, 7, key="same") for _ in range(5)])
    assert sum(not r.replayed for r in results) == 1
    await ok_audit(services)


async def test_money_in_and_out_of_an_account_within_a_batch_still_writes_its_guard(services):
    await seed(services, [10, 11], 100)
    await asyncio.gather(services.ledger.transfer(G, 10, 11, 5, key="there"),
                         services.ledger.transfer(G, 11, 10, 5, key="back"))
    docs = await services.db["accounts"].find({"guild_id": G}, {"_id": 0}).to_list()
    assert {d["user_id"]: (d["balance"], d.get("ledger_touches")) for d in docs} == {
        10: (100, 1), 11: (100, 1)}
    await ok_audit(services)


async def test_a_duplicate_key_in_also_fails_only_its_own_request(services):
    await seed(services, [10], 100)
    await services.db["claims"].create_index([("guild_id", 1), ("name", 1)], unique=True)

    def claim(name):
        async def write(session):
            await services.db["claims"].insert_one({"guild_id": G, "name": name}, session=session)
        return write

    await services.ledger.transfer(G, 10, 11, 1, key="first", also=claim("x"))
    outcomes = await asyncio.gather(
        services.ledger.transfer(G, 10, 11, 1, key="second", also=claim("x")),
        services.ledger.transfer(G, 10, 12, 1, key="third", also=claim("y")),
        return_exceptions=True)
    assert isinstance(outcomes[0], AlreadyRecorded)  # the store error, translated
    assert not isinstance(outcomes[1], Exception)
    assert await services.ledger.balance(G, 10) == 98
    await ok_audit(services)
