"""`./gems doctor` as a user runs it (subprocess), and its Discord checks through the sandbox."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from bot.doctor import FAIL, OK, WARN, Report, check_data_dir, check_token
from bot.settings import Settings

pytestmark = pytest.mark.timeout(120)

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
    code, lines = _doctor(tmp_path, AUTO_MIGRATE="false")
    assert code == 1
    assert _line(lines, "config").startswith("[ ok ]")
    assert "application 123456789012345678" in _line(lines, "token")
    assert _line(lines, "store").startswith("[ ok ]")
    assert _line(lines, "migrations").startswith("[FAIL]") and "./gems migrate" in lines[-1]
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
    assert _line(lines, "data dir").startswith("[ ok ]")  # a new data dir is created private
    assert "up to date" in _line(lines, "migrations")



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
