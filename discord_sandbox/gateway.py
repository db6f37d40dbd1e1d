"""The emulated Discord gateway: HELLO, heartbeats, IDENTIFY/READY, RESUME and dispatches.

One :class:`GatewaySession` exists per identified shard. Dispatches get sequence numbers and are
kept in the session's history, so a client that RESUMEs after a reconnect (op 7) is replayed what
it missed. Frames are plain JSON text: discord.py only decompresses binary frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

HEARTBEAT_INTERVAL_MS = 41250
HISTORY_LIMIT = 5000

#: GUILD_MEMBERS, GUILD_PRESENCES and MESSAGE_CONTENT: off until enabled in the Developer Portal.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)


@dataclass(eq=False)
class GatewaySession:
    """One identified gateway session (one shard of the bot)."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    #: True when IDENTIFY named a shard; READY then carries ``shard`` (even ``[0, 1]``).
    sharded: bool = False
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    history: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=HISTORY_LIMIT))
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    resumes: int = 0
    #: The highest sequence number the client reported in a heartbeat (what it has read).
    acked_seq: int = 0
    heartbeat_seen: asyncio.Event = field(default_factory=asyncio.Event)

    def serves_guild(self, guild_id: int | None) -> bool:
        """Discord's shard formula; DMs and guild-less events go to shard 0."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Give the event a sequence number, keep it for RESUME and queue it if connected."""
        self.seq += 1
        frame = json.dumps({"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data})
        self.history.append((self.seq, frame))
        if self.ws is not None:
            self.outbox.put_nowait(frame)
        return self.seq

    def detach(self) -> None:
        """Forget the current socket: later dispatches wait in history for a RESUME."""
        self.ws = None
        # A fresh outbox: frames queued for the old socket must not leak onto the new one;
        # the RESUME replay sends everything after the client's last seen sequence.
        self.outbox.put_nowait(None)
        self.outbox = asyncio.Queue()


class Gateway:
    """Serves the websocket endpoint and routes dispatches to the right session.

    ``on_identify(session)`` must return the READY payload and the GUILD_CREATE payloads for that
    shard; the gateway sends them in order. ``check_token`` validates IDENTIFY/RESUME tokens.
    """

    def __init__(
        self,
        *,
        url: Callable[[], str],
        check_token: Callable[[str], bool],
        on_identify: Callable[[GatewaySession], tuple[dict[str, Any], list[dict[str, Any]]]],
        on_request_members: Callable[[dict[str, Any]], list[dict[str, Any]]],
    ) -> None:
        self._url = url
        self._check_token = check_token
        self._on_identify = on_identify
        self._on_request_members = on_request_members
        self.sessions: dict[str, GatewaySession] = {}
        #: Privileged intents enabled for the application (Developer Portal toggles); IDENTIFY
        #: asking for any other privileged intent is closed with 4014, as Discord does.
        self.allowed_privileged_intents = PRIVILEGED_INTENTS
        self.identifies = 0
        self.resumes = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self._closing: set[asyncio.Task[bool]] = set()

    # -- routing -------------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None) -> None:
        """Send an event to the session serving ``guild_id`` (all matching sessions)."""
        for session in self.sessions.values():
            if session.serves_guild(guild_id):
                session.dispatch(event, data)

    async def reconnect_all(self) -> list[GatewaySession]:
        """Send op 7 to every connected session and detach it (the client will RESUME)."""
        hit = []
        for session in self.sessions.values():
            ws = session.ws
            if ws is None:
                continue
            session.detach()
            hit.append(session)
            with contextlib.suppress(ConnectionError):
                await ws.send_str(json.dumps({"op": OP_RECONNECT, "d": None}))
        return hit

    async def sync(self, timeout: float = 10.0) -> None:
        """Wait until every connected client has read every dispatch sent so far.

        Sends op 1 (Discord's "heartbeat now" request) behind the queued frames; the client answers
        with the last sequence it read, so afterwards its event handlers have been scheduled. This
        works for a client in another process, where ``DiscordSandbox.settle`` cannot look.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for session in list(self.sessions.values()):
            if session.ws is None:
                continue
            target = session.seq
            while session.acked_seq < target:
                session.heartbeat_seen.clear()
                session.outbox.put_nowait(json.dumps({"op": OP_HEARTBEAT, "d": None}))
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"shard {session.shard_id} did not read sequence {target}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(session.heartbeat_seen.wait(), min(remaining, 1.0))

    async def close(self) -> None:
        """Close every socket (server shutdown)."""
        for ws in list(self._sockets):
            await ws.close()

    # -- websocket handler ---------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for the gateway URL."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: GatewaySession | None = None
        writer: asyncio.Task[None] | None = None
        try:
            await ws.send_str(
                json.dumps({"op": OP_HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, d = frame.get("op"), frame.get("d")
                if op == OP_HEARTBEAT:
                    if session is not None and isinstance(d, int):
                        session.acked_seq = max(session.acked_seq, d)
                        session.heartbeat_seen.set()
                    await ws.send_str(json.dumps({"op": OP_HEARTBEAT_ACK}))
                elif op == OP_IDENTIFY:
                    if not self._check_token(d.get("token", "")):
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    if int(d.get("intents") or 0) & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
                        await ws.close(code=4014, message=b"Disallowed intent(s).")
                        break
                    session = self._identify(ws, d)
                    writer = asyncio.create_task(self._writer(session, ws, session.outbox))
                elif op == OP_RESUME:
                    session = self.sessions.get(d.get("session_id", ""))
                    if session is None or not self._check_token(d.get("token", "")):
                        await ws.send_str(json.dumps({"op": OP_INVALID_SESSION, "d": False}))
                        continue
                    self._resume(session, ws, int(d.get("seq") or 0))
                    writer = asyncio.create_task(self._writer(session, ws, session.outbox))
                elif op == OP_REQUEST_MEMBERS and session is not None:
                    for chunk in self._on_request_members(d):
                        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
                # op 3 (presence), 4 (voice) and anything else: accepted and ignored.
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.detach()
            if writer is not None:
                writer.cancel()
        return ws

    def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> GatewaySession:
        shard_id, shard_count = d.get("shard") or (0, 1)
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            shard_id=int(shard_id),
            shard_count=int(shard_count),
            intents=int(d.get("intents") or 0),
            sharded="shard" in d,
        )
        self.sessions[session.session_id] = session
        self.identifies += 1
        session.ws = ws
        ready, guild_creates = self._on_identify(session)
        session.dispatch("READY", ready)
        for guild in guild_creates:
            session.dispatch("GUILD_CREATE", guild)
        return session

    def _resume(self, session: GatewaySession, ws: web.WebSocketResponse, seq: int) -> None:
        old = session.ws
        if old is not None and old is not ws:
            session.detach()
            closing = asyncio.create_task(old.close())
            self._closing.add(closing)  # keep a reference until the close completes
            closing.add_done_callback(self._closing.discard)
        session.ws = ws
        session.resumes += 1
        self.resumes += 1
        for s, frame in session.history:
            if s > seq:
                session.outbox.put_nowait(frame)
        session.dispatch("RESUMED", {"_trace": ["sandbox"]})

    async def _writer(
        self,
        session: GatewaySession,
        ws: web.WebSocketResponse,
        outbox: asyncio.Queue[str | None],
    ) -> None:
        # One writer per socket keeps frames in sequence order even when dispatches come from
        # synchronous harness code.
        while True:
            frame = await outbox.get()
            if frame is None or ws.closed:
                return
            try:
                await ws.send_str(frame)
            except ConnectionError:
                return
