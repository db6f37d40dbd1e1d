"""Line charts of daily numbers as PNG (Pillow only, its bundled default font).

CPU-bound but small (a 720 x 360 image); the bot calls it through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 720, 360
BACKGROUND = (47, 49, 54)
GRID = (70, 73, 80)
TEXT = (230, 230, 230)
COLOURS = ((64, 196, 255), (250, 166, 26), (87, 242, 135), (237, 66, 69), (200, 140, 255))


def render_chart(title: str, days: Sequence[str],
                 series: Sequence[tuple[str, Sequence[float]]]) -> bytes:
    """PNG: one line per series over `days` (ISO dates), with a legend and the peak value."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    small = ImageFont.load_default(size=12)
    draw.text((16, 10), title[:70], fill=TEXT, font=font)
    x = 16
    for index, (name, _) in enumerate(series[:len(COLOURS)]):
        colour = COLOURS[index]
        draw.rectangle((x, 38, x + 12, 50), fill=colour)
        draw.text((x + 16, 37), name[:24], fill=TEXT, font=small)
        x += 30 + int(draw.textlength(name[:24], font=small))
    left, right, top, bottom = 64, WIDTH - 20, 66, HEIGHT - 40
    values = [v for _, points in series for v in points]
    peak = max([1.0, *(float(v) for v in values)])
    for step in range(5):  # horizontal grid with its values
        y = bottom - (bottom - top) * step / 4
        draw.line((left, y, right, y), fill=GRID)
        draw.text((left - 6, y), _short(peak * step / 4), fill=TEXT, font=small, anchor="rm")
    count = len(days)
    span = max(1, count - 1)

    def at(index: int, value: float) -> tuple[float, float]:
        return (left + (right - left) * index / span if count > 1 else (left + right) / 2,
                bottom - (bottom - top) * float(value) / peak)

    for index, (_, points) in enumerate(series[:len(COLOURS)]):
        coords = [at(i, v) for i, v in enumerate(points)]
        if len(coords) > 1:
            draw.line(coords, fill=COLOURS[index], width=3)
        for cx, cy in coords if len(coords) <= 31 else coords[-1:]:
            draw.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), fill=COLOURS[index])
    labels = {0, count - 1} | ({count // 2} if count > 2 else set())
    for i in sorted(labels):
        if 0 <= i < count:
            draw.text((at(i, 0)[0], bottom + 8), days[i][5:], fill=TEXT, font=small, anchor="ma")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1_000:.0f}k"
    if value >= 10 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2f}"
