"""Opening the database: MongoDB when MONGODB_URI is set, else the embedded nx-27017 server.

The embedded server runs as a child process on a free loopback port with its own pid and log files
under the data directory. It is stopped when the store closes, and, because the child asks the
kernel for SIGTERM when its parent dies, also when the bot crashes or is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from economy.repos.base import Database

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database could not be opened; the message says what to do."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # PR_SET_PDEATHSIG: the kernel sends SIGTERM to the server if the bot dies, even by SIGKILL.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedServer:
    """An nx-27017 child process serving `data_dir` (one SQLite file per database name).

    `data_dir="memory"` keeps every database in memory (tests, the demo).
    """

    data_dir: str
    run_dir: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        """Connection string of the running server."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def pid_file(self) -> Path:
        """The server's own pid file (never the machine-global default)."""
        return self.run_dir / "nx-27017.pid"

    def start(self) -> None:
        """Start the server process (returns at once; use `wait_ready`)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._clear_stale_pid_file()
        cmd = [
            sys.executable, "-m", "nx_27017.nx_27017", "--data-dir", self.data_dir,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--pid-file", str(self.pid_file), "--log-file", str(self.run_dir / "nx-27017.log"),
        ]
        log.info("starting embedded store on 127.0.0.1:%s (%s)", self.port, self.data_dir)
        self.process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def _clear_stale_pid_file(self) -> None:
        if not self.pid_file.exists():
            return
        try:
            pid = int(self.pid_file.read_text().strip() or "0")
        except ValueError:
            pid = 0
        if pid and _pid_alive(pid):
            raise StoreError(
                f"Another embedded GEMS store (pid {pid}) is already using {self.run_dir}. "
                "Stop the other bot first: one bot process per data directory. The embedded "
                "store cannot keep two processes' transactions apart, so a second bot on the "
                "same data could lose or double GEMS. To run several bot processes (SHARD_IDS), "
                "use MongoDB (MONGODB_URI); see \"Running several processes\" in the README."
            )
        self.pid_file.unlink(missing_ok=True)

    async def wait_ready(self, client: AsyncMongoClient, timeout: float) -> None:
        """Wait until the server answers `ping`, or raise StoreError."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise StoreError(
                    f"The embedded store exited at start (code {self.process.returncode}); "
                    f"see {self.run_dir / 'nx-27017.log'}."
                )
            try:
                await client.admin.command("ping")
                return
            except PyMongoError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"The embedded store did not answer within {timeout:.0f} s."
                    ) from None
                await asyncio.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it does not exit in time."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("embedded store did not stop in %.0f s; killing it", timeout)
            proc.kill()
            proc.wait()
        self.pid_file.unlink(missing_ok=True)


@dataclass
class Store:
    """An open client, its database, and the embedded server when there is one."""

    client: AsyncMongoClient
    db: Database
    server: EmbeddedServer | None = None

    def database(self, name: str) -> Database:
        """Another database on the same deployment, sharing this store's write discipline."""
        return Database(self.client, name, write_lock=self.db._lock)

    async def close(self) -> None:
        """Close the client and stop the embedded server (safe to call twice)."""
        try:
            await self.client.close()
        finally:
            if self.server is not None:
                await asyncio.to_thread(self.server.stop)

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _client(uri: str, **kwargs: object) -> AsyncMongoClient:
    # tz_aware: datetimes come back as aware UTC, matching the clock.
    return AsyncMongoClient(uri, tz_aware=True, tzinfo=UTC, **kwargs)


async def open_store(
    *, mongodb_uri: str | None, database_name: str, data_dir: Path | str,
    start_timeout: float = 20.0,
) -> Store:
    """Open the configured store. Embedded unless `mongodb_uri` is given.

    `data_dir="memory"` runs a throwaway in-memory embedded store (run files in a temp dir).
    """
    if mongodb_uri:
        return await _open_mongodb(mongodb_uri, database_name)
    if str(data_dir) == "memory":
        import tempfile

        run_dir = Path(tempfile.mkdtemp(prefix="gems-store-"))
        server = EmbeddedServer(data_dir="memory", run_dir=run_dir)
    else:
        path = Path(data_dir).resolve()
        server = EmbeddedServer(data_dir=str(path), run_dir=path)
    server.start()
    client = _client(server.uri, serverSelectionTimeoutMS=2000)
    try:
        await server.wait_ready(client, start_timeout)
    except BaseException:
        await client.close()
        server.stop()
        raise
    db = Database(client, database_name, write_lock=asyncio.Lock())
    return Store(client=client, db=db, server=server)


async def _open_mongodb(uri: str, database_name: str) -> Store:
    client = _client(uri, serverSelectionTimeoutMS=10_000)
    try:
        hello = await client.admin.command("hello")
    except PyMongoError as exc:
        await client.close()
        raise StoreError(f"Could not reach MongoDB at MONGODB_URI: {exc}") from None
    if not hello.get("setName") and hello.get("msg") != "isdbgrid":
        await client.close()
        raise StoreError(
            "MONGODB_URI points at a standalone MongoDB server, which has no transactions. "
            "GEMS needs a replica set: start mongod with `--replSet rs0`, run "
            "`mongosh --eval 'rs.initiate()'` once, and add `?replicaSet=rs0` to MONGODB_URI "
            "(Atlas clusters already are replica sets). Or unset MONGODB_URI to use the "
            "embedded store."
        )
    return Store(client=client, db=Database(client, database_name, write_lock=None))
