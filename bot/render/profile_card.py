"""The profile card image of /badge profile: a placeholder avatar (the member's initial),
display name, balance and rank, daily streak, and up to three showcased badges framed in their
rarity's colour. Text only from Pillow's bundled font (no download at run time); emoji are not
drawn (the font has none): badges show their name and rarity, the embed beside it the emoji."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 720, 260
BACKGROUND = (35, 39, 46)
PANEL = (47, 52, 61)
TEXT = (240, 240, 240)
MUTED = (170, 176, 186)
RARITY_RGB = {"common": (154, 165, 177), "rare": (59, 130, 246), "epic": (168, 85, 247),
              "legendary": (245, 158, 11)}


@dataclass(frozen=True)
class CardBadge:
    """One showcased badge as drawn: its name, rarity and edition number."""

    name: str
    rarity: str
    serial: int | None = None


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text` shortened with an ellipsis until it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render_profile_card(name: str, *, balance: str, rank: int | None, streak: int,
                        badges_held: int, showcase: list[CardBadge]) -> bytes:
    """PNG bytes of the card."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    big, mid, small = (ImageFont.load_default(size=s) for s in (30, 18, 14))
    # Avatar placeholder: a circle with the initial.
    draw.ellipse((24, 24, 120, 120), fill=(88, 101, 242))
    initial = (name.strip()[:1] or "?").upper()
    draw.text((72, 72), initial, fill=TEXT, font=big, anchor="mm")
    draw.text((140, 30), _fit(draw, name, big, WIDTH - 160), fill=TEXT, font=big)
    ranked = f"rank #{rank:,}" if rank else "unranked"
    draw.text((140, 74), _fit(draw, f"{balance} · {ranked}", mid, WIDTH - 160), fill=MUTED,
              font=mid)
    draw.text((140, 100), f"Daily streak: {streak:,} days · {badges_held:,} badges", fill=MUTED,
              font=mid)
    slot_w = (WIDTH - 48 - 2 * 16) // 3
    for index in range(3):
        left = 24 + index * (slot_w + 16)
        box = (left, 146, left + slot_w, HEIGHT - 24)
        if index >= len(showcase):
            draw.rounded_rectangle(box, radius=12, outline=PANEL, width=2)
            continue
        badge = showcase[index]
        colour = RARITY_RGB.get(badge.rarity, MUTED)
        draw.rounded_rectangle(box, radius=12, fill=PANEL, outline=colour, width=4)
        draw.text((left + 14, 162), _fit(draw, badge.name, mid, slot_w - 28), fill=TEXT, font=mid)
        edition = f" · #{badge.serial}" if badge.serial else ""
        draw.text((left + 14, 192), f"{badge.rarity}{edition}", fill=colour, font=small)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
