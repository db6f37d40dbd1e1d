"""The offline demo and the CLI commands, run as a user would."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from bot.demo import run_demo

pytestmark = pytest.mark.timeout(120)


async def test_demo_plays_every_scene_and_audits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert await run_demo(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "Ledger audit" in text and "OK: balances match" in text
    assert "✗" not in text


def _cli(args, tmp_path, **env):
    full_env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": "", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=90)


def test_migrate_then_audit_on_the_embedded_store(tmp_path):
    refused = _cli(["audit"], tmp_path)
    assert refused.returncode == 2 and "./gems migrate" in refused.stderr
    migrated = _cli(["migrate"], tmp_path)
    assert migrated.returncode == 0 and "applied 0001_accounts_ledger" in migrated.stdout
    assert "up to date" in _cli(["migrate"], tmp_path).stdout
    audited = _cli(["audit"], tmp_path)
    assert audited.returncode == 0 and "OK" in audited.stdout
    assert (tmp_path / "data" / "gems.db").exists()


def test_bad_settings_print_one_line_each(tmp_path):
    result = _cli(["audit"], tmp_path, WEB_PORT="70000", LOG_LEVEL="loud")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(lines) == 2 and "WEB_PORT" in result.stderr and "LOG_LEVEL" in result.stderr


def test_run_without_token_explains_and_plays_demo(tmp_path):
    result = _cli(["run"], tmp_path)
    assert "No DISCORD_TOKEN is set" in result.stderr
    assert result.returncode == 0 and "Demo finished" in result.stdout


async def test_audit_exits_non_zero_with_a_readable_report(tmp_path):
    assert _cli(["migrate"], tmp_path).returncode == 0
    from bot.store import open_store

    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path / "data") as store:
        await store.db["accounts"].insert_one({"guild_id": 1, "user_id": 2, "balance": 50, "held": 0})
    result = _cli(["audit"], tmp_path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "guild 1 user 2: balance+held 50 != ledger 0" in result.stdout
