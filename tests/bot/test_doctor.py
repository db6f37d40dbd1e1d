"""`./gems doctor` as a user runs it (subprocess), and its Discord checks through the sandbox."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.doctor import FAIL, OK, WARN, Report, check_data_dir, check_token
from bot.settings import Settings

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = (base64.urlsafe_b64encode(b"123456789012345678").decode().rstrip("=")
         + ".GaBcDe." + "x" * 38)


def _doctor(tmp_path, **env) -> tuple[int, list[str]]:
    full_env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": TOKEN, **env}
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], cwd=tmp_path, env=full_env,
                            capture_output=True, text=True, timeout=90)
    return result.returncode, result.stdout.splitlines()


def _line(lines: list[str], name: str) -> str:
    found = [line for line in lines if line.split("] ", 1)[-1].startswith(name + ":")]
    assert len(found) == 1, lines
    return found[0]


@pytest.mark.slow
def test_doctor_one_line_per_check_and_exit_codes(tmp_path):
    # No database yet: doctor says what `run`/`migrate` would do and starts nothing.
    code, lines = _doctor(tmp_path, AUTO_MIGRATE="false")
    assert code == 0, lines
    assert _line(lines, "config").startswith("[ ok ]")
    assert "application 123456789012345678" in _line(lines, "token")
    assert "no database yet" in _line(lines, "store")
    assert _line(lines, "migrations").startswith("[warn]")
    assert "./gems migrate" in _line(lines, "migrations")
    assert "does not exist yet" in _line(lines, "data dir")
    assert not (tmp_path / "data").exists()  # nothing created
    # By default the embedded store is migrated by `./gems run` itself: nothing to do first.
    code, lines = _doctor(tmp_path)
    assert code == 0, lines
    assert _line(lines, "migrations").startswith("[ ok ]")
    assert "`./gems run` applies them" in _line(lines, "migrations")

    # Migrate, logging JSON lines (LOG_FORMAT=json): one object per line.
    migrate = subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=tmp_path,
                             env={**os.environ, "DATA_DIR": str(tmp_path / "data"),
                                  "LOG_FORMAT": "json", "DISCORD_TOKEN": ""},
                             capture_output=True, text=True, timeout=90)
    assert migrate.returncode == 0, migrate.stderr
    records = [json.loads(line) for line in migrate.stderr.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("starting embedded store" in r["message"] for r in records)
    code, lines = _doctor(tmp_path)
    assert code == 0, lines
    assert _line(lines, "data dir").startswith("[ ok ]")  # `migrate` created it private
    assert _line(lines, "store").startswith("[ ok ]")
    assert "up to date" in _line(lines, "migrations")
    # Doctor read the existing database without creating, removing or chmodding anything.
    (tmp_path / "data").chmod(0o755)
    before = _snapshot(tmp_path / "data")
    code, lines = _doctor(tmp_path)
    assert "up to date" in _line(lines, "migrations")
    assert _snapshot(tmp_path / "data") == before


def _snapshot(folder) -> dict[str, int]:
    """Every path under `folder` with its mode (the database's own bytes may be re-read)."""
    return {str(p.relative_to(folder)): p.stat().st_mode for p in [folder, *folder.rglob("*")]}


@pytest.mark.slow  # a git clone and `./gems doctor` child processes
def test_doctor_leaves_a_fresh_clone_unchanged(tmp_path):
    """On a fresh clone (no .env, no var/), `./gems doctor` reports and changes nothing:
    `git status` stays clean, ignored files included."""
    clone = tmp_path / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    wanted = ("bot/", "cogs/", "economy/", "migrations/", "data/", "discord_sandbox/",
              "pyproject.toml", ".gitignore", ".env.example")
    for name in tracked:
        if name.startswith(wanted) and (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=clone, check=True)
    subprocess.run([*git, "add", "-A"], cwd=clone, check=True)
    subprocess.run([*git, "commit", "-qm", "clone"], cwd=clone, check=True)
    modes = _snapshot(clone / "data")
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "MONGODB_URI",
                                                            "DISCORD_TOKEN", "AUTO_MIGRATE")}
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], cwd=clone,
                            env={**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(clone)},
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no database yet" in _line(result.stdout.splitlines(), "store")
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", status
    assert _snapshot(clone / "data") == modes  # the shipped content's folder: not chmodded



def test_token_shape_and_data_dir_permissions(tmp_path):
    def run(check, **values) -> tuple[str, str]:
        report = Report()
        check(Settings(_env_file=None, data_dir=tmp_path, **values), report)
        (status, _, detail), = report.lines
        return status, detail

    assert run(check_token, discord_token=TOKEN)[0] == OK
    for bad in ("not-a-token", "abc.def.ghi", "!!!!!!!!!!!!!!!!!!!!.GaBcDe." + "x" * 38):
        assert run(check_token, discord_token=bad)[0] == FAIL, bad
    assert run(check_token)[0] == WARN  # no token: the demo
    tmp_path.chmod(0o755)  # no database yet: not called private, says `run` tightens it
    status, detail = run(check_data_dir)
    assert status == OK and "private" not in detail and "no database yet" in detail
    assert "0o700" in detail and "0o755" in detail
    tmp_path.chmod(0o700)
    (tmp_path / "gems.db").write_bytes(b"")
    (tmp_path / "gems.db").chmod(0o600)
    assert run(check_data_dir)[0] == OK
    tmp_path.chmod(0o755)
    (tmp_path / "gems.db").chmod(0o644)
    assert run(check_data_dir)[0] == WARN  # other users can read members' data
    tmp_path.chmod(0o777)
    status, detail = run(check_data_dir)
    assert status == FAIL and "chmod 700" in detail
    tmp_path.chmod(0o700)


@pytest.mark.slow
def test_doctor_reports_bad_settings_as_findings(tmp_path):
    code, lines = _doctor(tmp_path, WEB_PORT="70000", MONGODB_URI="http://nope")
    assert code == 1
    config = [line for line in lines if line.startswith("[FAIL] config:")]
    assert len(config) == 2 and any("WEB_PORT" in c for c in config)



class _FakeAdmin:
    """Answers `hello` and `replSetGetStatus` like a MongoDB deployment would."""

    def __init__(self, hello: dict, status: dict | Exception) -> None:
        self.answers = {"hello": hello, "replSetGetStatus": status}

    async def command(self, name: str) -> dict:
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer


class _FakeClient:
    def __init__(self, hello: dict, status: dict | Exception) -> None:
        self.admin = _FakeAdmin(hello, status)


@pytest.mark.parametrize(("states", "health", "expected"), [
    (["PRIMARY"], [1], OK),
    (["PRIMARY", "SECONDARY", "SECONDARY"], [1, 1, 0], WARN),
    (["SECONDARY", "SECONDARY"], [1, 1], FAIL),
])
async def test_replica_set_status_lines(states, health, expected):
    from bot.doctor import _replica_set

    status = {"set": "rs0", "members": [{"stateStr": s, "health": h}
                                         for s, h in zip(states, health, strict=True)]}
    result, name, detail = await _replica_set(_FakeClient({"setName": "rs0"}, status))
    assert (result, name) == (expected, "replica set") and detail.startswith("rs0: ")
    # Without the privilege to read the status (Atlas), hello is enough.
    atlas = _FakeClient({"setName": "atlas-x", "primary": "host:27017"}, PermissionError())
    assert (await _replica_set(atlas))[0] == OK
