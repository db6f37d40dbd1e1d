"""`python -m bot rollup` (what `./gems rollup` runs): a backfill on the embedded store, bad input
answered in one line with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]  # `python -m bot` child processes


def _cli(args, tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": ""}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_rollup_backfills_and_refuses_bad_dates(tmp_path):
    assert _cli(["migrate"], tmp_path).returncode == 0
    missing = _cli(["rollup"], tmp_path)
    assert missing.returncode == 2 and "--since" in missing.stderr
    bad = _cli(["rollup", "--since", "yesterday"], tmp_path)
    assert bad.returncode == 2 and "not a date" in bad.stderr
    empty = _cli(["rollup", "--since", "2026-01-01"], tmp_path)
    assert empty.returncode == 0 and "nothing to roll up" in empty.stdout, empty.stderr
    one = _cli(["rollup", "--since", "2026-01-01", "--guild", "77"], tmp_path)
    assert one.returncode == 0 and "guild 77: 0 days rolled up" in one.stdout, one.stderr
