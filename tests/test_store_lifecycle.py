"""The embedded store starts, answers, and never leaves an orphan server behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from bot.store import StoreError, open_store
from tests.procs import alive, wait_dead


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
