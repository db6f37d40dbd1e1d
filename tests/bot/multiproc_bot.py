"""One GEMS bot process for the multi-process tests (run as a script, never imported by pytest).

It serves a slice of the shards (GEMS_SHARD_IDS of GEMS_SHARD_COUNT) of the Discord sandbox at
GEMS_SANDBOX_URL, on the shared database GEMS_DB at GEMS_STORE_URI, on the real clock, with every
job's interval capped at GEMS_JOB_SECONDS so the test does not wait a minute per sweep. The store
is used the way MongoDB is (no in-process write lock): correctness must come from guarded writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

import discord
import yarl

from bot.app import GemsBot
from bot.settings import Settings
from bot.store import _client
from economy.core.clock import SystemClock
from economy.repos.base import Database
from economy.services import build_services


class TestBot(GemsBot):
    """GemsBot with fast job intervals and no pause between shard IDENTIFYs."""

    job_seconds = 0.5

    async def setup_hook(self) -> None:
        start = self.jobs.start

        def fast_start() -> None:
            self.jobs.jobs = {name: (job, min(seconds, self.job_seconds))
                              for name, (job, seconds) in self.jobs.jobs.items()}
            start()

        self.jobs.start = fast_start  # type: ignore[method-assign]
        await super().setup_hook()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No identify rate limit in the sandbox."""


async def main() -> None:
    env = os.environ
    base = env["GEMS_SANDBOX_URL"]
    discord.http.Route.BASE = base + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(env["GEMS_SANDBOX_GATEWAY"])
    discord.asset.Asset.BASE = base + "/cdn"
    uri = env["GEMS_STORE_URI"]
    settings = Settings(
        _env_file=None, discord_token=env["GEMS_TOKEN"], mongodb_uri=uri,
        shard_count=int(env["GEMS_SHARD_COUNT"]),
        shard_ids=[int(i) for i in env["GEMS_SHARD_IDS"].split(",")],
        lease_seconds=float(env["GEMS_LEASE_SECONDS"]), outbox_poll_seconds=0.3,
        web_port=0, attachment_hosts=["127.0.0.1"])
    client = _client(uri)
    db = Database(client, env["GEMS_DB"], write_lock=None)
    services = build_services(db, SystemClock())
    TestBot.job_seconds = float(env.get("GEMS_JOB_SECONDS", "0.5"))
    bot = TestBot(services=services, settings=settings)
    bot._connection.guild_ready_timeout = 0.05
    print(f"owner {bot.jobs.lease.owner}", flush=True)
    # SIGTERM takes the clean path (the lease is handed on), as in bot.runtime.
    task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with bot:
        await bot.start(settings.discord_token.get_secret_value())


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"[{os.getpid()}] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("economy.core.leases").setLevel(logging.INFO)
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(main())
