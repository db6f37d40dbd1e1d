"""The embedded store's child process: nx-27017 served on a Unix domain socket only its owner opens.

nx-27017's own command line serves TCP, and any local user can connect to a loopback port (the
server has no authentication). Here the same request handler is served on a socket file created
under umask 077 (mode 0600, in a 0700 directory), so only the user running the bot can reach it.

Run by bot.store as `python -m bot.store_server --data-dir DIR --socket PATH --pid-file F
--log-file F`. SIGTERM and SIGINT stop it after the requests in flight; the SQLite files are closed
cleanly on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from nx_27017.handler import NeoSQLiteHandler
from nx_27017.server import handle_client

from bot import store_tuning

log = logging.getLogger("gems.store_server")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.store_server")
    parser.add_argument("--data-dir", required=True, help="directory of <db>.db files, or 'memory'")
    parser.add_argument("--socket", required=True, help="path of the Unix socket to serve")
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--log-file", required=True)
    parser.add_argument("--tunings", default=None,
                        help="comma-separated names of bot.store_tuning.TUNINGS to apply "
                             "(default: all; empty: none) -- for benchmarks")
    return parser.parse_args(argv)


async def serve(handler: NeoSQLiteHandler, socket_path: Path) -> None:
    """Serve `handler` on `socket_path` until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    socket_path.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(
        lambda reader, writer: handle_client(reader, writer, handler), path=str(socket_path))
    # umask 077 already made it 0600; be explicit in case the platform ignores umask for sockets.
    os.chmod(socket_path, 0o600)
    log.info("serving on %s", socket_path)
    async with server:
        await stop.wait()
    socket_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None,
         handler_class: type[NeoSQLiteHandler] = NeoSQLiteHandler) -> int:
    """Start the server; returns the exit code. `handler_class`: tests serve a subclass
    (tests/store_template_server.py clones a migrated template database)."""
    args = _parse(argv)
    os.umask(0o077)  # every file the server creates (databases, WAL, log, socket): owner only
    logging.basicConfig(filename=args.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    pid_file = Path(args.pid_file)
    pid_file.write_text(str(os.getpid()))
    only = None if args.tunings is None else set(filter(None, args.tunings.split(",")))
    for name in store_tuning.apply(only):
        log.info("store tuning: %s", name)
    handler = handler_class(":memory:", data_dir=args.data_dir)
    try:
        asyncio.run(serve(handler, Path(args.socket)))
    finally:
        close_rolling_back(handler)
        pid_file.unlink(missing_ok=True)
    return 0


def close_rolling_back(handler: NeoSQLiteHandler) -> None:
    """Close the databases, rolling back a transaction still open.

    Not `handler.close_all()`: neosqlite's `Connection.close()` COMMITS a pending transaction, so
    stopping the server while a bot's transaction is half written (the bot was killed mid-batch)
    would make half a money movement permanent. Its garbage-collection path rolls back instead.
    """
    for conn in list(getattr(handler, "_conns", {}).values()):
        with contextlib.suppress(Exception):
            conn._close_rollback()



if __name__ == "__main__":
    sys.exit(main())
