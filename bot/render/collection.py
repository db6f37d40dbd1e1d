"""The collection gallery of `/profile collection`: every badge a member holds as a tile framed
in its rarity's colour, with its edition number and a mark on collectibles (numbered editions
of tradeable badges), in the order they were earned.

Drawn with the profile card's font and colours (bot/render/profile_card.py): no emoji in the
picture (the font has none), the embed and the alt text carry the rest.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.render.profile_card import BACKGROUND, MUTED, PANEL, RARITY_RGB, TEXT, _fit, _font

COLUMNS = 4
#: Tiles drawn at most (the embed says how many more there are).
MAX_TILES = 24
TILE_W, TILE_H, GAP, MARGIN, HEADER = 180, 86, 12, 24, 56


@dataclass(frozen=True)
class GalleryTile:
    """One held badge as drawn."""

    name: str
    rarity: str
    serial: int | None = None
    collectible: bool = False


def gallery_alt_text(owner: str, tiles: tuple[GalleryTile, ...], total: int) -> str:
    """The gallery described in words (at most 1,024 characters)."""
    shown = ", ".join(f"{t.name} ({t.rarity}{f' #{t.serial}' if t.serial else ''}"
                      f"{', collectible' if t.collectible else ''})" for t in tiles)
    return f"Collection of {owner}: {total} badge{'' if total == 1 else 's'}: {shown}"[:1024]


def render_collection(owner: str, tiles: tuple[GalleryTile, ...], total: int) -> bytes:
    """PNG bytes of the gallery (the first MAX_TILES tiles; `total` counts them all)."""
    tiles = tiles[:MAX_TILES]
    rows = max(1, -(-len(tiles) // COLUMNS))
    width = MARGIN * 2 + COLUMNS * TILE_W + (COLUMNS - 1) * GAP
    height = HEADER + MARGIN + rows * TILE_H + (rows - 1) * GAP
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    big, mid, small = _font(24), _font(16), _font(13)
    title = f"{owner}'s collection"
    draw.text((MARGIN, 18), _fit(draw, title, big, width - 2 * MARGIN - 140) or "Collection",
              fill=TEXT, font=big)
    count = f"{total} badge{'' if total == 1 else 's'}"
    draw.text((width - MARGIN, 24), count, fill=MUTED, font=mid, anchor="ra")
    for index, tile in enumerate(tiles):
        row, column = divmod(index, COLUMNS)
        x = MARGIN + column * (TILE_W + GAP)
        y = HEADER + row * (TILE_H + GAP)
        colour = RARITY_RGB.get(tile.rarity, MUTED)
        draw.rounded_rectangle((x, y, x + TILE_W, y + TILE_H), radius=10, fill=PANEL,
                               outline=colour, width=3)
        draw.text((x + 12, y + 12), _fit(draw, tile.name, mid, TILE_W - 24) or "?", fill=TEXT,
                  font=mid)
        edition = f" · #{tile.serial}" if tile.serial else ""
        draw.text((x + 12, y + 38), f"{tile.rarity}{edition}", fill=colour, font=small)
        if tile.collectible:
            draw.text((x + 12, y + 58), "collectible", fill=MUTED, font=small)
    out = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, format="PNG", compress_level=1)
    return out.getvalue()
