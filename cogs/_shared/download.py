"""Bounded downloads of member attachments (images for listings and guides)."""

from __future__ import annotations

import aiohttp

from economy.errors import InvalidInput
from economy.images import ImageTooLarge


async def download(http: aiohttp.ClientSession, url: str, max_bytes: int) -> bytes:
    """Download one attachment, refusing more than `max_bytes`.

    No redirects: they could leave the allow-listed host the URL was checked against.
    """
    failed = "I couldn't download one of the images; please try again."
    try:
        async with http.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise InvalidInput(failed)
            if (response.content_length or 0) > max_bytes:
                raise ImageTooLarge(f"Each image can be at most {max_bytes // 2**20} MB.")
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise ImageTooLarge(f"Each image can be at most {max_bytes // 2**20} MB.")
            return bytes(body)
    except (aiohttp.ClientError, TimeoutError):
        raise InvalidInput(failed) from None
