"""GEMS in the sandbox: the real GemsBot and its store, a small community, and a movable clock.

Used by the end-to-end tests and by `python -m bot demo`::

    async with GemsCommunity.open(db) as gc:
        r = await gc.slash("alice", "gems daily")
        await gc.advance(hours=24)
        await gc.restart_bot()
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bot.app import GemsBot
from bot.settings import Settings
from discord_sandbox.harness import DiscordSandbox
from discord_sandbox.interactions import InteractionResult
from discord_sandbox.state import Channel, Guild, Member, Role
from economy.core.clock import ManualClock
from economy.repos.base import Database
from economy.services import Services, build_services

MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
MODERATE_MEMBERS = 1 << 40

#: The cast of the default community: name -> is a bot.
MEMBER_NAMES = ("alice", "bob", "carol", "dave", "erin")


@functools.cache
def _default_settings() -> Settings:
    """The process settings of a community (read from the environment once per process).

    The sandbox serves attachments from its own loopback CDN, so that is the allowed host."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None, discord_token=None, attachment_hosts=["127.0.0.1"], web_port=0)


@dataclass
class GemsCommunity:
    """A connected GemsBot serving one guild of the sandbox."""

    sb: DiscordSandbox
    db: Database
    clock: ManualClock
    settings: Settings
    guild: Guild
    general: Channel
    admin_role: Role
    mod_role: Role
    members: dict[str, Member] = field(default_factory=dict)
    bot: GemsBot | None = None
    services: Services | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, db: Database, *, clock: ManualClock | None = None, settings: Settings | None = None,
        strict: bool = True, contract_required: bool = True, strict_deadline: bool = True,
        fixed_ids: bool = False,
    ) -> AsyncIterator[GemsCommunity]:
        """Start a sandbox with the default community and connect a GemsBot to it.

        ``contract_required=False`` (the offline demo) runs without Discord's request schemas
        when they are not built (no node): validation off, one log line.
        ``strict_deadline=False``: a first response later than 3 s is recorded, not refused
        (test suites check the deadline in dedicated tests, not in every test).
        ``fixed_ids=True`` (the demo): Discord ids start at the clock's time instead of the wall
        clock, so every run has the same guild id and therefore the same (guild, day)-seeded
        challenge draw, and prints the same ids.
        """
        clock = clock or ManualClock()
        settings = settings or _default_settings().model_copy(deep=True)
        async with DiscordSandbox(strict=strict, contract_required=contract_required,
                                  strict_deadline=strict_deadline,
                                  ids_from=clock.now() if fixed_ids else None) as sb:
            guild = sb.create_guild("Gem Collectors")
            admin_role = sb.create_role(guild, "Admin", permissions=MANAGE_GUILD)
            mod_role = sb.create_role(guild, "Moderator", permissions=MANAGE_MESSAGES | MODERATE_MEMBERS)
            general = sb.create_channel(guild, "general")
            community = cls(sb=sb, db=db, clock=clock, settings=settings,
                            guild=guild, general=general, admin_role=admin_role, mod_role=mod_role)
            community.members["admin"] = sb.add_member(guild, "admin", roles=[admin_role])
            community.members["mod"] = sb.add_member(guild, "mod", roles=[mod_role])
            for name in MEMBER_NAMES:
                community.members[name] = sb.add_member(guild, name)
            community.members["otherbot"] = sb.add_member(guild, "otherbot", bot=True)
            await community.start_bot()
            try:
                yield community
            finally:
                await community.stop_bot()

    def __getitem__(self, name: str) -> Member:
        return self.members[name]

    def add_member(self, name: str, **options: Any) -> Member:
        """Another member joins the guild."""
        self.members[name] = self.sb.add_member(self.guild, name, **options)
        return self.members[name]

    async def start_bot(self) -> None:
        """Build services over the database and connect a fresh GemsBot."""
        self.services = build_services(self.db, self.clock,
                                       **self.settings.nft_service_options())
        self.bot = GemsBot(services=self.services, settings=self.settings)
        # The in-process sandbox shares the bot's loop and slows it down; a later watchdog and a
        # higher loop-lag limit keep the answers' shape stable on a loaded machine (a render
        # that holds the shared loop is not the bot falling behind; the policy's own tests set
        # theirs, and bursts are still recognised by their arrivals).
        self.bot.response_policy.watchdog_seconds = 2.0
        self.bot.response_policy.lag_limit = 2.0
        await self.sb.connect(self.bot)

    async def stop_bot(self) -> None:
        """Shut the bot down cleanly (pending activity earnings are flushed)."""
        await self.sb.disconnect()
        self.bot = None

    async def restart_bot(self) -> None:
        """Stop the bot and start a new process-equivalent over the same database."""
        await self.stop_bot()
        await self.start_bot()

    async def advance(self, **units: float) -> None:
        """Move the clock and run the scheduled jobs, as time passing would."""
        self.clock.advance(**units)
        assert self.bot is not None
        await self.bot.jobs.run_due()

    async def slash(self, who: str | Member, command: str, **options: Any) -> InteractionResult:
        """Run a slash command as a member (by name or Member)."""
        return await self.sb.slash(self._member(who), command, **options)

    async def click(self, who: str | Member, result: Any, label: str) -> InteractionResult:
        """Click a button on a response or message."""
        return await self.sb.click(self._member(who), result, label)

    async def say(self, who: str | Member, content: str, channel: Channel | None = None) -> Any:
        """A member writes in a channel (default #general)."""
        return await self.sb.say(self._member(who), channel or self.general, content)

    async def react(self, who: str | Member, message: Any, emoji: str = "💎") -> bool:
        """A member reacts to a message."""
        return await self.sb.react(self._member(who), message, emoji)

    def _member(self, who: str | Member) -> Member:
        return self.members[who] if isinstance(who, str) else who
