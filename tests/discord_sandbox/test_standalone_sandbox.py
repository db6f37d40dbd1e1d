"""The sandbox served on its own (control API) with the real GemsBot connected over HTTP."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import discord
import pytest
import yarl

from bot.app import GemsBot
from bot.settings import Settings
from discord_sandbox.standalone import serve
from economy.core.actor import Actor
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)


async def test_control_api_bursts_and_reports(store, clock, tmp_path, monkeypatch):
    port_file = tmp_path / "port"
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(serve(port_file, ready=ready))
    bot = None
    try:
        port = await asyncio.wait_for(ready, 20)
        assert port_file.read_text() == str(port)
        control = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:

            async def post(path, body):
                async with http.post(control + path, json=body) as response:
                    assert response.status == 200
                    return await response.json()

            info = await post("/setup", {"members": 6})
            base = info["base_url"]
            monkeypatch.setattr(discord.http.Route, "BASE", base + "/api/v10")
            monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                                yarl.URL(base.replace("http://", "ws://") + "/gateway-ws"))
            services = build_services(store.db, clock)
            guild, members = info["guild_id"], info["members"]
            for uid in members:
                await services.ledger.grant(guild, Actor.system(), uid, 50, reason="seed", key=f"s:{uid}")
            settings = Settings(_env_file=None, discord_token=None, web_port=0)  # type: ignore[call-arg]
            bot = GemsBot(services=services, settings=settings, run_jobs=False, run_web=False)
            bot._connection.guild_ready_timeout = 0.05
            await bot.login(info["token"])
            connection = asyncio.create_task(bot.connect(reconnect=False))
            await asyncio.wait_for(bot.wait_until_ready(), 20)

            gives = [{"kind": "slash", "user_id": members[i], "data": {"name": "gems", "options": [
                {"type": 1, "name": "give", "options": [
                    {"type": 6, "name": "member", "value": str(members[(i + 1) % 6])},
                    {"type": 4, "name": "amount", "value": 5}]}]}} for i in range(6)]
            ids = (await post("/burst", {"interactions": gives}))["ids"]
            while True:  # polls what the sandbox recorded; bounded by the test's timeout
                status = await post("/status", {"ids": ids})
                if all(s["final"] is not None for s in status["interactions"]):
                    break
            assert all(s["first"] is not None and s["final"] is not None
                       for s in status["interactions"]), status
            assert status["deadline_violations"] == 0 and status["unhandled"] == 0
            assert {await services.ledger.balance(guild, uid) for uid in members} == {50}

            # A click on a button its message does not carry (an edit replaced it) is refused
            # as Discord refuses it, and nothing reaches the bot.
            board = (await post("/burst", {"interactions": [{"kind": "slash", "user_id": members[0],
                     "data": {"name": "gems", "options": [
                         {"type": 1, "name": "leaderboard", "options": []}]}}]}))["ids"]
            while True:  # polls what the sandbox recorded; bounded by the test's timeout
                if (await post("/status", {"ids": board}))["interactions"][0]["final"] is not None:
                    break
            message = await post("/message", {"interaction_id": board[0]})
            received = bot.response_policy.stats.received
            stale = {"kind": "click", "user_id": members[1], "message_id": message["id"],
                     "data": {"custom_id": "gems:lb:gone", "component_type": 2}}
            async with http.post(control + "/burst", json={"interactions": [stale]}) as response:
                assert response.status == 400
                assert (await response.json())["code"] == 50035
            await asyncio.sleep(0.2)
            assert bot.response_policy.stats.received == received
            await post("/shutdown", {})
        await asyncio.wait_for(server, 10)
    finally:
        if bot is not None:
            await bot.close()
            connection.cancel()
            with contextlib.suppress(BaseException):
                await connection
        if not server.done():
            server.cancel()
