"""`./gems audit` while the bot runs: the bot audits its own store under its write lock."""

from __future__ import annotations

import asyncio
import os
import random
import stat
import subprocess
import sys

import pytest

from bot.control import ControlServer, audit_running_bot
from bot.store import open_store
from economy.core.actor import Actor
from economy.core.clock import SystemClock
from economy.core.migrations import Migrator
from economy.services import build_services

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: a running bot process and the CLI

GUILD = 77


async def test_audits_requested_during_transfers_never_see_half_done_ones(tmp_path):
    store = await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path / "data")
    async with store:
        await Migrator(store.db, SystemClock()).apply_pending()
        services = build_services(store.db, SystemClock())
        for user in range(1, 11):
            await services.ledger.grant(GUILD, Actor.system(), user, 1_000, reason="seed", key=f"seed-{user}")
        control = ControlServer(store.db, tmp_path / "data")
        await control.start()
        try:
            assert stat.S_IMODE(control.path.stat().st_mode) == 0o600
            rng = random.Random(3)

            async def transfers() -> None:
                for i in range(150):
                    a, b = rng.sample(range(1, 11), 2)
                    await services.ledger.transfer(GUILD, a, b, rng.randint(1, 20), key=f"t{i}")

            mover = asyncio.create_task(transfers())
            reports = []
            while not mover.done():
                reports.append(await audit_running_bot(tmp_path / "data"))
            await mover
        finally:
            await control.stop()
        assert reports and all(r.ok for r in reports), [r.render() for r in reports if not r.ok]
        assert not control.path.exists()


def test_the_cli_audit_asks_the_running_bot(tmp_path):
    """A store held by another process with its control socket: the CLI audits through it."""
    data = tmp_path / "data"
    script = f"""
import asyncio, sys
from pathlib import Path
from bot.control import ControlServer
from bot.store import open_store
from economy.core.actor import Actor
from economy.core.clock import SystemClock
from economy.core.migrations import Migrator
from economy.services import build_services

async def main():
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir={str(data)!r}) as store:
        await Migrator(store.db, SystemClock()).apply_pending()
        services = build_services(store.db, SystemClock())
        await services.ledger.grant(5, Actor.system(), 1, 500, reason="seed", key="seed")
        control = ControlServer(store.db, Path({str(data)!r}))
        await control.start()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await control.stop()

asyncio.run(main())
"""
    bot = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        assert bot.stdout.readline().strip() == "ready"
        env = {**os.environ, "DATA_DIR": str(data), "DISCORD_TOKEN": ""}
        result = subprocess.run([sys.executable, "-m", "bot", "audit"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=90)
        assert result.returncode == 0, result.stderr
        assert "Audit of the running bot" in result.stdout and "OK" in result.stdout
    finally:
        bot.communicate("\n", timeout=30)
    assert bot.returncode == 0


async def test_no_bot_answering_is_none(tmp_path):
    assert await audit_running_bot(tmp_path) is None
