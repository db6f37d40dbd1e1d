"""Guild settings cache: one read per burst, invalidation on set, version stamp across processes."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)

G = 71


async def test_burst_of_reads_makes_one_store_read(services):
    got = await asyncio.gather(*(services.settings.get(G) for _ in range(200)))
    assert services.settings.reads == 1
    assert all(s is got[0] for s in got)
    await services.settings.get(G)
    assert services.settings.reads == 1  # still fresh: served from memory


async def test_set_invalidates_this_process_at_once(services):
    assert (await services.settings.get(G)).currency_name == "GEMS"
    await services.settings.set(G, Actor(1, is_admin=True), "currency_name", "Shards")
    settings = await services.settings.get(G)
    assert settings.currency_name == "Shards"
    assert settings.money(1200) == "💎 1,200 Shards"


async def test_other_process_change_seen_by_version_stamp(store, clock):
    """Two services over one database (two bot processes): B's change reaches A's cache."""
    a, b = build_services(store.db, clock), build_services(store.db, clock)
    assert (await a.settings.get(G)).daily_amount == (await b.settings.get(G)).daily_amount
    await b.settings.set(G, Actor(1, is_admin=True), "daily_amount", "777")
    # Within the fresh window A may still serve its copy; once it revalidates it must see 777.
    a.settings.FRESH_SECONDS = 0.0
    assert (await a.settings.get(G)).daily_amount == 777
    # An unchanged stamp keeps the parsed object (no new parse), a changed one replaces it.
    same = await a.settings.get(G)
    assert same is await a.settings.get(G)
    await b.settings.set(G, Actor(1, is_admin=True), "daily_amount", "778")
    assert (await a.settings.get(G)).daily_amount == 778


async def test_version_stamp_grows_with_every_change(services):
    repo = services.settings._repo
    assert (await repo.versioned(G))[0] == 0
    await services.settings.set(G, Actor(1, is_admin=True), "currency_name", "Shards")
    await services.settings.set(G, Actor(1, is_admin=True), "currency_name", "GEMS")  # back to the default
    version, values = await repo.versioned(G)
    assert version == 2 and "currency_name" not in values


async def test_read_under_way_during_set_is_not_cached(services):
    """A read that started before a change must not put the old value back in the cache."""
    settings = services.settings
    real = settings._repo.versioned
    release = asyncio.Event()

    async def slow(guild_id):
        result = await real(guild_id)
        await release.wait()
        return result

    settings._repo.versioned = slow
    reader = asyncio.create_task(settings.get(G))
    await asyncio.sleep(0)
    settings._repo.versioned = real
    # What `set` does after its own read: store the change, then invalidate.
    await settings._repo.change(G, "currency_name", "Shards", old="GEMS", actor_id=1,
                                at=services.clock.now(), is_default=False)
    settings.invalidate(G)
    release.set()
    assert (await reader).currency_name == "GEMS"  # the old read answers its own caller
    assert (await settings.get(G)).currency_name == "Shards"
