"""Bounded downloads: member attachments (listings, guides) and token media (NFT gallery)."""

from __future__ import annotations

import aiohttp

from economy.core.errors import InvalidInput
from economy.core.images import ImageTooLarge


async def download(http: aiohttp.ClientSession, url: str, max_bytes: int, *,
                   what: str = "one of the images") -> bytes:
    """GET `url`, refusing bodies over `max_bytes` while streaming.

    No redirects: they could leave the allow-listed host the URL was checked against.
    InvalidInput / ImageTooLarge (friendly messages) on failure.
    """
    failed = f"I couldn't download {what}; please try again."
    too_large = f"Each image can be at most {max_bytes // 2**20} MB."
    try:
        async with http.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise InvalidInput(failed)
            if (response.content_length or 0) > max_bytes:
                raise ImageTooLarge(too_large)
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise ImageTooLarge(too_large)
            return bytes(body)
    except (aiohttp.ClientError, TimeoutError):
        raise InvalidInput(failed) from None


class DownloadingCog:
    """Mixin for cogs that download files: one HTTP session per cog, closed when it unloads.

    Put it before `commands.Cog` in the bases; `fetch` is what the services are given.
    """

    download_timeout: float = 20
    download_what: str = "one of the images"
    http: aiohttp.ClientSession | None = None

    async def cog_load(self) -> None:
        """Open the cog's HTTP session."""
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.download_timeout))

    async def cog_unload(self) -> None:
        """Close the cog's HTTP session."""
        if self.http is not None:
            await self.http.close()

    async def fetch(self, url: str, max_bytes: int) -> bytes:
        """Download one file (no redirects, size-capped)."""
        assert self.http is not None
        return await download(self.http, url, max_bytes, what=self.download_what)
