"""Size-capped downloads for images and metadata (Discord-side HTTP, injected into services)."""

from __future__ import annotations

import aiohttp

from economy.errors import InvalidInput
from economy.images import ImageTooLarge


async def fetch_capped(session: aiohttp.ClientSession, url: str, max_bytes: int, *,
                       what: str = "one of the images") -> bytes:
    """GET `url` without following redirects (they could leave an allow-listed host), refusing
    bodies over `max_bytes` while streaming. InvalidInput/ImageTooLarge on failure."""
    try:
        async with session.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise InvalidInput(f"I couldn't download {what}; please try again.")
            if (response.content_length or 0) > max_bytes:
                raise ImageTooLarge(f"Each image can be at most {max_bytes // 2**20} MB.")
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise ImageTooLarge(f"Each image can be at most {max_bytes // 2**20} MB.")
            return bytes(body)
    except (aiohttp.ClientError, TimeoutError):
        raise InvalidInput(f"I couldn't download {what}; please try again.") from None
