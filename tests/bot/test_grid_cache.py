"""The results-grid cache: one render per content key, shared by concurrent callers, bounded."""

from __future__ import annotations

import asyncio

import pytest

from bot.render.grid import GridCache, render_grid

pytestmark = pytest.mark.timeout(60)


async def test_concurrent_requests_for_one_key_share_one_render():
    cache, renders = GridCache(), []

    async def render() -> bytes:
        renders.append(1)
        await asyncio.sleep(0.01)
        return b"grid"

    results = await asyncio.gather(*(cache.get(("g", "a"), render) for _ in range(20)))
    assert results == [b"grid"] * 20 and len(renders) == 1
    assert await cache.get(("g", "b"), render) == b"grid" and len(renders) == 2


async def test_a_failed_render_is_not_cached_and_reaches_every_waiter():
    cache, calls = GridCache(), []

    async def broken() -> bytes:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise OSError("disk")

    outcomes = await asyncio.gather(*(cache.get("k", broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(o, OSError) for o in outcomes) and len(calls) == 1

    async def fine() -> bytes:
        return b"ok"

    assert await cache.get("k", fine) == b"ok"


async def test_least_recently_used_grids_go_first_within_the_byte_budget():
    cache = GridCache(max_bytes=10)

    def make(data: bytes):
        async def render() -> bytes:
            return data
        return render

    await cache.get("a", make(b"aaaa"))
    await cache.get("b", make(b"bbbb"))
    await cache.get("a", make(b"xxxx"))  # a hit: "a" is now the most recent
    await cache.get("c", make(b"cccc"))  # over 10 bytes: "b" goes
    assert await cache.get("a", make(b"new!")) == b"aaaa"
    assert await cache.get("b", make(b"BBBB")) == b"BBBB"


def test_the_grid_is_a_jpeg_with_one_tile_per_result():
    data = render_grid([None, None, None])
    assert data[:2] == b"\xff\xd8"


async def test_forget_guild_drops_only_that_guilds_grids():
    """/privacy delete drops a guild's rendered grids (a deleted member's photos) at once."""
    cache = GridCache()

    def make(data: bytes):
        async def render() -> bytes:
            return data
        return render

    await cache.get((1, ("img-a",)), make(b"one"))
    await cache.get((1, ("img-b",)), make(b"two"))
    await cache.get((2, ("img-a",)), make(b"other"))
    assert cache.forget_guild(1) == 2
    assert await cache.get((1, ("img-a",)), make(b"fresh")) == b"fresh"  # rendered again
    assert await cache.get((2, ("img-a",)), make(b"fresh")) == b"other"  # untouched
