"""Image intake: bytes are trusted over names, bombs and foreign hosts refused, metadata dropped."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib

import pytest
from PIL import Image

from economy.core.errors import InvalidInput
from economy.core.images import (
    ImageLimits,
    ImageTooLarge,
    check_host,
    prepare_images,
    process_image,
)

pytestmark = pytest.mark.timeout(60)


def photo(width=640, height=480, *, fmt="JPEG", gps=True, colour=(180, 30, 60)) -> bytes:
    """A small photo, optionally with EXIF including a GPS block."""
    image = Image.new("RGB", (width, height), colour)
    out = io.BytesIO()
    if gps and fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}  # GPS IFD
        image.save(out, format=fmt, exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def png_bomb(width=60_000, height=60_000) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * width
    body = zlib.compress(row * 16, 9)  # only a few rows: the file stays tiny
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_exif_and_gps_are_stripped_and_size_capped():
    original = photo(3200, 2400)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825) is not None
    result = process_image(original)
    full = Image.open(io.BytesIO(result.full))
    assert full.format == "JPEG" and max(full.size) == 1600 and (result.width, result.height) == full.size
    assert not full.getexif() and "exif" not in full.info
    thumb = Image.open(io.BytesIO(result.thumb))
    assert max(thumb.size) == 256 and not thumb.getexif()


def test_png_with_transparency_is_flattened_on_white():
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    result = process_image(out.getvalue())
    assert Image.open(io.BytesIO(result.full)).getpixel((5, 5))[0] > 240


@pytest.mark.parametrize("data", [
    b"%PDF-1.4 definitely not an image" * 10,  # a renamed document
    b"",
    photo()[:200],  # truncated JPEG
])
def test_non_images_are_refused(data):
    with pytest.raises(InvalidInput, match="not an image"):
        process_image(data)


def test_decompression_bomb_is_refused_before_decoding():
    bomb = png_bomb()
    assert len(bomb) < 200_000
    with pytest.raises(ImageTooLarge, match="too many pixels"):
        process_image(bomb)


def test_byte_limit():
    with pytest.raises(ImageTooLarge):
        process_image(photo(), ImageLimits(max_bytes=1000))


@pytest.mark.parametrize("url", [
    "https://evil.example.com/cat.png", "ftp://cdn.discordapp.com/x.png",
    "https://cdn.discordapp.com.evil.com/x.png", "javascript:alert(1)", "not a url",
])
def test_foreign_hosts_are_refused(url):
    with pytest.raises(InvalidInput, match="attachments"):
        check_host(url, ["cdn.discordapp.com", "media.discordapp.net"])


async def test_prepare_checks_count_and_hosts_before_downloading():
    fetched = []

    async def fetch(url, max_bytes):
        fetched.append(url)
        return photo()

    hosts = ["cdn.discordapp.com"]
    with pytest.raises(InvalidInput, match="at most 10"):
        await prepare_images([f"https://cdn.discordapp.com/{i}.jpg" for i in range(11)], fetch,
                             allowed_hosts=hosts)
    with pytest.raises(InvalidInput):
        await prepare_images(["https://cdn.discordapp.com/1.jpg", "https://x.io/2.jpg"], fetch,
                             allowed_hosts=hosts)
    assert fetched == []
    done = await prepare_images(["https://cdn.discordapp.com/1.jpg"], fetch, allowed_hosts=hosts)
    assert len(done) == 1 and fetched == ["https://cdn.discordapp.com/1.jpg"]


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM"])
def test_formats_outside_the_allow_list_are_refused(fmt):
    image = Image.new("RGB", (64, 64), (10, 20, 30))
    out = io.BytesIO()
    image.save(out, format=fmt)
    with pytest.raises(InvalidInput, match="JPEG, PNG, WebP or GIF"):
        process_image(out.getvalue())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_allowed_formats_are_read(fmt):
    image = Image.new("RGB", (64, 48), (10, 20, 30))
    out = io.BytesIO()
    image.save(out, format=fmt)
    assert process_image(out.getvalue()).width == 64


def test_jpeg_comment_and_icc_profile_do_not_survive():
    from PIL import ImageCms
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.new("RGB", (200, 100), (1, 2, 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", comment=b"Jane Doe, 12 Gem Street", icc_profile=profile)
    source = out.getvalue()
    assert b"Jane Doe" in source
    processed = process_image(source)
    for stored in (processed.full, processed.thumb):
        assert b"Jane Doe" not in stored
        with Image.open(io.BytesIO(stored)) as again:
            assert "comment" not in again.info and "icc_profile" not in again.info
            assert "exif" not in again.info


def test_a_camera_photo_is_decoded_at_a_reduced_scale(monkeypatch):
    """A 6000x4000 JPEG decodes at 3000x2000 (draft), not full size: a quarter of the memory."""
    from PIL import JpegImagePlugin as JpegImageFile

    decoded: list[tuple[int, int]] = []
    original = JpegImageFile.JpegImageFile.load

    def recording_load(self):
        decoded.append(self.size)
        return original(self)

    monkeypatch.setattr(JpegImageFile.JpegImageFile, "load", recording_load)
    buf = io.BytesIO()
    Image.new("RGB", (6000, 4000), (10, 120, 200)).save(buf, "JPEG", quality=80)
    result = process_image(buf.getvalue())
    assert decoded[-1] == (3000, 2000)
    assert max(result.width, result.height) == 1600


async def test_decodes_run_on_two_threads_at_most():
    import threading

    from economy.core import images

    seen: set[str] = set()
    original = images._process

    def recording(data, limits):
        seen.add(threading.current_thread().name)
        return original(data, limits)

    images._process = recording
    try:
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG")
        await asyncio.gather(*(images.process_image_off_loop(buf.getvalue()) for _ in range(12)))
    finally:
        images._process = original
    assert 1 <= len(seen) <= 2 and all(name.startswith("image-decode") for name in seen)
