"""The sandbox as its own process, driven over a small HTTP control API.

In tests the sandbox shares the bot's event loop, so its own work (dispatching gateway events,
answering REST calls, keeping the world) is counted against the bot. For load measurements run it
alone::

    python -m discord_sandbox.standalone --port-file /tmp/sandbox.port

It prints/writes the control port, then serves the Discord emulator (REST + gateway) on another
port. The control API (JSON, loopback only):

- ``POST /setup`` ``{"guild": name, "members": n}`` -> ids of the guild, its channel, the members,
  plus the emulator's ``base_url``, the bot ``token`` and ``application_id``.
- ``POST /burst`` ``{"interactions": [{"user_id", "kind": "slash"|"click", "data", "message_id"?}]}``
  dispatches every interaction in one go (one loop turn: a real burst) -> ``{"ids": [...]}``.
  Slash ``data`` is Discord's ``data`` object; user options are resolved from the world.
  A click on a button its message no longer carries (edited meanwhile) is refused as Discord
  refuses it (400, 50035 component validation failed) and nothing of the burst is dispatched.
- ``POST /status`` ``{"ids": [...]}`` -> per interaction: seconds to the first response,
  response type, seconds to the final answer (a message, an edit of the deferred response, a
  followup or a DM), plus the recorded deadline violations and interactions still unanswered
  after Discord's 3 s.
- ``POST /message`` ``{"interaction_id"}`` -> the original response message payload.
- ``POST /shutdown``.

The bot process points discord.py at the emulator with :func:`point_discord_at`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import discord
import yarl
from aiohttp import web

from .harness import DiscordSandbox
from .interactions import (
    APPLICATION_COMMAND,
    CHANNEL_MESSAGE,
    MESSAGE_COMPONENT,
    UPDATE_MESSAGE,
    InteractionRecord,
)
from .server import INTERACTION_DEADLINE, DiscordServer


def point_discord_at(base_url: str) -> None:
    """Send this process's discord.py REST, gateway and CDN traffic to a sandbox at base_url."""
    discord.http.Route.BASE = base_url + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        base_url.replace("http://", "ws://") + "/gateway-ws")
    discord.asset.Asset.BASE = base_url + "/cdn"


