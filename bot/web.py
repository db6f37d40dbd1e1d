"""The bot's one aiohttp web application: `/healthz` plus routes registered by feature packages.

Started and stopped with the bot (WEB_HOST/WEB_PORT; port 0 picks a free port, as tests do).
Behind a reverse proxy in production, PUBLIC_URL is the address members see; links the bot hands
out are built from it. Feature packages add routes from their `setup(bot)`, before the server
starts (aiohttp freezes the router on start).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.settings import Settings

log = logging.getLogger(__name__)

#: Largest request body any route accepts (wallet signatures are tiny).
MAX_BODY = 64 * 1024

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # link tokens live in URLs: never leak them onwards
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@web.middleware
async def _security_headers(request: web.Request, handler) -> web.StreamResponse:
    response = await handler(request)
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


class WebServer:
    """One aiohttp application for the whole bot process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.app = web.Application(client_max_size=MAX_BODY, middlewares=[_security_headers])
        self.app.router.add_get("/healthz", self._healthz)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        #: What /healthz reports: (all ok, JSON body); set by bot.observability.
        self.health: Callable[[], Awaitable[tuple[bool, dict]]] | None = None

    def add_routes(self, routes: list[web.RouteDef]) -> None:
        """Register a feature's routes (call before `start`)."""
        if self._runner is not None:
            raise RuntimeError("routes must be added before the web server starts")
        self.app.add_routes(routes)

    @property
    def running(self) -> bool:
        """True while the server listens."""
        return self._runner is not None

    @property
    def public_url(self) -> str:
        """The base URL members reach the bot at (PUBLIC_URL, else the listening address)."""
        if self._settings.public_url:
            return self._settings.public_url.rstrip("/")
        port = self.port if self.port is not None else self._settings.web_port
        return f"http://{self._settings.web_host}:{port}"

    async def start(self) -> None:
        """Listen on WEB_HOST:WEB_PORT."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._settings.web_host, self._settings.web_port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._settings.web_port
        log.info("web server listening on %s:%s (public %s)", self._settings.web_host, self.port,
                 self.public_url)

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        if self.health is None:
            return web.json_response({"ok": True})
        ok, body = await self.health()
        return web.json_response(body, status=200 if ok else 503)
