"""A self-hoster's first run: the token in `.env`, then `./gems run` (the real CLI process, with the
Discord sandbox standing in for Discord) migrates, registers the commands and says how to invite
the bot; later starts sync nothing unless the command tree changed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.permissions import invite_permissions
from discord_sandbox import DiscordSandbox

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]  # slow: a bot child process

RUNNER = Path(__file__).with_name("cli_runner.py")
TOKEN = "MTA.sandbox.first-run"


async def _start(tmp_path: Path, sb: DiscordSandbox, run: int, **env: str):
    """`python -m bot run` in tmp_path, configured by `.env` alone (plus test plumbing)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISCORD_TOKEN", "AUTO_MIGRATE", "DATA_DIR", "MONGODB_URI",
                         "DEV_GUILD_IDS")}
    full_env = {**base, "WEB_PORT": "0", "GEMS_TEST_DISCORD_URL": sb.base_url, **env}
    err = (tmp_path / f"stderr-{run}.txt").open("wb")
    with err, (tmp_path / f"stdout-{run}.txt").open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, str(RUNNER), "run", cwd=tmp_path, env=full_env, stdout=out,
            stderr=err, start_new_session=True)


async def _wait_for_line(proc, tmp_path: Path, run: int, text: str, within: float = 60.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    path = tmp_path / f"stderr-{run}.txt"
    while text not in path.read_text():
        if proc.returncode is not None or loop.time() > deadline:
            proc.kill()
            raise AssertionError(f"no {text!r} in the log:\n{path.read_text()}")
        await asyncio.sleep(0.1)
    return path.read_text()


async def _stop(proc, tmp_path: Path, run: int) -> str:
    os.killpg(proc.pid, signal.SIGINT)
    await asyncio.wait_for(proc.wait(), 60)
    log = (tmp_path / f"stderr-{run}.txt").read_text()
    assert proc.returncode == 0, log
    assert "Traceback" not in log, log
    return log


def _puts(sb: DiscordSandbox) -> list:
    return [r for r in sb.server.log.requests
            if r.method == "PUT" and r.path.endswith("/commands")]


async def test_run_alone_migrates_registers_commands_and_explains_the_invite(tmp_path):
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\n")
    older = {"GEMS_TEST_SKIP_EXTENSIONS": "cogs.goals"}  # a build without /goal
    async with DiscordSandbox(token=TOKEN, strict=False) as sb:
        # 1. Fresh database, the bot in no server yet.
        proc = await _start(tmp_path, sb, 1, **older)
        await _wait_for_line(proc, tmp_path, 1, "slash commands globally")
        await _wait_for_line(proc, tmp_path, 1, "in no server yet")
        assert any(s.ws is not None for s in sb.server.gateway.sessions.values())  # online
        log = await _stop(proc, tmp_path, 1)
        assert "database migrated: applied" in log and "backed up" not in log
        assert "synced" in log and "(first sync)" in log
        (invite,) = [line for line in log.splitlines() if "in no server yet" in line]
        assert f"client_id={sb.application_id}" in invite
        assert "scope=bot+applications.commands" in invite
        assert f"permissions={invite_permissions().value}" in invite
        assert len(_puts(sb)) == 1
        names = {c["name"] for c in sb.synced_commands[None]}
        assert {"gems", "trades", "help"} <= names and "goal" not in names

        # 2. The owner invited it; a restart of the same build: nothing to migrate or sync.
        sb.create_guild("Home")
        proc = await _start(tmp_path, sb, 2, **older)
        await _wait_for_line(proc, tmp_path, 2, "unchanged since the last sync")
        log = await _stop(proc, tmp_path, 2)
        assert "database migrated" not in log and "in no server yet" not in log
        assert len(_puts(sb)) == 1

        # 3. An upgrade that adds a feature: its commands are synced, once.
        proc = await _start(tmp_path, sb, 3)
        await _wait_for_line(proc, tmp_path, 3, "slash commands globally")
        log = await _stop(proc, tmp_path, 3)
        assert "(the commands changed)" in log
        assert len(_puts(sb)) == 2 and all(p.status == 200 for p in _puts(sb))
        assert "goal" in {c["name"] for c in sb.synced_commands[None]}
