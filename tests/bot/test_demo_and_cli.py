"""The offline demo and the CLI commands, run as a user would."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.demo import run_demo
from bot.store import open_store
from economy.core.clock import ManualClock
from economy.core.dump import DumpService, decode
from economy.repos.dump_repo import DumpRepo
from economy.repos.schema_check import bool_paths, mismatches
from economy.repos.schemas import SCHEMAS
from tests.depth import DEEP

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: the demo and `python -m bot` child processes


@dataclass(frozen=True)
class DemoRun:
    """One played demo: its working directory, its kept database and its transcript."""

    cwd: Path
    data_dir: Path
    text: str


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> DemoRun:
    """The whole offline demo, played once per process for the tests that only read what it left
    (the transcript, the database): it is the suite's longest single run. Those tests share an
    xdist group, so one worker plays it."""
    cwd = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)  # the demo writes its files under the working directory
        code = asyncio.run(run_demo(out, data_dir=cwd / "db"))
    assert code == 0, out.getvalue()
    return DemoRun(cwd=cwd, data_dir=cwd / "db", text=out.getvalue())


@pytest.mark.xdist_group("demo")
async def test_demo_plays_every_scene_audits_and_its_database_keeps_declared_types(demo_run):
    """The whole offline demo on a kept embedded database: every scene's expectations and the
    ledger audit hold; then its export: every document matches its collection's declared
    `$jsonSchema` (no number where a boolean is declared) as stored, without the export's repair,
    and as exported."""
    text = demo_run.text
    assert "Ledger audit" in text and "OK: balances match" in text
    assert "✗" not in text
    assert_reads_like_discord(text)
    shown = re.search(r"Commands shown: (\d+) of (\d+)", text)
    assert shown and shown.group(1) == shown.group(2), "a scene (or a line) for every command"
    for feature in ("weekly 3", "Double-GEMS weekend — starts now", "Competition #1 ended",
                    "/wallet gallery", "/wallet-admin rule test", "2 new listings match your alerts"):
        assert feature in text, feature
    async with await open_store(mongodb_uri=None, database_name="demo",
                                data_dir=demo_run.data_dir) as store:
        repo = DumpRepo(store.db)
        stored: dict[str, list] = {}
        for name in await repo.collection_names():
            stored[name] = [doc async for doc in repo.documents(name)]
        lines = [line async for line in DumpService(repo, ManualClock()).export_lines()]
    undeclared = sorted(set(stored) - set(SCHEMAS))
    assert not undeclared, f"collections without a declared schema: {undeclared}"
    broken = [(name, doc["_id"], str(m)) for name, docs in stored.items() for doc in docs
              for m in mismatches(SCHEMAS[name], doc)]
    assert not broken, broken
    # The demo wrote booleans with `$set` and upserts (flags of sweeps, announcements, ...).
    booleans = {(name, path): _at(doc, path) for name, docs in stored.items() for doc in docs
                for path in bool_paths(SCHEMAS[name]) if _at(doc, path) is not None}
    assert len(booleans) >= 15 and all(type(v) is bool for v in booleans.values())
    for written in [("accounts", "system"), ("listings", "reminded"), ("leases", "released"),
                    ("community_events", "reminded_24h"), ("challenge_progress", "completed")]:
        assert written in booleans, written
    records = [decode(line) for line in lines[1:-1]]
    assert sum(len(docs) for docs in stored.values()) == len(records)
    assert all(not list(mismatches(SCHEMAS[r["c"]], r["d"])) for r in records)


async def test_demo_without_devtools_skips_the_scenes_that_need_it(tmp_path, monkeypatch):
    """The production image ships no devtools/ (Stripe double, test chain); `run` without a token
    still plays the demo there, skipping the payments and NFT scenes with a note. That no other
    scene (and no production module) needs devtools is the import contract "production code does
    not need devtools" (`./gems lint`), so only the two scenes that use it are played here."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in sys.modules if n == "devtools" or n.startswith("devtools.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "devtools", None)  # `import devtools...` now fails
    out = io.StringIO()
    assert await run_demo(out, only={"s80_nft", "s90_payments"}) == 0, out.getvalue()
    text = out.getvalue()
    assert "the payments scene needs the local Stripe double; skipped." in text
    assert "the NFT scene needs the local test chain; skipped." in text
    assert "OK: balances match" in text and "✗" not in text


def assert_reads_like_discord(text: str) -> None:
    """What a reader of the transcript sees: times, names and counts as Discord shows them."""
    assert "(a time)" not in text and "<t:" not in text, "timestamps are rendered"
    assert "(s)" not in text, "counts take singular or plural"
    assert not re.search(r"<@[!&]?\u200b?\d+>|<#\d+>", text), "mentions are rendered as names"
    assert "\x1b[" not in text, "no colour codes in a transcript that is not a terminal"
    assert not re.search(r"^ {3}· .*\*\*", text, re.M), "narration is plain text"
    assert not re.search(r"\b1 (?:day|member|attempt|listing|role|wallet|guild|account)s\b", text)
    assert "✉ GEMS posts in #announcements" in text and "✉ GEMS sends a DM to" in text
    assert "The seller pays the 💎 22 GEMS fee" in text, "amounts carry their unit"
    assert "**off** → **on**" in text and "False" not in text, "booleans read on/off"
    history = text.split("Settings history", 1)[1].split("━━", 1)[0]
    assert "100 → 100" not in history and "GEMS → GEMS" not in history, "only real changes"
    for who in ("alice", "bob"):
        assert f"{who:>8} ▸ clicks [Join]\n" in text, "who clicked is narrated"


def _normalised(text: str) -> str:
    """A transcript without what honestly differs between runs: ports, one-time tokens, timings."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"/wallet/link/\S+", "/wallet/link/TOKEN", text)
    return re.sub(r"\d+\.\d+ s\b", "N s", text)


async def test_run_without_token_explains_and_starts_the_demo(tmp_path):
    """`python -m bot run` without a token says so and starts the offline demo in a fresh
    process (the whole demo is played once, by `demo_run`; here it is stopped after its first
    scene began)."""
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": ""}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    seen = ""
    try:
        async with asyncio.timeout(90):
            while "━━" not in seen:  # a scene's header: the demo is playing
                line = await proc.stdout.readline()
                assert line, f"the demo did not start:\n{seen}{(await proc.stderr.read()).decode()}"
                seen += line.decode()
    finally:
        proc.kill()
        _, err = await proc.communicate()
    assert "No DISCORD_TOKEN is set" in err.decode()
    assert "GEMS offline demo — the real bot in a local Discord sandbox" in seen


@pytest.mark.xdist_group("demo")
@pytest.mark.timeout(300)  # a second full demo
@pytest.mark.skipif(not DEEP, reason="a second full demo: `./gems test --deep`")
async def test_the_demo_tells_the_same_story_on_every_run(demo_run, tmp_path):
    """Two runs print the same transcript (the challenge draw, ids and wallet addresses are
    fixed), apart from ports, one-time link tokens and timings: the shared run, and `python -m bot
    run` without a token in a fresh process and working directory (nothing the first run left in
    memory, such as a command's cooldown for a fixed member id, can count)."""
    result = await asyncio.to_thread(_cli, ["run"], tmp_path)
    assert "No DISCORD_TOKEN is set" in result.stderr
    assert result.returncode == 0 and "Demo finished" in result.stdout, result.stderr
    assert _normalised(demo_run.text).splitlines() == _normalised(result.stdout).splitlines()


def _at(doc: dict, path: str):
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _cli(args, tmp_path, **env):
    full_env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": "", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=90)


async def test_migrate_then_audit_on_the_embedded_store(tmp_path):
    refused = _cli(["audit"], tmp_path)
    assert refused.returncode == 2 and "./gems migrate" in refused.stderr
    migrated = _cli(["migrate"], tmp_path)
    assert migrated.returncode == 0 and "applied 0001_accounts_ledger" in migrated.stdout
    assert "up to date" in _cli(["migrate"], tmp_path).stdout
    audited = _cli(["audit"], tmp_path)
    assert audited.returncode == 0 and "OK" in audited.stdout
    assert (tmp_path / "data" / "gems.db").exists()
    # A balance with no ledger entry behind it: the audit exits non-zero with a readable report.
    from bot.store import open_store

    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path / "data") as store:
        await store.db["accounts"].insert_one({"guild_id": 1, "user_id": 2, "balance": 50, "held": 0})
    result = _cli(["audit"], tmp_path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "guild 1 user 2: balance+held 50 != ledger 0" in result.stdout


def test_bad_settings_print_one_line_each(tmp_path):
    result = _cli(["audit"], tmp_path, WEB_PORT="70000", LOG_LEVEL="loud")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(lines) == 2 and "WEB_PORT" in result.stderr and "LOG_LEVEL" in result.stderr
