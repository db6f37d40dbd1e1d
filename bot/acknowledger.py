"""Initial responses (defers) sent outside the bot's event loop, by a thread of their own.

Discord's 3 s deadline applies to an interaction's first response. On a loaded host (another
process keeping a core busy) the bot's event loop, shared by a burst's handlers, their queries,
their rendering and garbage collection, could not send 1,000 defers in time (issue 28). The
acknowledger is a daemon thread with its own event loop and its own small aiohttp session to
Discord's interaction callback endpoint (``POST /interactions/{id}/{token}/callback``, the route
discord.py's ``InteractionResponse.defer`` uses); it does nothing but send defers, so no handler
work queues in front of them, and the interpreter's thread switching gives it the processor at
least every few milliseconds however busy the main loop is.

Exactly one initial response per interaction: each interaction has a :class:`Claim`, taken
atomically (a lock) either by the acknowledger just before it sends the defer, or by the handler
just before it sends its own first response. Whoever takes it sends the initial response; the
other one never does. A handler that lost the claim waits for the acknowledger's
:class:`AckOutcome` and answers through the webhook (an edit or a followup) after a defer, by DM
when the token had expired, or itself when the defer was not sent at all (a failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
import discord

log = logging.getLogger(__name__)

#: Keep-alive connections the acknowledger keeps to Discord (its own pool, not discord.py's).
ACK_CONNECTIONS = 32
#: Give up on one defer after this long: the deadline (3 s) has passed by then anyway.
ACK_TIMEOUT = 5.0
_EXPIRED_CODES = {10062, 10015}
_ALREADY_ACKNOWLEDGED = 40060


class AckOutcome(enum.Enum):
    """What happened to one interaction's acknowledgement."""

    #: The defer was sent and Discord accepted it: the handler answers through the webhook.
    ACKED = "acked"
    #: The handler took the claim first: the acknowledger sent nothing.
    SKIPPED = "skipped"
    #: Discord refused the defer as too late (10062): the token is dead, answer by DM.
    EXPIRED = "expired"
    #: Discord refused the defer (an unexpected status): the handler answers itself.
    FAILED = "failed"
    #: The request may or may not have reached Discord (connection lost, timeout): the handler
    #: answers itself, and a 40060 ("already acknowledged") then means the defer did arrive.
    UNCERTAIN = "uncertain"


class Claim:
    """Who sends one interaction's initial response; the first `take` wins, atomically.

    Taken from two threads (the acknowledger's and the bot's event loop), hence a real lock.
    """

    __slots__ = ("_lock", "owner")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: str | None = None

    def take(self, who: str) -> bool:
        """Claim the initial response for `who`; True if it was free (or already `who`'s)."""
        with self._lock:
            if self.owner is None:
                self.owner = who
            return self.owner == who


def defer_body(*, update: bool, ephemeral: bool) -> dict[str, Any]:
    """The callback body of a defer: a deferred update (6) or a deferred message (5)."""
    if update:
        return {"type": discord.InteractionResponseType.deferred_message_update.value}
    body: dict[str, Any] = {"type": discord.InteractionResponseType.deferred_channel_message.value}
    if ephemeral:
        body["data"] = {"flags": 64}
    return body


def _api_base() -> str:
    # Read at send time: tests and benches point discord.py at the sandbox after import.
    return discord.http.Route.BASE


class Acknowledger:
    """A thread that sends interactions' defers; start it once, stop it when the bot closes."""

    def __init__(self, *, base_url: Callable[[], str] = _api_base,
                 connections: int = ACK_CONNECTIONS, timeout: float = ACK_TIMEOUT) -> None:
        self._base_url = base_url
        self._connections = connections
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        #: Defers sent and accepted, claims lost to the handler, and failures, for bench/tests.
        self.sent = 0
        self.skipped = 0
        self.failed = 0
        #: (asked, sending, answered) monotonic times of the latest defers, for the bench.
        self.timings: deque[tuple[float, float, float]] = deque(maxlen=10_000)

    @property
    def running(self) -> bool:
        """True while the thread serves defers."""
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    def start(self) -> None:
        """Start the thread (idempotent) and wait until its session is open."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="gems-acknowledger", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        """Close the session and end the thread; pending defers are dropped (their handlers
        answer themselves: an outcome never set is treated as a failure by the policy)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None

    def acknowledge(self, claim: Claim, interaction_id: int, token: str, body: dict[str, Any],
                    *, delay: float = 0.0) -> asyncio.Future[AckOutcome]:
        """Send the defer `body` after `delay` seconds unless the handler claims it first.

        Call from the bot's event loop; returns a future of that loop resolving to the outcome.
        """
        if self._loop is None or not self.running:
            raise RuntimeError("the acknowledger is not running")
        inner = asyncio.run_coroutine_threadsafe(
            self._acknowledge(claim, interaction_id, token, body, delay, time.monotonic()),
            self._loop)
        return asyncio.wrap_future(inner)

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        connector = aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=30)
        async with aiohttp.ClientSession(connector=connector) as session:
            self._session = session
            self._ready.set()
            await self._stop.wait()

    async def _acknowledge(self, claim: Claim, interaction_id: int, token: str,
                           body: dict[str, Any], delay: float, asked: float) -> AckOutcome:
        if delay > 0:
            await asyncio.sleep(delay)
        if not claim.take("ack"):
            self.skipped += 1
            return AckOutcome.SKIPPED
        assert self._session is not None
        url = f"{self._base_url()}/interactions/{interaction_id}/{token}/callback"
        sending = time.monotonic()
        try:
            async with self._session.post(
                url, json=body, params={"with_response": "1"},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                payload: Any = None
                with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
                    payload = await response.json(content_type=None)
                if delay <= 0:
                    self.timings.append((asked, sending, time.monotonic()))
                if response.status < 300:
                    self.sent += 1
                    return AckOutcome.ACKED
                code = payload.get("code") if isinstance(payload, dict) else None
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            self.failed += 1
            log.info("could not defer interaction %s: %r", interaction_id, error)
            return AckOutcome.UNCERTAIN
        if code == _ALREADY_ACKNOWLEDGED:  # a retry of ours that Discord had already taken
            self.sent += 1
            return AckOutcome.ACKED
        if response.status == 404 or code in _EXPIRED_CODES:
            return AckOutcome.EXPIRED
        self.failed += 1
        log.info("defer of interaction %s refused: %s %s", interaction_id, response.status, payload)
        return AckOutcome.FAILED


def outcome_of(future: asyncio.Future[AckOutcome]) -> AckOutcome:
    """The outcome of a finished acknowledgement; a cancelled or crashed one counts as FAILED."""
    if future.cancelled():
        return AckOutcome.FAILED
    error = future.exception()
    if error is not None:
        return AckOutcome.FAILED
    return future.result()


__all__ = ["ACK_CONNECTIONS", "AckOutcome", "Acknowledger", "Claim", "defer_body", "outcome_of"]
