"""Opening the database: MongoDB when MONGODB_URI is set, else the embedded nx-27017 server.

The embedded server runs as a child process (bot.store_server) serving a Unix domain socket of mode
0600 in the data directory (0700), with its own pid and log files there: no other local user can
reach it or read its files. The child runs in its own session, so the Ctrl-C a terminal sends to the
bot's process group does not kill it before the bot's final flush; it is stopped when the store
closes, and, because the child asks the kernel for SIGTERM when its parent dies, also when the bot
crashes or is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

    from economy.repos.base import Database

# pymongo and the repository base are imported where a client is made, not here: `python -m
# bot run` starts the embedded store process (`start_embedded`) before it imports the driver
# and the bot, so the two start-ups overlap (issue 28).

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database could not be opened; the message says what to do."""


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


def _is_store_process(pid: int) -> bool:
    """True when `pid` runs an embedded store (ours or nx-27017's own CLI), as far as /proc tells."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return True  # cannot tell (no /proc): assume the worst and refuse
    return b"store_server" in cmdline or b"nx_27017" in cmdline


# Unix socket paths are limited to 107 bytes on Linux; longer data directories get a private
# temporary directory for the socket instead.
_SOCKET_PATH_MAX = 100


def private_socket_path(run_dir: Path, name: str) -> Path:
    """`run_dir/name`, or for a long `run_dir` a path in a private temp folder derived from it
    alone, so other commands (`./gems audit`) find the sockets of a running bot."""
    candidate = run_dir / name
    if len(str(candidate)) <= _SOCKET_PATH_MAX:
        return candidate
    digest = hashlib.sha256(f"{run_dir.resolve()}/{name}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"gems-{os.getuid()}" / f"{digest}.sock"


def prepare_socket_dir(socket: Path, run_dir: Path) -> None:
    """Create the private temp folder of a socket outside `run_dir` (0700, ours alone)."""
    folder = socket.parent
    if folder == run_dir:
        return
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise StoreError(
            f"{folder} (for the store's socket) belongs to another user or is open to others; "
            "remove it, or use a shorter DATA_DIR path."
        )


def prepare_private_dir(path: Path) -> None:
    """Create `path` as 0700 (or tighten it) and make the store's files in it owner-only.

    Raises StoreError with what to do when the directory cannot be created or written.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"DATA_DIR {path} cannot be created ({exc.strerror}). Create it yourself, owned by "
            "the user that runs the bot, or point DATA_DIR somewhere writable."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(
            f"DATA_DIR {path} is not writable by this user (uid {os.getuid()}). Fix its owner "
            f"(`chown -R $(id -un) {path}`) or point DATA_DIR somewhere writable."
        )
    try:
        if path.stat().st_uid == os.getuid():
            path.chmod(0o700)
            for child in path.iterdir():
                if child.is_file() and child.suffix in {".db", ".db-wal", ".db-shm", ".log",
                                                         ".pid", ".sock"}:
                    child.chmod(0o600)
    except OSError as exc:  # pragma: no cover - permissions of someone else's files
        log.warning("could not tighten permissions in %s: %s", path, exc)