class TimedServer(DiscordServer):
    """A DiscordServer that also stamps when each interaction's final answer arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.final_at: dict[int, float] = {}

    def _stamp(self, rec: InteractionRecord | None) -> None:
        if rec is not None and rec.id not in self.final_at:
            self.final_at[rec.id] = self.clock()

    async def callback(self, request: web.Request) -> web.Response:
        response = await super().callback(request)
        rec = self.interactions.get(int(request.match_info["interaction_id"]))
        if rec is not None and rec.response_type in (CHANNEL_MESSAGE, UPDATE_MESSAGE, 9):
            self._stamp(rec)
        return response

    async def followup(self, request: web.Request) -> web.Response:
        response = await super().followup(request)
        self._stamp(self.by_token.get(request.match_info["token"]))
        return response

    async def webhook_edit(self, request: web.Request) -> web.Response:
        response = await super().webhook_edit(request)
        self._stamp(self.by_token.get(request.match_info["token"]))
        return response


class Controller:
    """The control API over one sandbox."""

    def __init__(self, sb: DiscordSandbox) -> None:
        self.sb = sb
        self.server: TimedServer = sb.server  # type: ignore[assignment]
        self.guild: Any = None
        self.stopped = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/setup", self.setup), web.post("/burst", self.burst),
                web.post("/status", self.status), web.post("/message", self.message),
                web.post("/shutdown", self.shutdown)]

    async def setup(self, request: web.Request) -> web.Response:
        body = await request.json()
        sb = self.sb
        self.guild = sb.create_guild(body.get("guild", "Bench"))
        members = [sb.add_member(self.guild, f"m{i:04d}") for i in range(int(body.get("members", 10)))]
        return _json({
            "guild_id": self.guild.id, "channel_id": self.guild.text_channels()[0].id,
            "members": [m.user.id for m in members], "base_url": sb.base_url,
            "token": sb.token, "application_id": sb.application_id,
        })

    async def burst(self, request: web.Request) -> web.Response:
        body = await request.json()
        stale = [item for item in body["interactions"] if not self._clickable(item)]
        if stale:  # Discord validates a click against the message as it is now
            return web.json_response(
                {"code": 50035, "message": "Invalid Form Body",
                 "errors": {"data": {"_errors": [{"code": "COMPONENT_VALIDATION_FAILED",
                                                  "message": "Component validation failed"}]}}},
                status=400)
        ids = [self._dispatch(item).id for item in body["interactions"]]
        return _json({"ids": ids})

    def _clickable(self, item: dict[str, Any]) -> bool:
        """A click names an enabled component its message carries now (slash: always)."""
        if item.get("kind", "slash") != "click":
            return True
        msg = self.sb.world.find_message(int(item["message_id"]))
        custom_id = item["data"].get("custom_id")
        return any(c.custom_id == custom_id and not c.disabled for c in msg.components)

    def _dispatch(self, item: dict[str, Any]) -> InteractionRecord:
        sb, world = self.sb, self.sb.world
        actor = world.member(self.guild, int(item["user_id"]))
        chan = self.guild.text_channels()[0]
        data = dict(item["data"])
        if item.get("kind", "slash") == "click":
            msg = world.find_message(int(item["message_id"]))
            return sb._send_interaction(MESSAGE_COMPONENT, actor, world.channel(msg.channel_id),
                                        data, message=msg)
        resolved: dict[str, dict[str, Any]] = {}
        for option in _leaf_options(data.get("options") or []):
            if option.get("type") == 6:  # a user option: Discord resolves it
                member = world.member(self.guild, int(option["value"]))
                resolved.setdefault("users", {})[str(member.user.id)] = member.user.payload()
                payload = member.payload(with_user=False)
                payload["permissions"] = str(self.guild.channel_permissions(member, chan))
                resolved.setdefault("members", {})[str(member.user.id)] = payload
        if resolved:
            data["resolved"] = resolved
        data.setdefault("id", str(self.server.command_id(data["name"], self.guild.id)))
        data.setdefault("type", 1)
        return sb._send_interaction(APPLICATION_COMMAND, actor, chan, data)

    async def status(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = self.server.clock()
        out = []
        for iid in body["ids"]:
            rec = self.server.interactions[int(iid)]
            final = self.server.final_at.get(rec.id)
            dm = self._dm_after(rec)
            out.append({
                "id": str(rec.id), "first": rec.latency, "type": rec.response_type,
                "final": None if final is None else final - rec.dispatched_at,
                "dm": dm,
            })
        overdue = sum(1 for rec in self.server.interactions.values()
                      if rec.answered_at is None and now - rec.dispatched_at > INTERACTION_DEADLINE)
        return _json({"interactions": out,
                      "deadline_violations": len(self.server.log.deadline_violations),
                      "overdue": overdue, "unhandled": len(self.server.log.unhandled)})

    def _dm_after(self, rec: InteractionRecord) -> bool:
        return bool(self.sb.dms(rec.user)) if rec.answered_at is None else False

    async def message(self, request: web.Request) -> web.Response:
        body = await request.json()
        rec = self.server.interactions[int(body["interaction_id"])]
        if rec.original_id is None:
            return _json({})
        return _json(self.sb.world.find_message(rec.original_id).payload())

    async def shutdown(self, request: web.Request) -> web.Response:
        self.stopped.set()
        return _json({"ok": True})


def _leaf_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    while options and options[0].get("type") in (1, 2):
        options = options[0].get("options") or []
    return options


def _json(data: Any) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), content_type="application/json")


async def serve(port_file: Path | None = None, *, strict_deadline: bool = True,
                ready: asyncio.Future[int] | None = None) -> None:
    """Run a sandbox and its control API until ``POST /shutdown``.

    The control port is written to ``port_file`` and set on ``ready`` (for in-process callers).
    """
    sb = DiscordSandbox(strict=False, strict_deadline=strict_deadline)
    sb.server = TimedServer(sb.world, token=sb.token, application_id=sb.world.bot_user.id,
                            strict_deadline=strict_deadline, contract=sb.contract)
    await sb.start()
    controller = Controller(sb)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes(controller.routes())
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    if port_file is not None:
        port_file.write_text(str(port))
    if ready is not None:
        ready.set_result(port)
    print(f"sandbox control on http://127.0.0.1:{port}, emulator on {sb.base_url}", flush=True)
    try:
        await controller.stopped.wait()
        await asyncio.sleep(0.05)  # let the shutdown answer go out
    finally:
        await runner.cleanup()
        await sb.close()
        if sb.contract is not None:
            print(f"contract: {sb.contract.calls} request bodies validated in "
                  f"{1e3 * sb.contract.seconds:.0f} ms", flush=True)


def main() -> None:
    """``python -m discord_sandbox.standalone [--port-file F] [--lenient-deadline]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", type=Path, default=None)
    parser.add_argument("--lenient-deadline", action="store_true",
                        help="record late first responses but accept them")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile into this file")
    args = parser.parse_args()
    started = time.perf_counter()
    profiler = None
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port_file, strict_deadline=not args.lenient_deadline))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    print(f"sandbox stopped after {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
