"""The avatar cache (one download per URL, bounded, failures drawn as the initial, only allowed
hosts) and the card cache (by content hash, bounded), without Discord."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from bot.render.profile_card import CardBadge, CardCache, CardData, card_key, drawable
from cogs.profile._avatars import AvatarCache
from economy.core.errors import InvalidInput

pytestmark = pytest.mark.timeout(60)
HOSTS = ["cdn.discordapp.com"]


def png(colour=(10, 20, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, format="PNG")
    return out.getvalue()


async def test_one_download_per_url_even_when_many_ask_at_once():
    calls = []

    async def fetch(url: str, max_bytes: int) -> bytes:
        calls.append(url)
        await asyncio.sleep(0.05)
        return png()

    cache = AvatarCache(fetch, HOSTS, size=2)
    url = "https://cdn.discordapp.com/avatars/1/" + "a" * 32 + ".png?size=128"
    images = await asyncio.gather(*[cache.get(url) for _ in range(20)])
    assert calls == [url] and all(i is images[0] for i in images) and images[0].size == (112, 112)
    for n in range(3):  # bounded: the oldest goes
        await cache.get(f"https://cdn.discordapp.com/avatars/{n + 2}/{'b' * 32}.png")
    assert len(cache) == 2
    await cache.get(url)
    assert calls.count(url) == 2


async def test_failures_and_foreign_hosts_give_no_avatar():
    calls = []

    async def fetch(url: str, max_bytes: int) -> bytes:
        calls.append(url)
        if "broken" in url:
            raise InvalidInput("I couldn't download the avatar")
        return b"not an image"

    cache = AvatarCache(fetch, HOSTS)
    assert await cache.get("https://evil.example/avatars/1/x.png") is None
    assert calls == []  # never fetched
    assert await cache.get("https://cdn.discordapp.com/broken.png") is None
    assert await cache.get("https://cdn.discordapp.com/garbage.png") is None
    assert len(cache) == 0


def test_cards_are_cached_by_what_they_show():
    cache = CardCache(size=2)
    one = CardData(name="alice", lines=("Balance: 10 GEMS",), showcase=(CardBadge("A", "rare"),))
    two = CardData(name="alice", lines=("Balance: 11 GEMS",))
    first = cache.render(one)
    assert cache.render(one) is first and cache.hits == 1
    assert cache.render(two) != first and cache.misses == 2
    assert card_key(one, "u1") != card_key(one, "u2")  # another avatar, another card
    cache.render(CardData(name="bob"))
    assert len(cache) == 2


def test_the_picture_leaves_out_what_its_font_cannot_draw():
    assert drawable("💎 1,200 GEMS · rank #1") == "1,200 GEMS · rank #1"
    assert drawable("Zoë “the jeweller”") == "Zoë “the jeweller”"
    alt = CardData(name="💎 alice", lines=("Balance: 💎 5",)).alt_text()
    assert alt.startswith("Profile card of 💎 alice")  # the alt text keeps everything
