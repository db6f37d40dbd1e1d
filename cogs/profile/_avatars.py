"""Members' avatars for the profile card: fetched from Discord's CDN (the sandbox's in tests),
decoded once and kept by URL. The URL names the user and their avatar hash (and the size), so a
new avatar is a new URL and an old one simply ages out of the bounded cache."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from PIL import Image

from bot.render.profile_card import avatar_image
from economy.core.errors import GemsError
from economy.core.images import check_host

log = logging.getLogger(__name__)

#: The avatar size asked of the CDN (a power of two, as the CDN requires).
SIZE = 128
#: At most this many bytes per avatar (a 128 px avatar is a few KB; an animated one more).
MAX_BYTES = 2 * 1024 * 1024
#: Avatars kept decoded (112 px RGBA, ~50 KB each).
CACHE_SIZE = 512

Fetch = Callable[[str, int], Awaitable[bytes]]


class AvatarCache:
    """Decoded avatars by URL, bounded (least recently used out first); one download per URL
    even when many cards ask for it at once."""

    def __init__(self, fetch: Fetch, allowed_hosts: Sequence[str], size: int = CACHE_SIZE) -> None:
        self._fetch = fetch
        self._hosts = allowed_hosts
        self._size = size
        self._images: OrderedDict[str, Image.Image] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Image.Image | None]] = {}
        self.downloads = 0

    async def get(self, url: str) -> Image.Image | None:
        """The avatar at `url`, decoded; None when it cannot be had (the card draws the
        initial instead: a missing avatar never fails a profile)."""
        found = self._images.get(url)
        if found is not None:
            self._images.move_to_end(url)
            return found
        pending = self._pending.get(url)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Image.Image | None] = asyncio.get_running_loop().create_future()
        self._pending[url] = future
        try:
            image = await self._download(url)
            future.set_result(image)
        finally:
            self._pending.pop(url, None)
            if not future.done():
                future.set_result(None)
        if image is not None:
            self._images[url] = image
            while len(self._images) > self._size:
                self._images.popitem(last=False)
        return image

    async def _download(self, url: str) -> Image.Image | None:
        try:
            check_host(url, self._hosts)
            self.downloads += 1
            data = await self._fetch(url, MAX_BYTES)
        except GemsError as error:  # not found, too large, a host not allowed
            log.info("avatar %s not fetched: %s", url, error)
            return None
        return await asyncio.to_thread(avatar_image, data)

    def __len__(self) -> int:
        return len(self._images)
