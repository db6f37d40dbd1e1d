"""A faulty JSON-RPC proxy in front of the chain rig: what misbehaving nodes answer.

It forwards every request to the rig unchanged, except where a fault says otherwise. Faults are
what real nodes and the gateways in front of them have been seen to do: an empty "0x" result, a
non-hex or null result, a JSON-RPC error object, an HTML error page, a response carrying another
request's id, ABI data cut short, another chain id, or hanging (no answer at all) after N good
calls. It runs in its own thread with its own event loop, like the rig, so a hang never blocks
the test's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

MODES = ("empty", "nothex", "null", "error", "html", "wrong_id", "short_abi", "chain_id", "hang")


@dataclass
class ProxyFault:
    """Requests for `method` (None: any) after `after` good ones get `mode`, `times` times."""

    mode: str
    method: str | None
    after: int
    times: int
    value: Any = None  # the chain id served by mode "chain_id"
    seen: int = 0


class FaultyProxy:
    """JSON-RPC HTTP on 127.0.0.1, forwarding to `upstream` with injected faults."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.url = ""
        self.calls: Counter[str] = Counter()  # requests received, by method
        self.faults: list[ProxyFault] = []
        self.hanging = threading.Event()  # set when the first request starts hanging
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._http: aiohttp.ClientSession | None = None

    def fault(self, mode: str, *, method: str | None = None, after: int = 0, times: int = 10**9,
              value: Any = None) -> FaultyProxy:
        """From the request after `after` matching ones on, answer `times` requests with `mode`."""
        assert mode in MODES, mode
        self.faults.append(ProxyFault(mode, method, after, times, value))
        return self

    def _take(self, method: str) -> ProxyFault | None:
        for fault in self.faults:
            if fault.method not in (None, method):
                continue
            fault.seen += 1
            if fault.seen > fault.after and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        method, rid = body.get("method"), body.get("id")
        self.calls[method] += 1
        fault = self._take(method)
        mode = fault.mode if fault else None
        if mode == "hang":
            self.hanging.set()
            assert self._release is not None
            await self._release.wait()  # until the proxy stops: a node that never answers
            return web.Response(status=503)
        if mode == "html":
            return web.Response(body=b"<html><body>502 Bad Gateway</body></html>",
                                content_type="text/html")
        if mode == "error":
            return web.json_response({"jsonrpc": "2.0", "id": rid,
                                      "error": {"code": -32603, "message": "internal error"}})
        if mode in ("empty", "nothex", "null"):
            result = {"empty": "0x", "nothex": "0xnot-hex", "null": None}[mode]
            return web.json_response({"jsonrpc": "2.0", "id": rid, "result": result})
        if mode == "chain_id" and method == "eth_chainId":
            return web.json_response({"jsonrpc": "2.0", "id": rid, "result": hex(fault.value)})
        assert self._http is not None
        async with self._http.post(self.upstream, json=body) as upstream:
            answer = await upstream.json(content_type=None)
        if mode == "wrong_id":
            answer["id"] = (rid or 0) + 1000
        if mode == "short_abi" and isinstance(answer.get("result"), str):
            answer["result"] = answer["result"][: max(2, len(answer["result"]) // 2 // 2 * 2)]
        return web.json_response(answer)

    def start(self) -> FaultyProxy:
        """Serve on a free port in a daemon thread; sets `url`."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._release = asyncio.Event()
            app = web.Application()
            app.router.add_post("/", self._handle)
            runner = web.AppRunner(app, access_log=None)

            async def setup() -> int:
                self._http = aiohttp.ClientSession()
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

            port = loop.run_until_complete(setup())
            self.url = f"http://127.0.0.1:{port}/"
            ready.set()
            loop.run_forever()

            async def teardown() -> None:
                assert self._http is not None
                await self._http.close()
                await runner.cleanup()

            loop.run_until_complete(teardown())
            loop.close()

        self._thread = threading.Thread(target=run, name="faulty-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Release hanging requests and stop the server thread."""
        if self._loop is not None:
            def release() -> None:
                assert self._release is not None
                self._release.set()
                self._loop.call_later(0.05, self._loop.stop)  # type: ignore[union-attr]

            self._loop.call_soon_threadsafe(release)
        if self._thread is not None:
            self._thread.join(10)