@dataclass
class EmbeddedServer:
    """An nx-27017 child process serving `data_dir` (one SQLite file per database name).

    `data_dir="memory"` keeps every database in memory (tests, the demo).
    """

    data_dir: str
    run_dir: Path
    process: subprocess.Popen | None = None
    #: Names of bot.store_tuning.TUNINGS to apply; None applies all (benches compare).
    tunings: tuple[str, ...] | None = None
    #: The module run as the server process (tests run a subclass: tests/store_template_server.py).
    module: str = "bot.store_server"

    @property
    def socket_path(self) -> Path:
        """The Unix socket the server listens on (0600)."""
        return private_socket_path(self.run_dir, "nx-27017.sock")

    def _prepare_socket_dir(self) -> None:
        prepare_socket_dir(self.socket_path, self.run_dir)

    @property
    def uri(self) -> str:
        """Connection string of the running server (its socket path, percent-encoded)."""
        return f"mongodb://{quote(str(self.socket_path), safe='')}/?directConnection=true"

    @property
    def pid_file(self) -> Path:
        """The server's own pid file (never the machine-global default)."""
        return self.run_dir / "nx-27017.pid"

    def start(self) -> None:
        """Start the server process (returns at once; use `wait_ready`)."""
        prepare_private_dir(self.run_dir)
        self._prepare_socket_dir()
        self._clear_stale_pid_file()
        cmd = [
            sys.executable, "-m", self.module, "--data-dir", self.data_dir,
            "--socket", str(self.socket_path),
            "--pid-file", str(self.pid_file), "--log-file", str(self.run_dir / "nx-27017.log"),
        ]
        if self.tunings is not None:
            cmd += ["--tunings", ",".join(self.tunings)]
        log.info("starting embedded store on %s (%s)", self.socket_path, self.data_dir)
        # start_new_session: Ctrl-C and systemd signal the bot's whole process group; the store
        # must outlive that signal until the bot has written its last batch (bot.close()).
        self.process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            start_new_session=True, cwd=_project_root(),
        )

    def live_pid(self) -> int | None:
        """The pid of a running store serving this data directory, if there is one."""
        try:
            pid = int(self.pid_file.read_text().strip() or "0")
        except (OSError, ValueError):
            return None
        return pid if pid and _pid_alive(pid) and _is_store_process(pid) else None

    def _clear_stale_pid_file(self) -> None:
        if not self.pid_file.exists():
            return
        try:
            pid = int(self.pid_file.read_text().strip() or "0")
        except ValueError:
            pid = 0
        if pid and _pid_alive(pid) and _is_store_process(pid):
            raise StoreError(
                f"Another embedded GEMS store (pid {pid}) is already using {self.run_dir}. "
                "Stop the other bot first: one bot process per data directory. The embedded "
                "store cannot keep two processes' transactions apart, so a second bot on the "
                "same data could lose or double GEMS. To run several bot processes (SHARD_IDS), "
                "use MongoDB (MONGODB_URI); see \"Running several processes\" in docs/operations.md. "
                f"If no GEMS bot is running, remove {self.pid_file}."
            )
        if pid and _pid_alive(pid):
            log.warning("removing stale pid file %s (pid %s is not a GEMS store)", self.pid_file, pid)
        try:
            self.pid_file.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(
                f"The stale pid file {self.pid_file} cannot be removed ({exc.strerror}): "
                "remove it by hand and start again."
            ) from None

    def accepts_connections(self) -> bool:
        """True once the server's socket accepts connections (it is listening)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            try:
                probe.connect(str(self.socket_path))
            except OSError:
                return False
        return True

    def _raise_if_exited(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise StoreError(
                f"The embedded store exited at start (code {self.process.returncode}); "
                f"see {self.run_dir / 'nx-27017.log'}."
            )

    async def wait_ready(self, client: AsyncMongoClient, timeout: float) -> None:
        """Wait until the server answers `ping`, or raise StoreError.

        First until its socket accepts connections (a cheap probe every 10 ms): asked too
        early, the driver's failed check is retried no sooner than its minimum heartbeat
        interval (0.5 s), which made every start wait ~0.35 s for nothing."""
        from pymongo.errors import PyMongoError

        deadline = time.monotonic() + timeout
        while not self.accepts_connections() and time.monotonic() <= deadline:
            self._raise_if_exited()
            await asyncio.sleep(0.01)
        while True:
            self._raise_if_exited()
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
        with contextlib.suppress(OSError):
            self.socket_path.unlink(missing_ok=True)


def _project_root() -> str:
    # The child imports bot.store_server: run it from the directory that holds the `bot` package.
    return str(Path(__file__).resolve().parent.parent)


@dataclass
class Store:
    """An open client, its database, and the embedded server when there is one."""

    client: AsyncMongoClient
    db: Database
    server: EmbeddedServer | None = None

    def database(self, name: str) -> Database:
        """Another database on the same deployment, sharing this store's write discipline."""
        from economy.repos.base import Database

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
    from pymongo import AsyncMongoClient

    # tz_aware: datetimes come back as aware UTC, matching the clock.
    return AsyncMongoClient(uri, tz_aware=True, tzinfo=UTC, **kwargs)


