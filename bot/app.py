"""GemsBot: the discord.py client. It receives its services from outside and loads the cogs."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import discord
from discord.ext import commands

from bot.error_handler import install_error_handler
from bot.jobs import Jobs
from bot.settings import Settings
from bot.web import WebServer
from cogs._shared.response_policy import http_connector, install_response_policy
from economy.services import Services

log = logging.getLogger(__name__)


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


# GEMS has no voice features; don't warn about missing voice libraries at every start.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class GemsBot(commands.AutoShardedBot):
    """The GEMS bot. Construct with services; nothing here reaches for globals.

    Auto-sharded: with SHARD_COUNT unset it uses Discord's recommended shard count (one shard for
    most communities); every shard shares the one set of services.
    """

    def __init__(self, *, services: Services, settings: Settings, run_jobs: bool = True,
                 run_web: bool | None = None, **options) -> None:
        options.setdefault("intents", default_intents())
        if settings.shard_count is not None:
            options.setdefault("shard_count", settings.shard_count)
        super().__init__(
            command_prefix=commands.when_mentioned,
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=set(settings.owner_ids) or None,
            help_command=None,
            **options,
        )
        self.services = services
        self.settings = settings
        self.jobs = Jobs(services, settings)
        self._run_jobs = run_jobs
        # The web server (health, wallet linking); feature packages add routes in `setup(bot)`.
        self.web = WebServer(settings)
        self._run_web = run_jobs if run_web is None else run_web
        # Every interaction acknowledged within ~1 s under load (cogs/_shared/response_policy.py).
        self.response_policy = install_response_policy(self)

    async def login(self, token: str) -> None:
        """Log in over a bounded keep-alive connection pool (cogs/_shared/response_policy.py)."""
        self.http.connector = http_connector()
        await super().login(token)

    async def setup_hook(self) -> None:
        """Load every cog, install the error handler and start scheduled jobs."""
        install_error_handler(self.tree)
        for extension in discover_extensions():
            await self.load_extension(extension)
        if self._run_jobs:
            self.jobs.start()
        if self._run_web:
            await self.web.start()
        if self.settings.sync_commands_on_start:
            await self.sync_commands()

    async def sync_commands(self) -> list[int]:
        """Sync app commands to each DEV_GUILD_IDS guild (instant), or globally when none."""
        if not self.settings.dev_guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))
            return []
        for guild_id in self.settings.dev_guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        return list(self.settings.dev_guild_ids)

    async def close(self) -> None:
        """Stop jobs and the web server; write pending activity earnings before disconnecting."""
        try:
            await self.jobs.stop()
            await self.web.stop()
            await self.services.nft.chains.close()
            credited = await self.services.activity.flush()
            if credited:
                log.info("flushed %d pending activity GEMS on shutdown", credited)
            await self.services.marketplace.flush_views()
        finally:
            await super().close()
