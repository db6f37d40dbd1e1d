"""A numbered thumbnail grid for a page of marketplace results (one image instead of ten).

Rendering (decode ten thumbnails, draw, JPEG-encode) was 40 % of a browse's CPU, and the same
page is shown again and again; :class:`GridCache` renders each distinct page once.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence

from PIL import Image, ImageDraw, ImageFont

TILE = 192
GAP = 8
BACKGROUND = (47, 49, 54)
PLACEHOLDER = (80, 84, 92)


def render_grid(tiles: Sequence[bytes | None], *, columns: int = 5) -> bytes:
    """JPEG of `tiles` (thumbnail bytes, None = no photo) in a grid, each numbered from 1.

    CPU-bound: call through `asyncio.to_thread`. Thumbnails are the bot's own sanitized JPEGs.
    """
    count = max(1, len(tiles))
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    width = columns * TILE + (columns + 1) * GAP
    height = rows * TILE + (rows + 1) * GAP
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = _font()
    for index, data in enumerate(tiles):
        x = GAP + (index % columns) * (TILE + GAP)
        y = GAP + (index // columns) * (TILE + GAP)
        tile = _tile(data)
        canvas.paste(tile, (x + (TILE - tile.width) // 2, y + (TILE - tile.height) // 2))
        draw.rounded_rectangle((x + 4, y + 4, x + 44, y + 40), radius=8, fill=(0, 0, 0))
        draw.text((x + 24, y + 22), str(index + 1), fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _tile(data: bytes | None) -> Image.Image:
    if data:
        try:
            with Image.open(io.BytesIO(data)) as image:
                image = image.convert("RGB")
                image.thumbnail((TILE, TILE))
                return image
        except OSError:
            pass
    return Image.new("RGB", (TILE, TILE), PLACEHOLDER)


@functools.cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The tile-number font, loaded once per process (loading it cost as much as a tile)."""
    return ImageFont.load_default(size=28)


class GridCache:
    """Rendered grids by content key, least recently used first out, bounded in bytes.

    The key must name the content exactly (the thumbnails' immutable image ids, in order): a
    page with another photo, order or count has another key. Concurrent requests for one key
    share one render, so a burst of identical browses renders once.
    """

    def __init__(self, max_bytes: int = 8 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._grids: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._pending: dict[Hashable, asyncio.Future[bytes]] = {}
        self.hits = self.misses = 0

    async def get(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> bytes:
        """The grid for `key`, calling `render()` only when no copy is cached or under way."""
        grid = self._grids.get(key)
        if grid is not None:
            self._grids.move_to_end(key)
            self.hits += 1
            return grid
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        self.misses += 1
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            grid = await render()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here: waiters (if any) get it re-raised
            raise
        finally:
            del self._pending[key]
        future.set_result(grid)
        self._store(key, grid)
        return grid

    def forget_guild(self, guild_id: int) -> int:
        """Drop every grid of a guild (keys start with the guild id); returns how many.

        After /privacy delete, so no rendered copy of a deleted member's photos stays in memory
        (those keys are never asked for again, but they would wait for eviction)."""
        doomed = [key for key in self._grids
                  if isinstance(key, tuple) and key and key[0] == guild_id]
        for key in doomed:
            self._size -= len(self._grids.pop(key))
        return len(doomed)

    def _store(self, key: Hashable, grid: bytes) -> None:
        if len(grid) > self.max_bytes:
            return
        self._grids[key] = grid
        self._size += len(grid)
        while self._size > self.max_bytes:
            _, old = self._grids.popitem(last=False)
            self._size -= len(old)


#: The process's result grids (content-keyed, so one cache serves every guild).
GRIDS = GridCache()
