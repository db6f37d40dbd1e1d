"""Today's challenges as an image card: one row per challenge with a progress bar."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH = 720
ROW = 84
PAD = 20
BACKGROUND = (32, 34, 40)
CARD = (47, 49, 54)
BAR_BG = (80, 84, 92)
TYPE_COLOURS = {"activity": (88, 166, 255), "knowledge": (186, 130, 255),
                "creativity": (255, 170, 80), "community": (87, 210, 140)}
DONE = (87, 210, 140)


@dataclass(frozen=True)
class CardRow:
    """What one row shows (plain data; the cog fills it from the service's result)."""

    title: str
    kind: str
    progress: int
    target: int
    done: bool
    reward_text: str


def render_today(header: str, rows: Sequence[CardRow], footer: str) -> bytes:
    """PNG of the day's challenges. CPU-bound: call through `asyncio.to_thread`."""
    height = PAD * 2 + 44 + max(1, len(rows)) * (ROW + 10) + 30
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    big, mid, small = (ImageFont.load_default(size=s) for s in (28, 20, 15))
    draw.text((PAD, PAD), header[:60], fill=(255, 255, 255), font=big)
    y = PAD + 44
    for row in rows:
        draw.rounded_rectangle((PAD, y, WIDTH - PAD, y + ROW), radius=12, fill=CARD)
        colour = TYPE_COLOURS.get(row.kind, (200, 200, 200))
        draw.rounded_rectangle((PAD, y, PAD + 8, y + ROW), radius=4, fill=colour)
        # (the default font has no check-mark glyph; the green bar and the tag say "done")
        title = ("DONE · " if row.done else "") + row.title
        draw.text((PAD + 20, y + 10), title[:48], fill=(255, 255, 255), font=mid)
        draw.text((WIDTH - PAD - 12, y + 12), row.reward_text[:24], fill=(230, 200, 90), font=small,
                  anchor="ra")
        bar = (PAD + 20, y + 46, WIDTH - PAD - 120, y + 64)
        draw.rounded_rectangle(bar, radius=9, fill=BAR_BG)
        share = 1.0 if row.done else min(1.0, row.progress / max(1, row.target))
        if share > 0:
            right = bar[0] + max(18, int((bar[2] - bar[0]) * share))
            draw.rounded_rectangle((bar[0], bar[1], right, bar[3]), radius=9,
                                   fill=DONE if row.done else colour)
        draw.text((WIDTH - PAD - 12, y + 48), f"{row.progress}/{row.target}", fill=(220, 220, 220),
                  font=small, anchor="ra")
        y += ROW + 10
    draw.text((PAD, y + 4), footer[:90], fill=(170, 170, 170), font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
