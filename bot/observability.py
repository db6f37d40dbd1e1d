"""Wires metrics, health and log context into a GemsBot (one call from GemsBot.__init__).

- `/healthz`: 200 when the gateway is connected, the store answers `ping` and the scheduler runs
  (when this process runs jobs), else 503; the JSON body says which check failed.
- `/metrics`: the bot's registry in the Prometheus text format (gateway latency refreshed on
  each scrape).
- Slash commands: counted by name and outcome, timed, and their ids bound to every log line.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import discord
from aiohttp import web
from pymongo.errors import PyMongoError

from bot.log_format import bind_interaction
from bot.metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from bot.app import GemsBot

#: How long /healthz waits for the store's `ping`.
PING_TIMEOUT = 2.0


def install_observability(bot: GemsBot) -> Metrics:
    """Give `bot` its Metrics and hook them into the tree, the domain, the jobs and the web app."""
    metrics = Metrics()
    bot.metrics = metrics
    bot.services.db.observer = metrics
    bot.jobs.metrics = metrics
    bot.tree.add_check(_command_clock(metrics))
    bot.add_listener(_completion_listener(metrics), "on_app_command_completion")
    bot.web.health = lambda: health(bot)
    bot.web.add_routes([web.get("/metrics", _metrics_handler(bot, metrics))])
    return metrics


def _command_clock(metrics: Metrics):
    # The tree's check runs first, in the command's own task: the place to start the clock and
    # bind the log context (a listener of on_interaction runs in another task).
    async def check(interaction: discord.Interaction) -> bool:
        if interaction.type is discord.InteractionType.application_command:
            bind_interaction(interaction)
            metrics.command_started(interaction)
        return True

    return check


def _completion_listener(metrics: Metrics):
    async def on_app_command_completion(interaction: discord.Interaction, command: Any) -> None:
        metrics.command_finished(interaction, "ok")

    return on_app_command_completion


def _metrics_handler(bot: GemsBot, metrics: Metrics):
    async def handle(request: web.Request) -> web.Response:
        if not bot.is_closed():
            metrics.set_gateway_latencies(bot.latencies)
        body = metrics.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    return handle


async def health(bot: GemsBot) -> tuple[bool, dict]:
    """Each check's result and whether all passed."""
    shards = {str(shard_id): not info.is_closed() for shard_id, info in bot.shards.items()}
    gateway = bot.is_ready() and not bot.is_closed() and all(shards.values())
    store = await _store_ok(bot)
    if bot.runs_jobs:
        scheduler: bool | str = bot.jobs.scheduler.running
    else:
        scheduler = "not run by this process"
    checks = {"gateway": gateway, "shards": shards, "store": store, "scheduler": scheduler}
    ok = gateway and store and scheduler is not False
    return ok, {"ok": ok, **checks}


async def _store_ok(bot: GemsBot) -> bool:
    try:
        await asyncio.wait_for(bot.services.db.ping(), PING_TIMEOUT)
    except (PyMongoError, TimeoutError):
        bot.services.db.observer.store_error("ping")
        return False
    return True
