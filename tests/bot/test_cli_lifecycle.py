"""The real CLI as a subprocess against the Discord sandbox: clean stops and one-line start-up errors."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.store import open_store
from discord_sandbox import DiscordSandbox
from economy.core.clock import SystemClock
from economy.services import build_services

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: `python -m bot` child processes

RUNNER = Path(__file__).with_name("cli_runner.py")
TOKEN = "MTA.sandbox.cli-token"


async def _start_cli(tmp_path: Path, sb: DiscordSandbox | None, *args: str, **env: str):
    full_env = {
        **os.environ, "DISCORD_TOKEN": TOKEN, "DATA_DIR": str(tmp_path / "data"),
        "AUTO_MIGRATE": "true", "WEB_PORT": "0", "ACTIVITY_FLUSH_SECONDS": "3600",
        "GEMS_TEST_DISCORD_URL": sb.base_url if sb else "", **env,
    }
    # Its own process group, like a shell job: the signal goes to the whole group (the bot and
    # anything it started in that group), as a terminal's Ctrl-C and systemd's stop do.
    # Output goes to files: a full pipe would block the bot.
    with (tmp_path / "stdout.txt").open("wb") as out, (tmp_path / "stderr.txt").open("wb") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, str(RUNNER), *(args or ("run",)), cwd=tmp_path, env=full_env,
            stdout=out, stderr=err, start_new_session=True)


async def _finished(proc, tmp_path: Path, within: float = 90.0) -> str:
    """Wait for the CLI to exit; returns what it wrote on stderr."""
    await asyncio.wait_for(proc.wait(), within)
    return (tmp_path / "stderr.txt").read_text()


async def _wait_connected(sb: DiscordSandbox, proc, tmp_path: Path, within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(s.ws is not None for s in sb.server.gateway.sessions.values()):
        if proc.returncode is not None or loop.time() > deadline:
            proc.kill()
            raise AssertionError(f"the bot did not connect:\n{await _finished(proc, tmp_path)}")
        await asyncio.sleep(0.05)
    await sb.server.gateway.sync(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_a_stop_signal_flushes_pending_gems_and_exits_0(tmp_path, sig):
    async with DiscordSandbox(token=TOKEN, strict=False) as sb:
        guild = sb.create_guild("Stop Test")
        alice = sb.add_member(guild, "alice")
        proc = await _start_cli(tmp_path, sb)
        await _wait_connected(sb, proc, tmp_path)
        await sb.say(alice, guild.text_channels()[0], "hello everyone, good morning", wait=False)
        await sb.server.gateway.sync(timeout=30)  # the bot has read the message
        os.killpg(proc.pid, sig)
        text = await _finished(proc, tmp_path)
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "Error" not in text, text
    assert "received: finishing pending work" in text
    # The activity GEMS were still in memory when the signal came (flush every hour): the bot
    # wrote them on the way out, so the store outlived the process group's signal.
    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path / "data") as store:
        services = build_services(store.db, SystemClock())
        assert await services.ledger.balance(guild.id, alice.id) == 5
    assert not (tmp_path / "data" / "nx-27017.pid").exists()


async def _one_line_failure(tmp_path, sb, **env) -> str:
    proc = await _start_cli(tmp_path, sb, **env)
    text = await _finished(proc, tmp_path)
    assert proc.returncode == 2, text
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.startswith("GEMS cannot start:")]
    assert len(lines) == 1, text
    return lines[0]


async def test_an_invalid_token_is_one_line(tmp_path):
    async with DiscordSandbox(token="the.real.token", strict=False) as sb:
        line = await _one_line_failure(tmp_path, sb)
    assert "Reset Token" in line and TOKEN not in line


async def test_privileged_intents_off_names_the_toggles(tmp_path):
    async with DiscordSandbox(token=TOKEN, strict=False) as sb:
        sb.server.gateway.allowed_privileged_intents = 0
        line = await _one_line_failure(tmp_path, sb)
    assert "SERVER MEMBERS INTENT" in line and "MESSAGE CONTENT INTENT" in line


async def test_no_dns_is_one_line(tmp_path):
    line = await _one_line_failure(
        tmp_path, None, GEMS_TEST_DISCORD_URL="http://discord.gems-test.invalid")
    assert "DNS" in line


async def test_unreachable_mongodb_masks_the_password(tmp_path):
    line = await _one_line_failure(
        tmp_path, None, MONGODB_URI="mongodb://gems:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=300")
    assert "hunter2" not in line and "gems:****@127.0.0.1:1" in line
    assert "firewall" in line
    assert "within 0.3 s" in line  # the URI's own serverSelectionTimeoutMS, not a fixed 10 s


async def test_a_malformed_mongodb_uri_masks_the_password(tmp_path):
    line = await _one_line_failure(tmp_path, None, MONGODB_URI="mongodb://gems:p@ss@host")
    assert "p@ss" not in line and "percent-encoded" in line


async def test_a_data_dir_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "blocker").write_text("")
    line = await _one_line_failure(tmp_path, None, DATA_DIR=str(tmp_path / "blocker" / "data"))
    assert "DATA_DIR" in line and "cannot be created" in line


async def test_a_settings_error_never_echoes_a_secret(tmp_path):
    proc = await _start_cli(tmp_path, None, MONGODB_URI="http://gems:hunter2@db")
    err = await _finished(proc, tmp_path)
    assert proc.returncode == 2 and "hunter2" not in err and "gems:****@db" in err


async def test_a_second_signal_exits_at_once_even_when_the_stop_hangs():
    from bot.shutdown import GracefulStop

    exits: list[int] = []
    stop = GracefulStop(exit_now=exits.append)
    hung = asyncio.Event()

    async def never_finishes():
        hung.set()
        await asyncio.Event().wait()

    stop.on_stop(never_finishes)
    stop._on_signal(signal.SIGINT)
    await asyncio.wait_for(hung.wait(), 5)
    assert exits == []  # the first signal asks for a clean stop
    stop._on_signal(signal.SIGINT)
    assert exits == [130]
    stop._stopping.cancel()
