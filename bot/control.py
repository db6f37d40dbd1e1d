"""The running bot's control socket: `./gems audit` asks the bot itself to audit its live store.

The embedded store has no read isolation, so an audit from another process could see a transfer
half done and report a mismatch that is not there. The bot runs the audit while holding its own
write lock instead (no transaction is open meanwhile). The socket is a 0600 Unix socket beside the
store's, so only the bot's user can use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.store import prepare_socket_dir, private_socket_path
from economy.core.audit import AuditReport, audit
from economy.repos.base import Database

log = logging.getLogger(__name__)

SOCKET_NAME = "gems-control.sock"


def control_socket(run_dir: Path) -> Path:
    """Where the bot serving `run_dir` listens for control requests."""
    return private_socket_path(run_dir.resolve(), SOCKET_NAME)


class ControlServer:
    """Serves `POST /audit` on the control socket while the bot runs."""

    def __init__(self, db: Database, run_dir: Path) -> None:
        self._db = db
        self.path = control_socket(run_dir)
        self._run_dir = run_dir.resolve()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on the socket (mode 0600)."""
        app = web.Application()
        app.router.add_post("/audit", self._audit)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        prepare_socket_dir(self.path, self._run_dir)
        self.path.unlink(missing_ok=True)
        old = os.umask(0o077)
        try:
            await web.UnixSite(self._runner, str(self.path)).start()
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        """Stop listening and remove the socket."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)

    async def _audit(self, request: web.Request) -> web.Response:
        async with self._db.quiesced():
            report = await audit(self._db)
        log.info("audit requested over the control socket: %s", "OK" if report.ok else "FAILED")
        return web.json_response({"ok": report.ok, "text": report.render()})


async def audit_running_bot(run_dir: Path, timeout: float = 600.0) -> AuditReport | None:
    """Ask the bot serving `run_dir` for an audit; None when no bot answers on the socket."""
    path = control_socket(run_dir)
    if not path.exists():
        return None
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(path)),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as http, http.post("http://gems/audit") as response:
            body = await response.json()
    except aiohttp.ClientConnectionError:
        return None
    return RemoteAuditReport(ok=bool(body["ok"]), text=str(body["text"]))


class RemoteAuditReport(AuditReport):
    """An audit report rendered by the running bot."""

    def __init__(self, *, ok: bool, text: str) -> None:
        super().__init__()
        self._ok, self._text = ok, text

    @property
    def ok(self) -> bool:
        """True when the bot found no violation."""
        return self._ok

    def render(self) -> str:
        """The bot's report, marked as taken from the running bot."""
        return "Audit of the running bot (taken under its write lock):\n" + self._text
