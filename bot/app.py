"""GemsBot: the discord.py client. It receives its services from outside and loads the cogs."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import pkgutil
import sys

import discord
from discord.ext import commands

from bot.command_sync import SyncOutcome, sync_command_tree
from bot.discord_internals import silence_voice_warnings, use_connector
from bot.error_handler import install_error_handler
from bot.guild_work import GuildWork
from bot.jobs import Jobs
from bot.member_directory import CachedMemberDirectory
from bot.modules_gate import install_modules_gate
from bot.observability import install_observability
from bot.permissions import invite_url
from bot.response_policy import http_connector, install_response_policy
from bot.settings import Settings
from bot.startup_phases import StartupPhases
from bot.tree import GemsTree
from bot.web import WebServer
from economy.repos.outbox_repo import OutboxRepo
from economy.services import Services

log = logging.getLogger(__name__)

#: Garbage-collector thresholds set at READY (see GemsBot._freeze_startup_heap): a young
#: collection every 20,000 net allocations, a full one every 50 x 100 young ones.
GC_THRESHOLDS = (20_000, 50, 100)
#: Seconds a thread runs before the interpreter lock is offered to another (default 0.005).
SWITCH_INTERVAL = 0.001


def discover_extensions(package: str = "cogs") -> list[str]:
    """Every feature package under `cogs/` that defines `setup(bot)`."""
    pkg = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.ispkg and not info.name.startswith("_"):
            module = importlib.import_module(f"{package}.{info.name}")
            if hasattr(module, "setup"):
                found.append(module.__name__)
    return sorted(found)


def default_intents() -> discord.Intents:
    """Guilds, members (role sync, member checks) and message content (activity earning)."""
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    return intents


silence_voice_warnings()  # GEMS has no voice features (bot/discord_internals.py)


class GemsBot(commands.AutoShardedBot):
    """The GEMS bot. Construct with services; nothing here reaches for globals.

    Auto-sharded: with SHARD_COUNT unset it uses Discord's recommended shard count (one shard for
    most communities); every shard shares the one set of services. ``own_process=True`` (the
    real run, benches; not tests, which share their process) tunes the process at READY: startup
    heap frozen, fewer garbage collections, a 1 ms interpreter-lock switch interval (issue 28).
    """

    def __init__(self, *, services: Services, settings: Settings, run_jobs: bool = True,
                 run_web: bool | None = None, sync_on_start: bool = False,
                 own_process: bool = False, **options) -> None:
        options.setdefault("intents", default_intents())
        if settings.shard_count is not None:
            options.setdefault("shard_count", settings.shard_count)
        if settings.shard_ids:  # this process runs a slice of the shards (several processes)
            options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=set(settings.owner_ids) or None,
            help_command=None,
            tree_cls=GemsTree,
            **options,
        )
        self.services = services
        self.settings = settings
        # Who is a current human member (winners, prizes) is answered from this bot's cache.
        services.members.use_directory(CachedMemberDirectory(self))
        self.jobs = Jobs(services, settings)
        # Announcements, DMs and role edits run on the process that owns the guild's shard.
        self.guild_work = GuildWork(self, OutboxRepo(services.db), services.modules,
                                    owner=lambda: self.jobs.lease.owner)
        self.jobs.add("guild-work-poll", self.guild_work.poll,
                      every_seconds=settings.outbox_poll_seconds, per_process=True)
        self.jobs.add("guild-work-prune", self.guild_work.prune, every_seconds=3600)
        self._run_jobs = run_jobs
        # The web server (health, wallet linking); feature packages add routes in `setup(bot)`.
        self.web = WebServer(settings)
        self._run_web = run_jobs if run_web is None else run_web
        self._closing: asyncio.Future | None = None
        # `./gems run` syncs the slash commands when they changed (bot/command_sync.py).
        self._sync_on_start = sync_on_start
        self.command_sync: asyncio.Task | None = None
        self.add_listener(self._invite_hint, "on_ready")
        self._heap_frozen = False
        if own_process:  # the process is the bot's alone (not a test runner's): tune its GC
            self.add_listener(self._freeze_startup_heap, "on_ready")
        self._invite_hinted = False
        #: Set by bot.runtime: the start-up phases, logged once at READY.
        self.startup_phases: StartupPhases | None = None
        self.add_listener(self._log_startup, "on_ready")
        self.metrics = install_observability(self)  # /healthz, /metrics, command metrics
        # Every interaction acknowledged within ~1 s under load (bot/response_policy.py).
        self.response_policy = install_response_policy(self)

    async def login(self, token: str) -> None:
        """Log in over a bounded keep-alive connection pool (bot/response_policy.py)."""
        use_connector(self, http_connector())
        self.response_policy.start()  # the thread that sends defers outside this loop
        await super().login(token)

    async def setup_hook(self) -> None:
        """Load every cog, install the error handler and start scheduled jobs."""
        if self.startup_phases is not None:
            self.startup_phases.mark("logged in")
        install_error_handler(self.tree)
        for extension in discover_extensions():
            await self.load_extension(extension)
        if self.startup_phases is not None:
            self.startup_phases.mark("cogs loaded")
        self.modules_gate = install_modules_gate(self)
        if self._run_jobs:
            self.jobs.start()
        if self._run_web:
            await self.web.start()
        if self._sync_on_start:  # in the background: a rate limit must not delay going online
            self.command_sync = asyncio.create_task(self._sync_changed(), name="gems-command-sync")

    @property
    def runs_jobs(self) -> bool:
        """True when this process runs the scheduled jobs."""
        return self._run_jobs

    async def sync_commands(self, *, force: bool = True) -> list[SyncOutcome]:
        """Sync the app commands to each DEV_GUILD_IDS guild (instant), or globally when none;
        without `force` only scopes whose commands changed since their last sync."""
        return await sync_command_tree(self, force=force)

    async def _sync_changed(self) -> None:
        try:
            await self.sync_commands(force=False)
        except Exception:  # never take the bot down; the next start tries again
            log.exception("could not sync the slash commands")

    async def _freeze_startup_heap(self) -> None:
        """Once per process, when READY: move everything built so far (modules, cogs, caches,
        discord.py's member cache) out of the garbage collector's reach.

        Why: a full collection walks every tracked object; with 1,000+ members cached that took
        over a second per collection on a loaded host, and it holds the interpreter lock, so it
        stalls the acknowledger thread too (issue 28: 10 full collections, 14 s, in one burst
        run). These objects live as long as the process; frozen, collections walk only what
        the interactions allocate.
        """
        if self._heap_frozen:
            return
        self._heap_frozen = True
        gc.collect()
        gc.freeze()
        # Fewer, later collections: with the default thresholds (700, 10, 10) a burst of 1,000
        # interactions ran ~10 full collections (11-14 s of GC in one bench run under load),
        # and after the freeze the "25 % of the long-lived heap" rule no longer spaces them out.
        gc.set_threshold(*GC_THRESHOLDS)
        # The acknowledger thread waits for the interpreter lock while handlers compute: hand
        # it over every millisecond instead of every 5 (a defer's send is a few of those turns).
        sys.setswitchinterval(SWITCH_INTERVAL)

    async def _log_startup(self) -> None:
        """Once per process: how long each start-up phase took (seconds since `python -m bot`;
        the command sync, if any, runs in the background after)."""
        phases, self.startup_phases = self.startup_phases, None
        if phases is not None:
            phases.mark("READY")
            log.info("started: %s", phases.summary())

    async def _invite_hint(self) -> None:
        """Once per process: in no server yet, say how to invite the bot (one line)."""
        if self._invite_hinted or self.guilds or self.application_id is None:
            return
        self._invite_hinted = True
        log.warning("GEMS is in no server yet. Invite it (as a server admin) with: %s",
                    invite_url(self.application_id))

    async def close(self) -> None:
        """Stop cleanly: no new jobs, let handlers in flight finish, disconnect, then write every
        pending in-memory count (activity GEMS, listing views, challenge progress).

        Runs once: a signal handler and `async with` both call it, and the second caller must
        wait for the first one's final writes before the store closes.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_once())
        await asyncio.shield(self._closing)

    async def __aexit__(self, *exc_info: object) -> None:
        # discord.py's own __aexit__ waits only for its part of close(), not for our final
        # writes: the store would close under them.
        await self.close()

    async def _close_once(self) -> None:
        if self.command_sync is not None and not self.command_sync.done():
            self.command_sync.cancel()  # not recorded: the next start syncs again
        try:
            await self.jobs.stop()
            await self.web.stop()
            # Members whose command is running get their answer while the gateway is still up.
            await _drain_event_handlers(timeout=10.0)
        finally:
            await super().close()
        await _drain_event_handlers(timeout=5.0)  # events read just before the disconnect
        self.response_policy.stop_gauge()
        await asyncio.to_thread(self.response_policy.stop)  # joins the acknowledger thread
        await self.services.nft.chains.close()
        await self.jobs.final_flush()


_HANDLER_TASKS = ("discord.py: ", "CommandTree-invoker", "discord-ui-view-dispatch-",
                  "discord-ui-dynamic-item-", "discord-ui-modal-dispatch-", "defer-")


async def _drain_event_handlers(timeout: float) -> None:
    """Wait (at most `timeout` s) for discord.py's event and command tasks to finish."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    current = asyncio.current_task()
    while True:
        pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()
                   and t.get_name().startswith(_HANDLER_TASKS)]
        remaining = deadline - loop.time()
        if not pending:
            return
        if remaining <= 0:
            log.warning("stopping with %d event handlers still running", len(pending))
            return
        await asyncio.wait(pending, timeout=remaining)
