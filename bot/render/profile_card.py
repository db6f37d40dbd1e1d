"""The profile card image of `/profile view`: the member's avatar (or their initial when they
have none or it could not be fetched), display name, a few lines of standing (balance and rank,
streak, seller rating, mentor level, NFT holdings, season standing) and up to three showcased
badges framed in their rarity's colour.

Text is drawn with the font Pillow ships inside its wheel (`ImageFont.load_default(size)`:
Aileron Regular, an open-licence (CC0) font bundled in the PyPI package, so nothing is
downloaded at run time). It has no emoji, so badges show their name and rarity; the embed
beside the picture carries the emoji.

Cards are cached by the hash of everything drawn (`card_key`): the same standing and the same
avatar give the same bytes without drawing again; the cache is bounded (least recently used
first out).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 262
AVATAR = 112
BACKGROUND = (35, 39, 46)
PANEL = (47, 52, 61)
TEXT = (240, 240, 240)
MUTED = (170, 176, 186)
RARITY_RGB = {"common": (154, 165, 177), "rare": (59, 130, 246), "epic": (168, 85, 247),
              "legendary": (245, 158, 11)}
#: Cards kept in memory (each ~30-60 KB of PNG).
CACHE_SIZE = 256


@dataclass(frozen=True)
class CardBadge:
    """One showcased badge as drawn: its name, rarity and edition number."""

    name: str
    rarity: str
    serial: int | None = None


@dataclass(frozen=True)
class CardData:
    """Everything a card shows, as text: the card is a pure function of it and the avatar."""

    name: str
    lines: tuple[str, ...] = ()
    showcase: tuple[CardBadge, ...] = ()
    #: Shown in the showcase row when the member hides their badges.
    showcase_note: str | None = None

    def alt_text(self) -> str:
        """The picture described in words (the attachment's alt text, at most 1,024 chars)."""
        pinned = ", ".join(f"{b.name} ({b.rarity}{f' #{b.serial}' if b.serial else ''})"
                           for b in self.showcase)
        parts = [f"Profile card of {self.name}", *self.lines]
        parts.append(f"Showcase: {pinned}" if pinned else (self.showcase_note or
                                                            "No badges pinned"))
        return ". ".join(parts)[:1024]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


@cache
def _mask() -> Image.Image:
    """A circle, drawn 4x larger and scaled down so its edge is smooth."""
    big = Image.new("L", (AVATAR * 4, AVATAR * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, AVATAR * 4 - 1, AVATAR * 4 - 1), fill=255)
    return big.resize((AVATAR, AVATAR), Image.Resampling.LANCZOS)


#: Characters outside Latin the bundled font draws; anything else (emoji, other scripts) it
#: would draw as empty boxes, so it is left out of the picture (the embed and alt text keep it).
_EXTRA_GLYPHS = frozenset("…‘’“”")


def drawable(text: str) -> str:
    """`text` without the characters the font cannot draw (spaces tidied)."""
    kept = "".join(ch for ch in text if ch.isprintable() and (ord(ch) < 0x250
                                                              or ch in _EXTRA_GLYPHS))
    return " ".join(kept.split())


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text` (drawable characters only) shortened with an ellipsis to fit `width` pixels."""
    text = drawable(text)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def avatar_image(data: bytes) -> Image.Image | None:
    """A decoded avatar, square and AVATAR pixels wide (None when the bytes are no image)."""
    try:
        with Image.open(io.BytesIO(data)) as found:
            if found.width * found.height > 4096 * 4096:  # Discord serves at most 4096²
                return None
            found.seek(0)  # an animated avatar: its first frame
            image = found.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize(
        (AVATAR, AVATAR), Image.Resampling.LANCZOS)


def card_key(data: CardData, avatar_key: str | None) -> str:
    """The content hash a card is cached under: what is drawn and which avatar."""
    return hashlib.sha256(repr((data, avatar_key)).encode()).hexdigest()


def render_profile_card(data: CardData, avatar: Image.Image | None = None) -> bytes:
    """PNG bytes of the card (`avatar` from `avatar_image`, else the initial is drawn)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    big, mid, small = _font(30), _font(18), _font(14)
    if avatar is not None:
        image.paste(avatar, (24, 24), _mask())
    else:
        draw.ellipse((24, 24, 24 + AVATAR, 24 + AVATAR), fill=(88, 101, 242))
        initial = (drawable(data.name)[:1] or "?").upper()
        draw.text((24 + AVATAR // 2, 24 + AVATAR // 2), initial, fill=TEXT, font=big,
                  anchor="mm")
    left = 24 + AVATAR + 24
    draw.text((left, 24), _fit(draw, data.name, big, WIDTH - left - 24) or "?", fill=TEXT,
              font=big)
    for index, line in enumerate(data.lines[:8]):
        column, row = divmod(index, 4)
        x = left + column * ((WIDTH - left - 24) // 2)
        draw.text((x, 64 + row * 23), _fit(draw, line, mid, (WIDTH - left - 40) // 2),
                  fill=MUTED, font=mid)
    slot_w = (WIDTH - 48 - 2 * 16) // 3
    top = 166
    for index in range(3):
        x = 24 + index * (slot_w + 16)
        box = (x, top, x + slot_w, HEIGHT - 24)
        if index >= len(data.showcase):
            draw.rounded_rectangle(box, radius=12, outline=PANEL, width=2)
            if index == 0 and data.showcase_note:
                draw.text((x + 14, top + 16), _fit(draw, data.showcase_note, small, slot_w - 28),
                          fill=MUTED, font=small)
            continue
        badge = data.showcase[index]
        colour = RARITY_RGB.get(badge.rarity, MUTED)
        draw.rounded_rectangle(box, radius=12, fill=PANEL, outline=colour, width=4)
        draw.text((x + 14, top + 16), _fit(draw, badge.name, mid, slot_w - 28), fill=TEXT,
                  font=mid)
        edition = f" · #{badge.serial}" if badge.serial else ""
        draw.text((x + 14, top + 46), f"{badge.rarity}{edition}", fill=colour, font=small)
    out = io.BytesIO()
    # A card is flat colour, text and one small avatar: 256 colours show it all, and a palette
    # PNG skips the per-row filtering that makes an RGB PNG cost ~20 ms (bench/profile_bench.py).
    image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, format="PNG", compress_level=1)
    return out.getvalue()


class CardCache:
    """Rendered cards by content hash, bounded (least recently used out first). Thread-safe:
    cards are rendered in worker threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._cards: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def render(self, data: CardData, avatar: Image.Image | None = None,
               avatar_key: str | None = None) -> bytes:
        """The card's PNG: from the cache when the same card was drawn before."""
        key = card_key(data, avatar_key if avatar is not None else None)
        with self._lock:
            found = self._cards.get(key)
            if found is not None:
                self._cards.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        png = render_profile_card(data, avatar)
        with self._lock:
            self._cards[key] = png
            while len(self._cards) > self._size:
                self._cards.popitem(last=False)
        return png

    def __len__(self) -> int:
        return len(self._cards)
