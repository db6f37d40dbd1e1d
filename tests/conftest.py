"""Shared fixtures: one embedded store per test session, a fresh database per test."""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from bot.store import EmbeddedServer, Store, _client
from economy.core.actor import Actor
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.repos.base import Database
from economy.services import Services, build_services
from tests.cog_modules import keep_cog_modules
from tests.schema_guard import WRITES, check_leftovers
from tests.store_template_server import TEMPLATE, clone_name

# The end-to-end fixtures (`gc`: the real bot on the Discord sandbox) and `browser` (headless
# Chromium), for every folder.
pytest_plugins = ["tests.e2e_fixtures", "tests.browser"]

_counter = itertools.count()

# CLI tests run `python -m bot` from temporary directories: make those processes import this
# checkout (a worktree), not the one the shared virtualenv's editable install points at.
_ROOT = str(Path(__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)


def pytest_collection_modifyitems(config, items):
    """Long tests first (those marked `slow`, the demo group leading), the rest in file order.

    The xdist scheduler hands tests out in collection order as workers free up: a long test
    collected last would run alone at the end while the other workers sit idle.
    """
    def rank(item) -> int:
        if item.get_closest_marker("xdist_group") is not None:
            return 0
        return 1 if item.get_closest_marker("slow") is not None else 2
    items.sort(key=rank)  # stable: file order within each rank


@pytest.fixture(scope="session", autouse=True)
def _cog_modules_once():
    """Each process executes the cog modules once, not once per test bot (tests/cog_modules.py)."""
    with keep_cog_modules():
        yield


@pytest.fixture(scope="session")
def mongo_uri():
    """MONGODB_URI when set (run the suite against real MongoDB), else a session embedded server."""
    uri = os.environ.get("GEMS_TEST_MONGODB_URI")
    if uri:
        yield uri, False
        return
    # One server per session, i.e. per xdist worker (its own private socket directory).
    server = EmbeddedServer(data_dir="memory", run_dir=Path(tempfile.mkdtemp(prefix="gems-test-")),
                            module="tests.store_template_server")
    server.start()
    deadline = time.monotonic() + 20
    while not server.accepts_connections() and time.monotonic() < deadline:
        time.sleep(0.01)  # asked before it listens, the driver retries only after 0.5 s
    with MongoClient(server.uri, serverSelectionTimeoutMS=20_000) as probe:
        probe.admin.command("ping")
    asyncio.run(_migrate(server.uri, TEMPLATE))  # once; each test's database is a copy of it
    yield server.uri, True
    server.stop()


async def _migrate(uri: str, name: str) -> None:
    client = _client(uri)
    try:
        await Migrator(Database(client, name, write_lock=asyncio.Lock()), ManualClock()).apply_pending()
    finally:
        await client.close()


@pytest.fixture(scope="session")
async def _client_of_session(mongo_uri):
    """One client per test process, shared by every test's `store` (the tests share one event
    loop per process, pyproject's asyncio_default_*_loop_scope). A client per test paid its
    connection, handshake and monitor again each time: ~6 ms of CPU per test, ~5 s a run."""
    client = _client(mongo_uri[0], event_listeners=[WRITES])  # for the leftover check below
    await client.aconnect()  # its monitor tasks exist before any test's (see below)
    yield client
    await client.close()


@pytest.fixture
async def store(mongo_uri, _client_of_session, request):
    """A Store on a fresh, migrated database; dropped afterwards.

    On the embedded store the database is born migrated: a copy of the session's template
    (tests/store_template_server.py), instead of running every migration per test. Every document
    the test leaves behind is checked against its declared schema, except in tests marked
    `planted_documents` (they insert partial documents on purpose to probe one query).
    The client is the session's: a test must not close it (tests that need to, open their own)."""
    _, embedded = mongo_uri
    client = _client_of_session
    n = next(_counter)
    name = clone_name(os.getpid(), n) if embedded else f"t{os.getpid()}_{n}"
    db = Database(client, name, write_lock=asyncio.Lock() if embedded else None)
    if not embedded:
        await Migrator(db, ManualClock()).apply_pending()
    store = Store(client=client, db=db)
    yield store
    planted = request.node.get_closest_marker("planted_documents") is not None
    problems = [] if planted else await check_leftovers(db)  # tests/schema_guard.py
    await client.drop_database(name)
    assert not problems, "documents that break their declared schema:\n" + "\n".join(problems)


@pytest.fixture
def clock() -> ManualClock:
    """A clock tests move by hand."""
    return ManualClock()


@pytest.fixture
def services(store: Store, clock: ManualClock) -> Services:
    """Domain services over the test database."""
    return build_services(store.db, clock)


async def relax_offer_limits(services: Services, guild_id: int) -> None:
    """Turn off the per-member offer cooldown and cap, for tests that create many offers quickly
    (the limits themselves are tested in tests/cross/test_abuse_limits.py)."""
    await services.settings.set(guild_id, Actor.system(), "offer_cooldown_seconds", "0")
    await services.settings.set(guild_id, Actor.system(), "offer_max_open_to_member", "50")
# --- chain (wallets and NFT roles): one eth-tester JSON-RPC rig per session ---------------------
@pytest.fixture(scope="session")
def chain_rig():
    """The session's EVM behind its JSON-RPC endpoint (contracts deployed once)."""
    from devtools.chain.rig import ChainRig

    rig = ChainRig().start()
    yield rig
    rig.stop()


@pytest.fixture
def chain(chain_rig):
    """The rig, rolled back to a clean state (counters and faults reset) after the test."""
    snap = chain_rig.snapshot()
    chain_rig.calls.clear()
    yield chain_rig
    chain_rig.revert(snap)


@pytest.fixture
def faulty(chain):
    """A faulty JSON-RPC proxy in front of the rig (tests/chain/proxy.py); no faults until set."""
    from tests.chain.proxy import FaultyProxy

    proxy = FaultyProxy(chain.url).start()
    yield proxy
    proxy.stop()


def pytest_collection_finish(session):
    """Collect garbage the way the bot does after READY (bot/app.py `_freeze_startup_heap`):
    what collection built (the product's and the tests' modules, ~300,000 objects) is moved
    out of the collector's reach, and collections run at the bot's thresholds. With the
    defaults each worker spent ~3 s in the collector, full collections walking 500,000
    objects ~190 ms each."""
    import gc

    from bot.app import GC_THRESHOLDS

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.fixture(autouse=True)
async def _cancel_leftover_tasks():
    """The tests share one event loop per process: what a test started and left running (a
    view's timeout, a bot's background task) is cancelled when it ends, as closing a loop of
    its own did, instead of running on into the next tests."""
    before = asyncio.all_tasks()
    yield
    left = [task for task in asyncio.all_tasks() - before
            if not task.done() and task is not asyncio.current_task()]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)
