"""Runtime data lives in var/, apart from the shipped content in data/: a database an older
version left in data/ moves once at start-up; with a database in both, the bot refuses."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime_data import RuntimeDataError, move_legacy_data, planned_move

pytestmark = pytest.mark.timeout(180)


def _legacy_tree(root: Path) -> Path:
    data = root / "data"
    (data / "challenges").mkdir(parents=True)
    (data / "categories.json").write_text("[]")  # shipped content: stays
    (data / "challenges" / "pool.json").write_text("[]")
    for name in ("gems.db", "gems.db-wal", "gems.db-shm", "nx-27017.log"):
        (data / name).write_text(name)
    (data / "backups" / "20260101T000000Z").mkdir(parents=True)
    (data / "backups" / "20260101T000000Z" / "gems.db").write_text("old copy")
    (data / "nx-27017.pid").write_text("999999999")  # stale: no such process
    return data


def test_a_legacy_database_moves_once_with_its_sidecars(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    data = _legacy_tree(tmp_path)
    with caplog.at_level(logging.INFO, logger="gems"):
        move = move_legacy_data("var")
    assert move is not None
    var = tmp_path / "var"
    for name in ("gems.db", "gems.db-wal", "gems.db-shm", "nx-27017.log"):
        assert (var / name).read_text() == name and not (data / name).exists()
    assert (var / "backups" / "20260101T000000Z" / "gems.db").read_text() == "old copy"
    assert not (data / "backups").exists() and not (data / "nx-27017.pid").exists()
    assert (data / "categories.json").exists() and (data / "challenges" / "pool.json").exists()
    assert [r.getMessage() for r in caplog.records if "moved the runtime data" in r.getMessage()]
    assert os.stat(var).st_mode & 0o077 == 0
    assert move_legacy_data("var") is None  # once: nothing left to move


def test_both_folders_holding_a_database_refuse_and_move_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _legacy_tree(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "gems.db").write_text("newer")
    with pytest.raises(RuntimeDataError) as caught:
        move_legacy_data("var")
    assert "data/" in str(caught.value) and "var/" in str(caught.value)
    assert "gems.db" in str(caught.value) and "will not guess" in str(caught.value)
    assert (data / "gems.db").read_text() == "gems.db"
    assert (tmp_path / "var" / "gems.db").read_text() == "newer"
    assert not (tmp_path / "var" / "gems.db-wal").exists()


def test_no_move_for_an_explicit_data_dir_or_the_memory_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _legacy_tree(tmp_path)
    assert planned_move(tmp_path / "elsewhere") is None  # the operator chose DATA_DIR
    assert planned_move("data") is None  # DATA_DIR=data: the database is used where it is
    assert planned_move("memory") is None
    assert planned_move("var") is not None and (tmp_path / "data" / "gems.db").exists()


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATA_DIR", "MONGODB_URI", "DISCORD_TOKEN", "AUTO_MIGRATE")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**base, "DISCORD_TOKEN": "", **env})


@pytest.mark.slow
def test_start_up_moves_a_real_legacy_database_and_keeps_using_it(tmp_path):
    """An installation from before var/: its migrated database in data/ moves at the next
    command and is the one used (no migration to apply again)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "categories.json").write_text("[]")
    first = _cli(tmp_path, "migrate", DATA_DIR="data")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "data" / "gems.db").exists()
    assert "folder of shipped content" in first.stderr  # DATA_DIR=data is warned about
    doctor = _cli(tmp_path, "doctor")
    assert "will first move" in doctor.stdout and (tmp_path / "data" / "gems.db").exists()
    second = _cli(tmp_path, "migrate")
    assert second.returncode == 0, second.stderr
    assert "moved the runtime data" in second.stderr
    assert "The database is up to date." in second.stdout
    assert (tmp_path / "var" / "gems.db").exists() and not (tmp_path / "data" / "gems.db").exists()
    assert (tmp_path / "data" / "categories.json").exists()
    # A database in both: refused with what to do, exit code 2, nothing moved.
    (tmp_path / "data" / "gems.db").write_bytes((tmp_path / "var" / "gems.db").read_bytes())
    both = _cli(tmp_path, "audit")
    assert both.returncode == 2 and "will not guess" in both.stderr, both.stderr
    assert (tmp_path / "data" / "gems.db").exists()
