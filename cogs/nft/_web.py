"""The wallet-link web routes: the static page, its challenge and the signed-message check."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from economy.core.errors import GemsError, NotFound

if TYPE_CHECKING:
    from cogs.nft._cog import NftCog

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# Same-origin script only; no third-party code, no framing.
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def link_routes(cog: NftCog) -> list[web.RouteDef]:
    """Routes for the wallet-link flow (registered on the bot's web server)."""
    page = (STATIC / "link.html").read_bytes()
    script = (STATIC / "link.js").read_bytes()

    async def link_page(request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": CSP})

    async def link_script(request: web.Request) -> web.Response:
        return web.Response(body=script, content_type="text/javascript", charset="utf-8")

    async def challenge(request: web.Request) -> web.Response:
        try:
            await cog.services.nft.check_link_chain(cog.services.nft.chains.default_chain_id)
            fields = await cog.services.wallets.challenge(
                request.match_info["token"], public_url=cog.bot.web.public_url,
                chain_id=cog.services.nft.chains.default_chain_id)
        except GemsError as exc:
            return _error(exc)
        return web.json_response(fields)

    async def verify(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "Send JSON."}, status=400)
        if not isinstance(body, dict) or not all(
                isinstance(body.get(k), str) for k in ("token", "message", "signature")):
            return web.json_response({"error": "token, message and signature are required."},
                                     status=400)
        try:
            await cog.services.nft.check_link_chain(cog.services.nft.chains.default_chain_id)
            linked = await cog.services.wallets.complete(
                body["token"], body["message"], body["signature"],
                public_url=cog.bot.web.public_url,
                chain_id=cog.services.nft.chains.default_chain_id)
        except GemsError as exc:
            return _error(exc)
        roles_text = await cog.after_link(linked)
        return web.json_response({"ok": True, "address": linked.address, "roles_text": roles_text})

    return [
        web.get("/wallet/link/{token}", link_page),
        web.get("/wallet/static/link.js", link_script),
        web.get("/wallet/api/challenge/{token}", challenge),
        web.post("/wallet/api/verify", verify),
    ]


def _error(exc: GemsError) -> web.Response:
    return web.json_response({"error": exc.message}, status=404 if isinstance(exc, NotFound) else 400)
