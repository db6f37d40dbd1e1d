"""The `gems` entry script: the bot installs only runtime packages; tests and lint add dev tools."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test runs the gems shell script

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/../calls.log"
"""


def _run(tmp_path: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "GEMS_TEST_WORKERS"}  # the default's
    subprocess.run([str(tmp_path / "gems"), *args], check=True, timeout=60,
                   capture_output=True, text=True, env=env)
    return (tmp_path / ".venv" / "calls.log").read_text().splitlines()


def test_run_installs_runtime_only_and_test_adds_dev(tmp_path):
    shutil.copy(ROOT / "gems", tmp_path / "gems")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    def installs(calls: list[str]) -> list[str]:
        return [call for call in calls if " -e ." in call]

    calls = _run(tmp_path, "migrate")
    assert installs(calls) == ["-m pip install --quiet --disable-pip-version-check -e ."]
    assert calls[-1] == "-m bot migrate"
    calls = _run(tmp_path, "audit")
    assert len(installs(calls)) == 1 and calls[-1] == "-m bot audit"  # installed once
    calls = _run(tmp_path, "test", "-q")
    assert installs(calls)[-1].endswith("-e .[dev]")
    # one and a half workers per core, then the deadline tests alone
    cores = len(os.sched_getaffinity(0))
    workers = cores + (cores + 1) // 2
    assert calls[-2:] == [f"-m pytest -n {workers} --dist loadgroup -m not deadline -q",
                          "-m pytest -m deadline -q"]
    calls = _run(tmp_path, "test", "--fast", "-q")  # the inner loop: no `slow` tests
    assert calls[-1] == f"-m pytest -n {workers} --dist loadgroup -m not slow -q"
    calls = _run(tmp_path, "run")  # the dev set includes the runtime set: nothing more
    assert len(installs(calls)) == 2 and calls[-1] == "-m bot run"


def test_lint_runs_ruff_then_the_import_contracts(tmp_path):
    """`./gems lint` (what CI runs) checks the style and the import contracts; a ruff failure
    stops it with ruff's exit code."""
    shutil.copy(ROOT / "gems", tmp_path / "gems")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool, status in (("python", 0), ("ruff", 0), ("lint-imports", 0)):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $@" >> "$(dirname "$0")/../calls.log"\n'
                          f'exit ${{FAKE_{tool.upper().replace("-", "_")}_STATUS:-{status}}}\n')
        script.chmod(0o755)
    calls = _run(tmp_path, "lint", "--fix")
    assert calls[-2:] == ["ruff check . --fix", "lint-imports "]
    failed = subprocess.run([str(tmp_path / "gems"), "lint"], timeout=60, capture_output=True,
                            env={"PATH": "/usr/bin:/bin", "FAKE_RUFF_STATUS": "1"})
    assert failed.returncode == 1
    assert (tmp_path / ".venv" / "calls.log").read_text().splitlines()[-1] == "ruff check ."


def test_worker_count_deadline_phase_and_own_marks(tmp_path):
    shutil.copy(ROOT / "gems", tmp_path / "gems")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)

    def run(workers: str) -> str:
        subprocess.run([str(tmp_path / "gems"), "test", "tests/x.py"], check=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "GEMS_TEST_WORKERS": workers})
        return (tmp_path / ".venv" / "calls.log").read_text().splitlines()[-1]

    assert run("3") == "-m pytest -m deadline tests/x.py"
    calls = (tmp_path / ".venv" / "calls.log").read_text().splitlines()
    assert calls[-2] == "-m pytest -n 3 --dist loadgroup -m not deadline tests/x.py"
    subprocess.run([str(tmp_path / "gems"), "test", "-m", "slow", "-x"], check=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "GEMS_TEST_WORKERS": "0"})
    calls = (tmp_path / ".venv" / "calls.log").read_text().splitlines()
    assert calls[-1] == "-m pytest -m slow -x"  # own marks, no workers: one plain run
    # Without paths, the deadline phase collects only the files that mark deadline tests.
    (tmp_path / "tests" / "b").mkdir(parents=True)
    (tmp_path / "tests" / "b" / "test_burst.py").write_text("@pytest.mark.deadline\n")
    (tmp_path / "tests" / "test_other.py").write_text("def test_x(): pass\n")
    subprocess.run([str(tmp_path / "gems"), "test", "-q"], check=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "GEMS_TEST_WORKERS": "2"})
    calls = (tmp_path / ".venv" / "calls.log").read_text().splitlines()
    assert calls[-2:] == ["-m pytest -n 2 --dist loadgroup -m not deadline -q",
                          "-m pytest -m deadline -q tests/b/test_burst.py"]


def test_help_in_every_spelling_asks_the_bot_for_its_one_list(tmp_path):
    """`./gems help`, `--help` and `-h` all print bot/__main__.py's COMMANDS (test and lint
    included), instead of argparse's usage without them."""
    shutil.copy(ROOT / "gems", tmp_path / "gems")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    for spelling in ("help", "--help", "-h"):
        assert _run(tmp_path, spelling)[-1] == "-m bot help", spelling
