"""Runs the demo scenes in order and audits the ledger at the end."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import time
from pathlib import Path

from discord import app_commands

from bot.demo.community import GemsCommunity
from bot.demo.transcript import Transcript
from bot.settings import Settings
from bot.store import open_store
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.core.wording import plural

DEMO_DIR = Path("var") / "demo"  # runtime output, git-ignored


def scenes() -> list:
    """Scene modules (`ORDER`, `TITLE`, `async play(t, gc)`), in order."""
    import bot.demo.scenes as package

    modules = [importlib.import_module(f"{package.__name__}.{info.name}")
               for info in pkgutil.iter_modules(package.__path__)]
    return sorted(modules, key=lambda m: m.ORDER)


def coverage(gc: GemsCommunity, t: Transcript) -> str:
    """How many of the bot's slash commands the script ran, and which it did not."""
    leaves = sorted(c.qualified_name for c in gc.bot.tree.walk_commands()
                    if not isinstance(c, app_commands.Group))
    missing = [name for name in leaves if name not in t.commands]
    line = f"Commands shown: {len(leaves) - len(missing)} of {len(leaves)}"
    return line + (f" (not shown: {', '.join('/' + m for m in missing)})" if missing else "")


async def run_demo(out=sys.stdout, *, data_dir: Path | str = "memory",
                   only: set[str] | None = None) -> int:
    """Play every scene against the sandbox; 0 when all expectations and the audit hold.

    `data_dir`: where the embedded store keeps the demo's database (`demo`); throwaway by
    default, a directory to keep it (tests export it afterwards). `only`: the names of the
    scene modules to play (e.g. ``{"s80_nft"}``), for tests of one scene's behaviour; the
    command coverage line is then left out.
    """
    # Start-up chatter (migrations, the web server, job flushes) is not part of the story; the
    # one log line a scene causes on purpose (a forged Stripe webhook) is narrated there.
    # Said in the transcript's header instead: the contract warning (on stderr it reads like a
    # fault). The levels are put back afterwards (a process that plays the demo keeps logging).
    quiet = dict.fromkeys(("discord", "apscheduler", "bot.store", "bot.web", "bot.jobs", "economy", "migrations"), logging.WARNING)
    quiet["discord_sandbox.contract"] = logging.ERROR
    before = {name: logging.getLogger(name).level for name in quiet}
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)
    try:
        return await _play(out, data_dir, only)
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)


async def _play(out, data_dir: Path | str, only: set[str] | None) -> int:
    started = time.perf_counter()
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    clock = ManualClock()
    async with await open_store(mongodb_uri=None, database_name="demo", data_dir=data_dir) as store:
        await Migrator(store.db, clock).apply_pending()
        async with GemsCommunity.open(store.db, clock=clock, contract_required=False,
                                      fixed_ids=True, settings=_demo_settings()) as gc:
            out.write("GEMS offline demo — the real bot in a local Discord sandbox "
                      f"(guild '{gc.guild.name}', members: {', '.join(gc.members)})\n")
            if gc.sb.contract is None:
                out.write("(Discord's request schemas are not built on this machine, so the "
                          "sandbox checks the bot's requests by its own rules only; "
                          "`./gems test` builds them.)\n")
            t = Transcript(gc, out)
            for scene in scenes():
                if only is not None and scene.__name__.rsplit(".", 1)[-1] not in only:
                    continue
                t.scene(scene.TITLE)
                await scene.play(t, gc)
            report = await audit(gc.services.db)
            if only is None:
                out.write("\n" + coverage(gc, t) + "\n")
        out.write("\n━━ Ledger audit " + "━" * 56 + "\n" + report.render() + "\n")
    elapsed = time.perf_counter() - started
    ok = report.ok and not t.failures
    failed = f" ({plural(len(t.failures), 'expectation')} failed)" if t.failures else ""
    out.write(f"\nDemo {'finished' if ok else 'FAILED'} in {elapsed:.1f} s{failed}.\n")
    return 0 if ok else 1


def _demo_settings() -> Settings:
    """The demo's process settings: the sandbox's loopback CDN, any free port, and the web
    dashboard on (demo-only secrets; the sandbox plays Discord's OAuth2)."""
    return Settings(_env_file=None, discord_token=None, attachment_hosts=["127.0.0.1"],
                    web_port=0, dashboard_client_id=1, dashboard_client_secret="demo-client-secret",
                    dashboard_session_secret="demo-only-session-secret-" + "0" * 16)
