"""Listing images: download once from an allow-listed host, decode, sanitize, resize.

Discord attachment URLs expire, so the bot keeps its own copies. Everything here trusts the bytes,
never the declared type or file name: a PDF renamed `ring.png` is refused because Pillow cannot
decode it. Pixel counts are checked from the header before any pixel is decoded, so a small file
that would expand to gigabytes (a decompression bomb) is refused without allocating it.
Re-encoding drops EXIF/GPS and every other metadata block: a photo must not reveal where a
collector lives. No Discord imports: the HTTP fetch is injected.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from economy.core.errors import InvalidInput
from economy.marketplace.models import MAX_IMAGES

# fetch(url, max_bytes) -> body; raises ImageTooLarge past max_bytes, InvalidInput on failure.
Fetch = Callable[[str, int], Awaitable[bytes]]


class ImageTooLarge(InvalidInput):
    """A download or decoded image exceeds the limits."""


#: The formats a photo may come in. Others (BMP, TIFF, EPS -> Ghostscript, ICO, ...) are not even
#: opened: every extra decoder is attack surface.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
#: Decodes at once in this process (each may need ~100 MB): ten members uploading ten images
#: each wait their turn instead of exhausting memory.
_DECODES = threading.BoundedSemaphore(2)
#: The threads that decode. Only these two ever hold image buffers, so the C allocator keeps two
#: arenas' worth of freed memory instead of one per thread of the default pool
#: (bench/images_bench.py measures both).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="image-decode")


@dataclass(frozen=True)
class ImageLimits:
    """What an uploaded image may be."""

    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 24_000_000  # a 6000 x 4000 camera photo; a bomb claims far more
    max_count: int = MAX_IMAGES
    full_side: int = 1600
    thumb_side: int = 256
    quality: int = 85


@dataclass(frozen=True)
class ProcessedImage:
    """A sanitized JPEG copy and thumbnail of one upload."""

    full: bytes
    thumb: bytes
    width: int
    height: int


def check_host(url: str, allowed_hosts: Sequence[str]) -> None:
    """Refuse URLs that are not http(s) on an allow-listed host (no user-supplied fetches)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        host, parts = "", None
    if parts is None or parts.scheme not in ("https", "http") or host not in {
        h.lower() for h in allowed_hosts
    }:
        raise InvalidInput("Images must be uploaded to Discord as attachments "
                           "(links to other sites are not accepted).")


def process_image(data: bytes, limits: ImageLimits = ImageLimits()) -> ProcessedImage:
    """Decode `data` and return clean JPEG copies. Raises InvalidInput/ImageTooLarge.

    CPU-bound: call it through `asyncio.to_thread` (see `prepare_images`).
    """
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"Each image can be at most {limits.max_bytes // (1024 * 1024)} MB.")
    with _DECODES:
        return _process(data, limits)


async def process_image_off_loop(data: bytes, limits: ImageLimits = ImageLimits()) -> ProcessedImage:
    """`process_image` on the two decode threads (never blocks the event loop)."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, process_image, data, limits)


def _process(data: bytes, limits: ImageLimits) -> ProcessedImage:
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
            width, height = probe.size  # header only: nothing decoded yet
            if width <= 0 or height <= 0 or width * height > limits.max_pixels:
                raise ImageTooLarge("That image has too many pixels (it may be a "
                                    "decompression bomb); please upload a normal photo.")
            probe.verify()  # structural check of the whole file
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            # JPEG can decode at a reduced scale straight away (far less memory for big photos).
            image.draft("RGB", (limits.full_side, limits.full_side))
            image.load()
            image = ImageOps.exif_transpose(image)  # keep the orientation, then drop EXIF
            image = _flatten(image)
            resized = _shrunk(image, limits.full_side)
            width, height = resized.size
            full = _jpeg(resized, limits.quality)
            thumb = _jpeg(_shrunk(image, limits.thumb_side), limits.quality)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("That image has too many pixels (it may be a decompression bomb); "
                            "please upload a normal photo.") from None
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput("One of the attachments is not an image I can read "
                           "(use JPEG, PNG, WebP or GIF).") from None
    return ProcessedImage(full=full, thumb=thumb, width=width, height=height)


async def prepare_images(
    urls: Sequence[str], fetch: Fetch, *, allowed_hosts: Sequence[str],
    limits: ImageLimits = ImageLimits(),
) -> list[ProcessedImage]:
    """Check hosts and count first, then download each image once and process it off-loop."""
    if len(urls) > limits.max_count:
        raise InvalidInput(f"A listing can have at most {limits.max_count} images.")
    for url in urls:
        check_host(url, allowed_hosts)
    out = []
    for url in urls:
        data = await fetch(url, limits.max_bytes)
        out.append(await process_image_off_loop(data, limits))
    return out


def _flatten(image: Image.Image) -> Image.Image:
    # JPEG has no alpha: composite transparent images on white instead of black.
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _shrunk(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) <= side:
        return image
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # Pillow writes back what `info` holds (a JPEG comment, an ICC profile, ...): start from a
    # copy with none of it, so the new file carries no metadata block at all.
    clean = image.copy()
    clean.info.clear()
    clean.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
