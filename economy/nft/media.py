"""Token images for `/wallet gallery`: tokenURI -> metadata JSON -> image, guarded and cached.

Metadata and images come from the outside world, so they get the listing images' guards: only
http(s) URLs on allow-listed hosts (NFT_MEDIA_HOSTS; `ipfs://` goes through the IPFS gateway,
which must be on that list), no redirects, size caps, and every image decoded, checked for
decompression bombs and re-encoded by economy.core.images. Results are cached per guild and token
(misses too, for an hour), so a gallery never fetches the same token twice in a row.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta

from economy.core.clock import Clock, span_ms, to_ms
from economy.core.errors import InvalidInput
from economy.core.images import Fetch, ImageLimits, check_host, process_image
from economy.nft.chain import ChainReader
from economy.nft.repo import NftRepo

MAX_METADATA_BYTES = 64 * 1024
MISS_TTL = timedelta(hours=1)
LIMITS = ImageLimits(max_bytes=5 * 1024 * 1024, thumb_side=256)


def resolve(uri: str, gateway: str) -> str:
    """`ipfs://CID/path` -> `{gateway}/ipfs/CID/path`; anything else unchanged."""
    if uri.startswith("ipfs://"):
        path = uri[len("ipfs://"):].removeprefix("ipfs/")
        return f"{gateway.rstrip('/')}/ipfs/{path}"
    return uri


class NftMediaService:
    """Finds, sanitizes and caches token thumbnails."""

    def __init__(self, repo: NftRepo, clock: Clock, *, hosts: Sequence[str],
                 gateway: str = "https://ipfs.io") -> None:
        self._repo = repo
        self._clock = clock
        self.hosts = list(hosts)
        self.gateway = gateway

    async def thumbnail(self, guild_id: int, reader: ChainReader, contract: str, standard: str,
                        token_id: int, fetch: Fetch) -> bytes | None:
        """A ≤256 px JPEG of the token's image, or None (no metadata, refused host, bad file).

        Raises: nothing expected.
        """
        key = f"{reader.chain_id}:{contract}:{token_id}"
        cached = await self._repo.cached_media(guild_id, key)
        now = to_ms(self._clock.now())
        if cached is not None and (cached["status"] == "ok"
                                   or now - cached["fetched_ms"] < span_ms(MISS_TTL)):
            return bytes(cached["thumb"]) if cached["status"] == "ok" else None
        thumb = await self._fetch_thumbnail(reader, contract, standard, token_id, fetch)
        doc = {"status": "ok" if thumb else "none", "fetched_ms": now,
               "thumb": thumb or None}
        await self._repo.cache_media(guild_id, key, doc)
        return thumb

    async def _fetch_thumbnail(self, reader: ChainReader, contract: str, standard: str,
                               token_id: int, fetch: Fetch) -> bytes | None:
        uri = await reader.token_uri(contract, standard, token_id)
        if not uri:
            return None
        try:
            url = resolve(uri, self.gateway)
            check_host(url, self.hosts)
            metadata = json.loads(await fetch(url, MAX_METADATA_BYTES))
            image = metadata.get("image") if isinstance(metadata, dict) else None
            if not isinstance(image, str):
                return None
            image_url = resolve(image, self.gateway)
            check_host(image_url, self.hosts)
            data = await fetch(image_url, LIMITS.max_bytes)
            return (await asyncio.to_thread(process_image, data, LIMITS)).thumb
        except (InvalidInput, ValueError):
            return None  # refused host, oversized, not JSON, not an image: show no picture