async def open_store(
    *, mongodb_uri: str | None, database_name: str, data_dir: Path | str,
    start_timeout: float = 20.0, tunings: tuple[str, ...] | None = None,
    run_dir: Path | None = None, started: EmbeddedServer | None = None,
) -> Store:
    """Open the configured store. Embedded unless `mongodb_uri` is given.

    `data_dir="memory"` runs a throwaway in-memory embedded store (run files in a temp dir).
    `tunings`: which of bot.store_tuning.TUNINGS the embedded server applies (default: all).
    `run_dir`: where the embedded server's socket, pid and log go (default: `data_dir`, which is
    then made private); `./gems doctor` passes a temporary folder so DATA_DIR stays untouched.
    `started`: the embedded server `start_embedded` already started for this data directory
    (the store takes it over, and stops it on close).
    """
    from economy.repos.base import Database

    if mongodb_uri:
        return await _open_mongodb(mongodb_uri, database_name)
    server = started or start_embedded(data_dir, tunings=tunings, run_dir=run_dir)
    client = _client(server.uri, serverSelectionTimeoutMS=2000)
    try:
        await server.wait_ready(client, start_timeout)
    except BaseException:
        await client.close()
        server.stop()
        raise
    db = Database(client, database_name, write_lock=asyncio.Lock())
    return Store(client=client, db=db, server=server)


def start_embedded(data_dir: Path | str, *, tunings: tuple[str, ...] | None = None,
                   run_dir: Path | None = None) -> EmbeddedServer:
    """Start the embedded server process for `data_dir` and return at once (open_store waits
    for it). Imports nothing heavy: called before the bot's own imports, the server boots on
    the other core meanwhile. Raises StoreError when another store serves that directory."""
    if str(data_dir) == "memory":
        run_dir = Path(tempfile.mkdtemp(prefix="gems-store-"))
        server = EmbeddedServer(data_dir="memory", run_dir=run_dir, tunings=tunings)
    else:
        path = Path(data_dir).resolve()
        server = EmbeddedServer(data_dir=str(path), run_dir=run_dir or path, tunings=tunings)
    server.start()
    return server


async def _open_mongodb(uri: str, database_name: str) -> Store:
    from pymongo.errors import ConfigurationError, InvalidURI, OperationFailure, PyMongoError

    from bot.startup_errors import mask_secrets
    from economy.repos.base import Database

    # The URI's own serverSelectionTimeoutMS wins (a keyword argument would override it).
    own = re.search(r"[?&]serverSelectionTimeoutMS=(\d+)", uri, re.IGNORECASE)
    timeout_ms = int(own.group(1)) if own else 10_000
    waited = timedelta(milliseconds=timeout_ms).total_seconds()
    try:
        client = _client(uri, serverSelectionTimeoutMS=timeout_ms)
    except (InvalidURI, ConfigurationError) as exc:
        # pymongo's message may quote the URI: mask the password in both.
        raise StoreError(
            f"MONGODB_URI ({mask_secrets(uri)}) is not a usable MongoDB connection string: "
            f"{mask_secrets(str(exc))}. Check its form (mongodb://user:password@host:27017/"
            "?replicaSet=rs0, or mongodb+srv://... for Atlas) and that a password with @ : / is "
            "percent-encoded."
        ) from None
    try:
        hello = await client.admin.command("hello")
    except OperationFailure as exc:
        await client.close()
        raise StoreError(
            f"MongoDB at {mask_secrets(uri)} refused the bot ({exc.code}: "
            f"{mask_secrets(str(exc.details.get('errmsg', exc)) if exc.details else str(exc))}). "
            "Check the user name, password and authSource in MONGODB_URI."
        ) from None
    except PyMongoError as exc:
        await client.close()
        reason = mask_secrets(str(exc)).split(", Timeout:")[0][:300]
        raise StoreError(
            f"Could not reach MongoDB at {mask_secrets(uri)} within {waited:g} s "
            f"({reason}). Check that "
            "the server runs and this machine can reach its host and port (firewall, Atlas IP "
            "access list, VPN), and the host names in MONGODB_URI."
        ) from None
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
