"""/wallet gallery token images: tokenURI -> metadata -> image, host-guarded, sanitized, cached."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from aiohttp import web
from eth_account import Account
from PIL import Image

from economy.nft.media import resolve

pytestmark = pytest.mark.timeout(60)


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 400), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def media_server():
    """A metadata/image host on 127.0.0.1 that counts requests."""
    hits: Counter[str] = Counter()
    base = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        hits[path] += 1
        if path == "/meta/1.json":
            return web.json_response({"name": "Emerald #1", "image": f"{base['url']}/img/1.png"})
        if path == "/meta/3.json":
            return web.json_response({"image": "https://evil.example.net/steal.png"})
        if path == "/meta/4.json":
            return web.json_response({"image": f"{base['url']}/moved"})
        if path == "/moved":
            raise web.HTTPFound("https://evil.example.net/x.png")
        if path == "/meta/1155/" + f"{8:064x}" + ".json":
            return web.json_response({"image": f"{base['url']}/img/gem.png"})
        if path == "/img/1.png":
            return web.Response(body=png("green"), content_type="image/png")
        if path == "/img/gem.png":
            return web.Response(body=png("red"), content_type="image/png")
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base["url"] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    yield base["url"], hits
    await runner.cleanup()


def test_ipfs_uris_go_through_the_gateway():
    assert resolve("ipfs://bafy/1.json", "https://ipfs.io") == "https://ipfs.io/ipfs/bafy/1.json"
    assert resolve("ipfs://ipfs/bafy/x", "https://gw.example/") == "https://gw.example/ipfs/bafy/x"
    assert resolve("https://a.example/x", "https://ipfs.io") == "https://a.example/x"


async def test_gallery_shows_sanitized_cached_token_images(ngc, media_server):
    gc, chain = ngc, ngc.chain
    url, hits = media_server
    holder, gem = gc.sb.create_role(gc.guild, "Holder"), gc.sb.create_role(gc.guild, "Gem")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder,
                   token_ids="1-4")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc1155, standard="erc1155", role=gem,
                   token_ids="8")
    account = Account.create()
    await gc.services.wallets._repo.insert_many([{
        "guild_id": gc.guild.id, "user_id": gc["carol"].id, "address": account.address,
        "linked_ms": 0}])
    chain.mint721([account.address] * 4, 1)
    for token_id in (1, 3, 4):
        chain.set_token_uri(token_id, f"{url}/meta/{token_id}.json")
    chain.set_token_uri(2, "https://evil.example.net/meta.json")  # host not allowed: no fetch
    chain.mint1155([account.address], 8, amount=2)
    chain.set_1155_uri(f"{url}/meta/1155/{{id}}.json")
    r = await gc.slash("carol", "wallet gallery")
    files = r.last.files
    assert len(files) == 2, (r.text, hits)  # token 1 and the gem; 2, 3, 4 have no usable image
    assert "4 tokens: #1, #2, #3, #4" in r.text and "2 tokens: #8 ×2" in r.text
    first = hits.copy()
    assert first["/meta/1.json"] == 1 and first["/img/1.png"] == 1 and first["/moved"] == 1
    for data in files.values():  # re-encoded thumbnails, not the served files
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and max(image.size) <= 256
    assert r.last.raw_embeds[0]["image"]["url"].startswith("attachment://")
    await gc.slash("carol", "wallet gallery")
    assert hits == first  # cached: nothing fetched again (misses are cached for an hour too)
