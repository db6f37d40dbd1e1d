"""A numbered thumbnail grid for a page of marketplace results (one image instead of ten)."""

from __future__ import annotations

import io
from collections.abc import Sequence

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
    font = ImageFont.load_default(size=28)
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
