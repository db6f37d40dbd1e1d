"""User avatars as Discord's CDN serves them (developer docs, "Image Formatting").

`avatars/{user_id}/{avatar_hash}.{png|jpg|jpeg|webp|gif}` serves the image the user uploaded,
under the hash the user object carries (`a_` in front for an animated one; only those come as
GIF). `?size=` must be a power of two from 16 to 4096; the image is scaled to it. A hash the
user does not have (an old one, a made-up one) is 404, a bad size or a GIF of a still avatar 400.
"""

from __future__ import annotations

import hashlib
import io
import re

AVATAR_PATH = re.compile(r"avatars/(\d{1,20})/((?:a_)?[0-9a-f]{32})\.(png|jpg|jpeg|webp|gif)")
FORMATS = {"png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg"),
           "jpeg": ("JPEG", "image/jpeg"), "webp": ("WEBP", "image/webp"),
           "gif": ("GIF", "image/gif")}
SIZES = frozenset(2 ** n for n in range(4, 13))


def avatar_hash(data: bytes, *, animated: bool = False) -> str:
    """The hash an uploaded avatar gets (32 hex digits, `a_` first when animated)."""
    return ("a_" if animated else "") + hashlib.md5(data, usedforsecurity=False).hexdigest()


def serve_avatar(avatars: dict[tuple[int, str], bytes], path: str,
                 size: str | None) -> tuple[int, bytes, str | None] | None:
    """(status, body, content type) for an avatar path; None when `path` is no avatar path."""
    match = AVATAR_PATH.fullmatch(path)
    if match is None:
        return None
    user_id, digest, ext = int(match[1]), match[2], match[3]
    data = avatars.get((user_id, digest))
    if data is None:
        return 404, b"", None
    if ext == "gif" and not digest.startswith("a_"):
        return 400, b"", None
    if size is not None and (not size.isdigit() or int(size) not in SIZES):
        return 400, b"", None
    from PIL import Image  # only when an avatar is asked for

    fmt, content_type = FORMATS[ext]
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGBA" if fmt in ("PNG", "WEBP") else "RGB")
        if size is not None:
            image = image.resize((int(size), int(size)))
        out = io.BytesIO()
        image.save(out, format=fmt)
    return 200, out.getvalue(), content_type
