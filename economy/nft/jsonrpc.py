"""JSON-RPC 2.0 over HTTP for chain reads, and the one time budget a sync spends on the network.

A small client instead of web3's provider because the bot must judge every answer itself: the
response id must be the request's, the body must be a JSON object no larger than a sane bound, an
`error` member is a failure even when a `result` is present, and every wait is capped by the
caller's remaining deadline. Anything else is a ChainError, never a crash.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

#: Larger answers are refused (a 500-read aggregate3 answer is ~160 kB; logs of 2,000 blocks of a
#: busy collection a few MB).
MAX_BODY = 32 * 1024 * 1024
_JSON = {"Content-Type": "application/json"}


class ChainError(Exception):
    """An RPC request failed (timeout, HTTP error, JSON-RPC error, malformed answer)."""


class ChainTimeout(ChainError):
    """No answer in time (the request's timeout or the sync's deadline)."""


class ChainMismatch(ChainError):
    """The node behind a configured URL serves another chain than the one configured."""

    def __init__(self, configured: int, served: int) -> None:
        super().__init__(f"the RPC endpoint configured for chain {configured} serves chain "
                         f"{served}: fix CHAIN_RPC_URLS (this chain is not read until then)")
        self.configured, self.served = configured, served


class Deadline:
    """One time budget for every network wait of one sync, on a monotonic clock.

    Readers sharing it stop on their own after their first timeout (see Web3ChainReader), so a
    node that hangs costs one timeout, not one per batch, and the other chains of the sync keep
    what is left of the budget.
    """

    def __init__(self, seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._ends = monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (may be negative)."""
        return self._ends - self._monotonic()


class JsonRpcHttp:
    """JSON-RPC 2.0 requests to one URL over a shared aiohttp session (created on first use)."""

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        self.url = url
        self._max_connections = max_connections
        self._session: Any = None
        self._ids = itertools.count(1)

    async def close(self) -> None:
        """Close the HTTP session.

        Raises: nothing expected.
        """
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> Any:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections))
        return self._session

    async def call(self, method: str, params: list[Any], *, timeout: float) -> Any:
        """The `result` of one request; ChainError (ChainTimeout after `timeout` s) otherwise.

        Raises: ChainError, ChainTimeout.
        """
        import aiohttp

        rid = next(self._ids)
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode()
        try:
            async with asyncio.timeout(timeout):
                async with self._client().post(self.url, data=body, headers=_JSON) as resp:
                    if resp.status != 200:
                        raise ChainError(f"{method}: HTTP {resp.status} from the RPC endpoint")
                    raw = bytearray()
                    async for chunk in resp.content.iter_chunked(65536):
                        raw += chunk
                        if len(raw) > MAX_BODY:
                            raise ChainError(f"{method}: the answer is larger than {MAX_BODY} bytes")
        except TimeoutError:
            raise ChainTimeout(f"{method}: no answer within {timeout:.1f} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ChainError(f"{method}: {type(exc).__name__}: {str(exc)[:160]}") from None
        return _result(method, rid, bytes(raw))


def _result(method: str, rid: int, raw: bytes) -> Any:
    try:
        response = json.loads(raw)
    except ValueError:
        raise ChainError(f"{method}: the answer is not JSON ({raw[:40]!r})") from None
    if not isinstance(response, dict):
        raise ChainError(f"{method}: the answer is not a JSON-RPC object")
    if response.get("id") != rid:
        raise ChainError(f"{method}: the answer is for another request (id "
                         f"{str(response.get('id'))[:20]}, sent {rid})")
    if response.get("error") is not None:
        error = response["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise ChainError(f"{method}: the node answered an error: {str(message)[:200]}")
    if "result" not in response:
        raise ChainError(f"{method}: the answer has no result")
    return response["result"]


def parse_quantity(method: str, value: Any) -> int:
    """A JSON-RPC QUANTITY ("0x1a"): ChainError for anything else (empty "0x", null, garbage)."""
    if isinstance(value, str) and value[:2] in ("0x", "0X") and 2 < len(value) <= 66:
        try:
            return int(value[2:], 16)
        except ValueError:
            pass
    raise ChainError(f"{method}: the result is not a number ({str(value)[:40]!r})")


def parse_data(method: str, value: Any) -> bytes:
    """JSON-RPC DATA ("0x" + an even number of hex digits; "0x" is empty data)."""
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise ChainError(f"{method}: the result is not hex data ({str(value)[:40]!r})")
