"""What an interaction leaves behind in the bot process (issue 28): no view outlives its send."""

from __future__ import annotations

import gc as collector

import discord
import pytest

from bot.render import grid
from economy.core.actor import Actor
from economy.core.images import process_image
from tests.core.test_images import photo

pytestmark = pytest.mark.timeout(120)


def live_buttons() -> int:
    collector.collect()
    return sum(1 for o in collector.get_objects() if issubclass(type(o), discord.ui.Button))


async def seed(gc, count: int) -> None:
    """`count` live listings with a photo each (a page of results has buttons and a grid)."""
    for key in ("listings_per_day", "max_active_listings"):
        await gc.services.settings.set(gc.guild.id, Actor.system(), key, "100")
    images = [process_image(photo(320, 240, gps=False, colour=(30 * i, 90, 120))) for i in range(4)]
    for i in range(count):
        draft = await gc.services.marketplace.listings.create_draft(
            gc.guild.id, gc["alice"].id, category="rings", condition="new", title=f"Ring {i:02d}",
            description="d", price_gems=100 + i, images=[images[i % len(images)]])
        await gc.services.marketplace.listings.publish(gc.guild.id, gc["alice"].id, draft.listing_id)


@pytest.mark.slow  # 40 interactions with rendered grids
async def test_many_browses_leave_a_bounded_number_of_live_buttons(gc):
    """Ephemeral result pages are not kept by discord.py for 15 minutes, and still page."""
    await seed(gc, 12)
    first = await gc.slash("bob", "market browse")
    assert "Page 1/2" in first.text and len(first.buttons) == 12
    before = live_buttons()
    for i in range(20):
        who = "bob" if i % 2 else "carol"
        await gc.click(who, await gc.slash(who, "market browse"), "Next ▶")
    # Before the fix: every page's 12 buttons stayed alive (20 x 2 pages x 12 = 480 here).
    assert live_buttons() - before < 24
    page1 = await gc.click("carol", first, "Next ▶")  # an old page's buttons still work
    assert "Page 2/2" in page1.message.text
    detail = await gc.click("carol", page1, "1")
    assert detail.ephemeral and "Ring 01" in detail.text


async def test_a_results_grid_is_rendered_once_per_distinct_page(gc):
    await seed(gc, 3)
    hits, misses = grid.GRIDS.hits, grid.GRIDS.misses
    pages = [await gc.slash(who, "market browse") for who in ("bob", "carol", "bob")]
    assert all("results.jpg" in p.files for p in pages)
    assert (grid.GRIDS.misses - misses, grid.GRIDS.hits - hits) == (1, 2)
    # A new listing changes the page's content: a new grid, not the cached one.
    await seed(gc, 1)
    await gc.slash("bob", "market browse")
    assert grid.GRIDS.misses - misses == 2
