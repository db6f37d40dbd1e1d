"""The embedded store starts, answers, and never leaves an orphan server behind."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.store import StoreError, open_store
from tests.procs import alive, wait_dead

pytestmark = pytest.mark.slow  # every test starts store processes


async def test_server_stops_on_close_and_data_persists(tmp_path):
    store = await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path)
    pid = store.server.process.pid
    assert (tmp_path / "nx-27017.pid").exists()
    await store.db.write(lambda: store.db["things"].insert_one({"x": 1}))
    await store.close()
    assert wait_dead(pid)
    assert (tmp_path / "gems.db").exists()
    assert not (tmp_path / "nx-27017.pid").exists()
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path) as again:
        assert await again.db["things"].count_documents({"x": 1}) == 1


async def test_server_stops_when_the_body_raises(tmp_path):
    store = await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path)
    pid = store.server.process.pid
    with pytest.raises(RuntimeError):
        async with store:
            raise RuntimeError("boom")
    assert wait_dead(pid)


def test_server_dies_with_a_killed_bot_process(tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, sys
        from bot.store import open_store
        async def main():
            store = await open_store(mongodb_uri=None, database_name="gems", data_dir={str(tmp_path)!r})
            print(store.server.process.pid, flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    assert alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert wait_dead(child_pid), "embedded server outlived a SIGKILLed bot"


async def test_second_store_on_same_data_dir_is_refused(tmp_path):
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path):
        with pytest.raises(StoreError, match="already using"):
            await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path)


async def test_stale_pid_file_is_ignored(tmp_path):
    (tmp_path / "nx-27017.pid").write_text("999999")
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path) as store:
        await store.db.raw.command("ping")


async def test_standalone_mongodb_is_refused_with_instructions(mongo_uri):
    uri, embedded = mongo_uri
    if not embedded:
        pytest.skip("only meaningful against the embedded (standalone-like) server")
    # The embedded server reports no replica set, exactly like a standalone mongod.
    with pytest.raises(StoreError, match="replSet"):
        await open_store(mongodb_uri=uri, database_name="x", data_dir="unused")


async def test_store_is_private_to_its_user(tmp_path):
    """No TCP port, a 0600 socket, a 0700 data directory and owner-only database files."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    old = data / "old.log"  # left by an older version, world-readable
    old.write_text("x")
    old.chmod(0o644)
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=data) as store:
        await store.db.write(lambda: store.db["things"].insert_one({"x": 1}))
        assert store.server.uri.startswith("mongodb://%2F"), store.server.uri
        sock = store.server.socket_path
        assert sock.is_socket() and stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for f in data.iterdir():
            if f.is_file():
                assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, (f, oct(f.stat().st_mode))
        pid = store.server.process.pid
        listening = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
        # State 0A = LISTEN; the server's network namespace is ours, so no listener at all.
        assert not [line for line in listening if line.split()[3] == "0A"
                    and _inode(line) in _socket_inodes(pid)]
    assert not sock.exists()


def _inode(line: str) -> str:
    return line.split()[9]


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(target[8:-1])
    return found


async def test_a_long_data_dir_gets_its_socket_in_a_private_temp_dir(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=deep) as store:
        sock = store.server.socket_path
        assert len(str(sock)) < 108 and sock.is_socket() and not sock.is_relative_to(deep)
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        await store.db.raw.command("ping")
    assert not sock.exists()


async def test_a_pid_file_naming_a_live_process_that_is_no_store_is_stale(tmp_path):
    # After a reboot the old pid may belong to anything; only a live store refuses the start.
    (tmp_path / "nx-27017.pid").write_text(str(os.getpid()))
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path) as store:
        await store.db.raw.command("ping")


async def test_refusal_names_the_pid_file(tmp_path):
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path):
        with pytest.raises(StoreError, match=r"remove .*nx-27017\.pid"):
            await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path)


async def test_a_data_dir_that_cannot_be_created_is_one_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=r"DATA_DIR .* cannot be created"):
        await open_store(mongodb_uri=None, database_name="gems", data_dir=blocker / "data")


async def test_stopping_the_server_rolls_back_an_open_transaction(tmp_path):
    """The server stops (its bot died) while a transaction is written but not committed: none of
    it may survive (neosqlite's close() would commit it)."""
    store = await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path)
    await store.db.write(lambda: store.db["things"].insert_one({"x": "committed"}))
    session = store.client.start_session()
    await session.start_transaction()
    await store.db["things"].insert_one({"x": "half"}, session=session)
    pid = store.server.process.pid
    store.server.process.terminate()  # what PR_SET_PDEATHSIG sends when the bot is killed
    assert wait_dead(pid)
    with contextlib.suppress(Exception):
        await store.client.close()
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path) as again:
        found = sorted(d["x"] for d in await again.db["things"].find({}).to_list(None))
    assert found == ["committed"]
