"""A progress bar image for community goals."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 600, 96
BACKGROUND = (47, 49, 54)
TRACK = (80, 84, 92)
FILL = (87, 242, 135)
TEXT = (240, 240, 240)


def render_progress(progress: int, target: int, *, title: str) -> bytes:
    """PNG: the title, a rounded bar filled to progress/target, and the numbers."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    draw.text((16, 10), title[:60], fill=TEXT, font=font)
    left, top, right, bottom = 16, 38, WIDTH - 16, 66
    draw.rounded_rectangle((left, top, right, bottom), radius=14, fill=TRACK)
    share = min(1.0, progress / max(1, target))
    if share > 0:
        draw.rounded_rectangle((left, top, left + max(28, int((right - left) * share)), bottom),
                               radius=14, fill=FILL)
    percent = min(100, progress * 100 // max(1, target))
    draw.text((16, 72), f"{progress:,} / {target:,} ({percent}%)", fill=TEXT, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
