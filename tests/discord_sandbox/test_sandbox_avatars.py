"""Avatars as Discord's CDN serves them: the user object carries the hash, the CDN serves the
upload under that hash at a power-of-two size, and refuses what Discord refuses."""

from __future__ import annotations

import io

import aiohttp
import pytest
from PIL import Image

pytestmark = pytest.mark.timeout(30)


def png(colour: tuple[int, int, int], side: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, format="PNG")
    return out.getvalue()


async def test_an_uploaded_avatar_reaches_the_bot_and_the_cdn_serves_it(sb, world, bot):
    digest = sb.set_avatar(world.alice, png((200, 30, 30)))
    assert len(digest) == 32
    await sb.settle()
    member = bot.get_guild(world.guild.id).get_member(world.alice.user.id)
    assert member.avatar is not None and member.avatar.key == digest
    url = member.avatar.replace(size=128, static_format="png").url
    assert url.startswith(sb.base_url + "/cdn/avatars/")
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200 and response.content_type == "image/png"
            image = Image.open(io.BytesIO(await response.read()))
            assert image.size == (128, 128) and image.getpixel((64, 64))[:3] == (200, 30, 30)
        base = f"{sb.base_url}/cdn/avatars/{world.alice.user.id}"
        for path, status in [(f"{digest}.png?size=100", 400),  # not a power of two
                             (f"{digest}.png?size=8192", 400),  # above 4096
                             (f"{digest}.gif", 400),  # a still avatar has no GIF
                             (f"{'0' * 32}.png", 404),  # a hash the user never had
                             (f"{digest}.webp?size=64", 200)]:
            async with http.get(f"{base}/{path}") as response:
                assert response.status == status, path
    # A new upload is a new hash; the bot's cache follows.
    second = sb.set_avatar(world.alice, png((10, 200, 10)))
    await sb.settle()
    assert second != digest
    assert bot.get_guild(world.guild.id).get_member(world.alice.user.id).avatar.key == second
