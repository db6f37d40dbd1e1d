"""The test API: :class:`DiscordSandbox` runs the emulator and drives a real discord.py client.

Typical use::

    async with DiscordSandbox() as sb:
        guild = sb.create_guild("Gem Collectors")
        alice = sb.add_member(guild, "alice", permissions=ADMINISTRATOR)
        await sb.connect(bot)
        r = await sb.slash(alice, "gems give", member=bob, amount=50)
        assert "50" in r.content

The sandbox patches discord.py's REST base URL, gateway URL and CDN base while it runs
(process-global, restored on exit), so exactly one sandbox should be active at a time. One client
(possibly sharded) connects to a sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import discord
import yarl
from discord import app_commands

from .contract import shared_contract
from .interactions import (
    APPLICATION_COMMAND,
    ATTACHMENT_SIZE_LIMIT,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionNotAnswered,
    InteractionRecord,
    InteractionResult,
    InteractionTimeout,
    OptionContext,
    SandboxError,
    _option_value,
    _resolve_user,
    build_options,
    find_command,
    modal_submit_components,
    nest_options,
    new_token,
)
from .oauth2 import OAuth2
from .scheduled_events import set_interested
from .server import DiscordServer, RateLimitRule, RequestRecord, compile_route
from .state import (
    DEFAULT_BOT_PERMISSIONS,
    Attachment,
    Channel,
    ChannelType,
    Component,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    Snowflakes,
    User,
)
from .task_capture import collect_tasks
from .world import DiscordError, RoleEvent, World

log = logging.getLogger(__name__)

#: discord.py's wait for more GUILD_CREATEs after the last one, before READY (``fast_ready``),
#: while the READY's guilds have not all arrived. Once they have, the wait is zero: a fixed wait
#: was 50 ms of the ~80 ms every connect of a test bot took.
FAST_READY_SECONDS = 0.05
#: The wait once they have all arrived. Not zero: Python 3.11's `wait_for` with a zero timeout
#: gives up before reading a guild already queued (when the last GUILD_CREATE was parsed before
#: discord.py's ready task first ran), and that guild would never be announced as available.
_ALL_GUILDS_HERE = 0.001

#: Select menu component type -> the option type its values resolve like.
_SELECT_VALUE_TYPES = {
    5: discord.AppCommandOptionType.user,
    6: discord.AppCommandOptionType.role,
    7: discord.AppCommandOptionType.mentionable,
    8: discord.AppCommandOptionType.channel,
}


#: What each auto-populated select offers (Discord's client lists nothing else).
_SELECT_OFFERS: dict[int, tuple[type, ...]] = {
    5: (Member, User),
    6: (Role,),
    7: (Member, User, Role),
    8: (Channel,),
}


def _check_picks(name: str, comp: Component, values: Sequence[Any]) -> None:
    """Refuse a pick Discord's client cannot make: a value the select does not offer (an
    option it lacks, an object of the wrong kind, a channel type outside ``channel_types``),
    a repeated value, or fewer than ``min_values`` / more than ``max_values`` (both default 1)."""
    raw = comp.raw
    low, high = raw.get("min_values", 1), raw.get("max_values", 1)
    if not low <= len(values) <= high:
        raise SandboxError(f"select {name!r} takes {low}..{high} value(s), not {len(values)}")
    if comp.type == 3:
        allowed = {o.get("value") for o in comp.options}
        bad = [v for v in values if v not in allowed]
        if bad:
            raise SandboxError(f"select {name!r} has no option(s) {bad}; has {allowed}")
        keys = list(values)
    else:
        offers = _SELECT_OFFERS[comp.type]
        bad = [v for v in values if not isinstance(v, offers)]
        if bad:
            kinds = "/".join(t.__name__ for t in offers)
            raise SandboxError(f"select {name!r} offers {kinds} only, not {bad}")
        types = raw.get("channel_types")
        wrong = [v for v in values if types and isinstance(v, Channel) and v.type not in types]
        if wrong:
            raise SandboxError(f"select {name!r} offers channel types {types} only; "
                               f"#{wrong[0].name} is type {wrong[0].type}")
        keys = [v.user.id if isinstance(v, Member) else v.id for v in values]
    if len(set(keys)) != len(keys):
        raise SandboxError(f"select {name!r}: a value can be picked once")


class _ErrorLog(logging.Handler):
    """Collects logged errors with tracebacks (discord.py logs, and does not raise, failures)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.entries: list[tuple[float, BaseException | None, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.entries.append((time.monotonic(), exc, text))


class DiscordSandbox:
    """A local Discord: world model, REST + gateway server, and helpers that act as users."""

    def __init__(
        self,
        *,
        bot_name: str = "GEMS",
        token: str = "sandbox.bot.token",
        strict: bool = True,
        strict_deadline: bool = True,
        interaction_timeout: float = 10.0,
        contract_required: bool = True,
        ids_from: datetime | None = None,
    ) -> None:
        """Create (not start) a sandbox.

        ``strict``: on a clean exit, raise if the bot made requests the sandbox does not model.
        ``strict_deadline``: answer Discord's 404 to callbacks later than 3 s (always recorded).
        ``interaction_timeout``: default seconds to wait for the bot to finish an interaction.
        ``contract_required``: validate every request body against Discord's OpenAPI spec
        (:mod:`discord_sandbox.contract`), building the schemas if needed; raise when that is
        impossible. False (the offline demo) validates only when the schemas are built.
        ``ids_from``: snowflakes start at this time instead of the wall clock, so a scripted run
        gets the same ids (guild, channels, messages) every time.
        """
        self.token = token
        self.strict = strict
        self.interaction_timeout = interaction_timeout
        ids = Snowflakes(ids_from)
        bot_user = User(ids.next(), bot_name, bot=True)
        self.world = World(bot_user=bot_user, base_url=lambda: self.base_url, ids=ids)
        self.contract = shared_contract(required=contract_required)
        self.server = DiscordServer(
            self.world, token=token, application_id=bot_user.id, strict_deadline=strict_deadline,
            contract=self.contract,
        )
        self.client: discord.Client | None = None
        self.tree: app_commands.CommandTree[Any] | None = None
        self.connect_time: float | None = None
        self._client_task: asyncio.Task[None] | None = None
        self._bot_tasks: set[asyncio.Task[Any]] = set()
        self._errors = _ErrorLog()
        self._tree_errors: dict[int, list[BaseException]] = {}
        self._patches: list[tuple[Any, str, Any]] = []
        self._started = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> DiscordSandbox:
        await self.start()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.close()
        if self.strict and exc_type is None:
            self.assert_no_unhandled()

    async def start(self) -> None:
        """Start the server and point discord.py at it."""
        await self.server.start()
        self._patch(discord.http.Route, "BASE", self.base_url + "/api/v10")
        self._patch(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.server.gateway_url)
        )
        # Avatars and other assets would point at Discord's CDN; keep every URL local.
        self._patch(discord.asset.Asset, "BASE", self.base_url + "/cdn")
        logging.getLogger().addHandler(self._errors)
        self._started = True

    async def close(self) -> None:
        """Close the client (if connected), stop the server and undo the patches."""
        if self.client is not None and not self.client.is_closed():
            await self.client.close()
        if self._client_task is not None:
            # The client's own shutdown errors are not the test's concern here.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._client_task, 5)
            self._client_task = None
        await self.server.stop()
        for owner, name, old in reversed(self._patches):
            setattr(owner, name, old)
        self._patches.clear()
        logging.getLogger().removeHandler(self._errors)
        self._started = False

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._patches.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the emulator."""
        return self.server.base_url

    @property
    def clock(self) -> Callable[[], float]:
        """Seconds clock for interaction deadlines and token expiry (default: monotonic).

        Replace it to simulate time passing: a callback later than 3 s on this clock is a
        deadline violation, followups later than 15 min hit an expired token.
        """
        return self.server.clock

    @clock.setter
    def clock(self, value: Callable[[], float]) -> None:
        self.server.clock = value

    @property
    def bot_user(self) -> User:
        """The bot's user."""
        return self.world.bot_user

    @property
    def oauth2(self) -> OAuth2:
        """Discord's OAuth2 (log in with Discord): register redirect URIs, read the secret."""
        return self.server.oauth2

    @property
    def application_id(self) -> int:
        """The application id (equal to the bot user id, as for modern Discord apps)."""
        return self.server.application_id

    async def connect(
        self,
        client: discord.Client,
        *,
        tree: app_commands.CommandTree[Any] | None = None,
        timeout: float = 10.0,
        fast_ready: bool = True,
    ) -> float:
        """Log ``client`` in, connect it, and wait until ready. Returns the seconds it took.

        ``tree`` defaults to ``client.tree`` (commands.Bot). ``fast_ready`` shortens discord.py's
        ``guild_ready_timeout`` (2 s by default: READY waits that long after the last
        GUILD_CREATE): to ``FAST_READY_SECONDS`` while guilds the READY listed are still to come,
        and to ~zero once the last of them was parsed, since here every GUILD_CREATE follows
        READY at once. It also skips the 5 s pause the default ``before_identify_hook`` makes
        between shards (unless the client overrides that hook).
        """
        if not self._started:
            raise SandboxError("start the sandbox first (async with DiscordSandbox() as sb)")
        if self.client is not None:
            raise SandboxError("a client is already connected to this sandbox")
        self.client = client
        self.tree = tree or getattr(client, "tree", None)
        state = client._connection
        if fast_ready:
            state.guild_ready_timeout = min(state.guild_ready_timeout, FAST_READY_SECONDS)
            if type(client).before_identify_hook is discord.Client.before_identify_hook:
                client.before_identify_hook = _identify_now  # type: ignore[method-assign]
        self._track_parsers(client, ready_wait=state.guild_ready_timeout if fast_ready else None)
        start = time.perf_counter()
        await client.login(self.token)
        if self.tree is not None:
            self._record_tree_errors(self.tree)
        self._client_task = asyncio.create_task(
            client.connect(reconnect=True), name="sandbox-client"
        )
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._client_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._client_task in done:
                self._client_task.result()  # re-raise the connection error
                raise SandboxError("client.connect() returned before the client was ready")
            raise SandboxError(f"client not ready after {timeout}s")
        self.connect_time = time.perf_counter() - start
        await self.settle()
        return self.connect_time

    async def disconnect(self) -> None:
        """Close the connected client (a bot shutting down) so another one may connect.

        The world (guilds, members, messages) stays as it is: connecting a new client afterwards
        is a bot restart.
        """
        if self.client is None:
            return
        if not self.client.is_closed():
            await self.client.close()
        if self._client_task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._client_task, 5)
            self._client_task = None
        self.client = None
        self.tree = None

    # -- tracking what the client does ---------------------------------------------------------

    def _track_parsers(self, client: discord.Client, *, ready_wait: float | None) -> None:
        """Wrap the client's gateway event parsers to learn which tasks each event spawned.

        discord.py handles an event by parsing it synchronously and scheduling tasks (command
        invocations, view callbacks, listeners). Knowing those tasks lets the sandbox wait until
        the bot is really done instead of sleeping.

        ``ready_wait``: when set, the client's ``guild_ready_timeout`` is that while guilds a
        READY listed are still to come, and ~zero once every one was parsed (discord.py reads it
        again after each guild, so READY follows the last GUILD_CREATE at once).
        """
        state = client._connection
        parsers: dict[str, Any] = state.parsers
        pending: dict[int, set[int]] = {}  # shard -> ids of the guilds its READY listed, not yet here

        def count_guilds(name: str, data: Any) -> None:
            if name == "READY":
                pending[(data.get("shard") or [0])[0]] = {int(g["id"]) for g in data["guilds"]}
            elif name == "GUILD_CREATE":
                for ids in pending.values():
                    ids.discard(int(data["id"]))
            else:
                return
            state.guild_ready_timeout = ready_wait if any(pending.values()) else _ALL_GUILDS_HERE

        def track(name: str, parse: Any) -> Any:
            def parse_and_track(data: Any) -> None:
                spawned: list[asyncio.Task[Any]] = []
                try:
                    collect_tasks(spawned, parse, data)
                    if ready_wait is not None:
                        count_guilds(name, data)
                finally:
                    for task in spawned:
                        self._bot_tasks.add(task)
                        task.add_done_callback(self._bot_tasks.discard)
                    if name == "INTERACTION_CREATE":
                        rec = self.server.interactions.get(int(data["id"]))
                        if rec is not None:
                            rec.tasks.extend(spawned)
                            rec.received.set()

            return parse_and_track

        for name, parse in list(parsers.items()):
            parsers[name] = track(name, parse)

    def _record_tree_errors(self, tree: app_commands.CommandTree[Any]) -> None:
        """Chain a recorder in front of the tree's error handler (the bot's handler still runs)."""
        original = tree.on_error
        if getattr(original, "__sandbox_recorder__", False):
            return

        async def on_error(
            interaction: discord.Interaction[Any], error: app_commands.AppCommandError
        ) -> None:
            self._tree_errors.setdefault(interaction.id, []).append(error)
            await original(interaction, error)

        on_error.__sandbox_recorder__ = True  # type: ignore[attr-defined]
        tree.on_error = on_error  # type: ignore[method-assign]

    def _client_sequences(self) -> dict[str, int]:
        """Last sequence number the client processed, per gateway session id."""
        client = self.client
        if client is None:
            return {}
        shards = getattr(client, "_AutoShardedClient__shards", None)
        sockets = [s.ws for s in shards.values()] if shards else [client.ws]
        return {
            ws.session_id: ws.sequence or 0 for ws in sockets if ws is not None and ws.session_id
        }

    def _lagging(self) -> bool:
        """True while the client has not processed every dispatch sent to its sessions."""
        seen = self._client_sequences()
        newest: dict[int, Any] = {}
        for session in self.server.gateway.sessions.values():
            newest[session.shard_id] = session  # insertion order: the last one is the newest
        return any(seen.get(s.session_id, 0) < s.seq for s in newest.values())

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the client processed all dispatches and the tasks they spawned finished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        idle_checks = 0
        while True:
            busy = [t for t in self._bot_tasks if not t.done()]
            lagging = self._lagging()
            if not busy and not lagging:
                idle_checks += 1
                if idle_checks >= 2:  # one more loop turn, for callbacks scheduled just now
                    return
                await asyncio.sleep(0)
                continue
            idle_checks = 0
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = [t.get_name() for t in busy]
                raise SandboxError(
                    f"bot still busy after {timeout}s (tasks {names}, "
                    f"lagging gateway: {lagging})\n{self._recent_errors(0)}"
                )
            if busy and not lagging:
                await asyncio.wait(busy, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(0.001)

    def _recent_errors(self, since: float) -> str:
        return "\n".join(text for t, _, text in self._errors.entries if t >= since)

    # -- world building ------------------------------------------------------------------------

    def create_user(self, name: str, *, bot: bool = False,
                    created_at: datetime | None = None) -> User:
        """A user that is in no guild yet (``created_at``: when the account was made)."""
        return self.world.create_user(name, bot=bot, created_at=created_at)

    def create_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | None = None,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int | None = None,
    ) -> Guild:
        """A guild with @everyone, #general, an owner and the bot (managed role at position 1).

        After :meth:`connect`, the bot "joins": GUILD_CREATE goes to the guild's shard.
        """
        owner = owner or self.create_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = self.world.create_guild(name, owner=owner, bot_permissions=bot_permissions)
        if everyone_permissions is not None:
            guild.everyone.permissions = everyone_permissions
        # A join carries no `unavailable` key (Discord sends `unavailable: false` only for guilds
        # of the session that become available): discord.py tells on_guild_join by that.
        payload = guild.payload(self.bot_user.id)
        payload.pop("unavailable", None)
        self.world.emit("GUILD_CREATE", payload, guild.id)
        return guild

    def create_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int | discord.Permissions = 0,
        above_bot: bool = False,
        position: int | None = None,
        managed: bool = False,
        color: int = 0,
    ) -> Role:
        """A role; by default just above @everyone (below the bot's role, so it can assign it).

        ``above_bot=True`` places it above the bot's highest role (the bot gets 403 for it).
        """
        if above_bot:
            me = guild.members[self.bot_user.id]
            position = guild.top_position(me) + 1
        perms = permissions.value if isinstance(permissions, discord.Permissions) else permissions
        return self.world.create_role(
            guild, name, permissions=perms, position=position, managed=managed, color=color
        )

    def add_member(
        self,
        guild: Guild,
        user: User | str,
        *,
        roles: Iterable[Role | int] = (),
        permissions: int | discord.Permissions | None = None,
        nick: str | None = None,
        bot: bool = False,
        created_at: datetime | None = None,
        joined_at: datetime | None = None,
    ) -> Member:
        """Join a user (created from a name if needed) to ``guild``; dispatches GUILD_MEMBER_ADD.

        ``permissions`` creates a personal role carrying them (``ADMINISTRATOR`` for an admin).
        ``created_at`` (a new user's account) and ``joined_at`` default to long ago.
        """
        if isinstance(user, str):
            user = self.create_user(user, bot=bot, created_at=created_at)
        role_ids = [r.id if isinstance(r, Role) else int(r) for r in roles]
        if permissions is not None:
            role_ids.append(
                self.create_role(guild, f"{user.name} permissions", permissions=permissions).id
            )
        return self.world.add_member(guild, user, role_ids, nick, joined_at)

    def set_avatar(self, user: User | Member, image: bytes, *, animated: bool = False) -> str:
        """The user uploads an avatar (PNG/JPEG/WebP bytes; GIF with ``animated``): returns its
        hash; the CDN serves it at ``avatars/{id}/{hash}.png`` and the bot's cache learns it
        from GUILD_MEMBER_UPDATE."""
        return self.world.set_avatar(user.id, image, animated=animated)

    def remove_member(self, guild: Guild, user: User | Member) -> None:
        """The user leaves ``guild``; dispatches GUILD_MEMBER_REMOVE."""
        self.world.remove_member(guild, user.id)

    def member(self, guild: Guild, user: User | Member) -> Member:
        """The current member record (``.roles`` reflects every change)."""
        return self.world.member(guild, user.id)

    def give_role(self, member: Member, role: Role) -> None:
        """An admin (not the bot) gives a role: no hierarchy check; dispatches the update."""
        self.world.change_role(
            self.world.guild(member.guild_id), member.id, role.id, add=True, by_bot=False
        )

    def set_interested(self, member: Member, event_id: int, interested: bool = True) -> None:
        """A member presses (or un-presses) "Interested" on a guild scheduled event."""
        set_interested(self.world, self.world.guild(member.guild_id), event_id, member, interested)

    def scheduled_events(self, guild: Guild) -> list[dict[str, Any]]:
        """The guild's scheduled events as Discord returns them."""
        return [e.payload() for e in guild.scheduled_events.values()]

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = ChannelType.TEXT,
        category: Channel | None = None,
        overwrites: Sequence[Overwrite] = (),
        topic: str | None = None,
    ) -> Channel:
        """A text channel (or ``type=ChannelType.CATEGORY``...); dispatches CHANNEL_CREATE."""
        return self.world.create_channel(
            guild,
            name,
            type=type,
            parent_id=category.id if category else None,
            overwrites=list(overwrites),
            topic=topic,
        )

    def create_thread(
        self,
        channel: Channel,
        name: str,
        *,
        owner: Member | User | None = None,
        private: bool = True,
    ) -> Channel:
        """A thread started by a user (or the bot); dispatches THREAD_CREATE."""
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        owner_id = owner.id if owner is not None else self.bot_user.id
        return self.world.create_thread(channel, name, type=kind, owner_id=owner_id)

    def close_dms(self, user: User | Member, closed: bool = True) -> None:
        """Make DMs to this user fail like Discord does (403, code 50007)."""
        (user.user if isinstance(user, Member) else user).dms_closed = closed

    def attachment(self, filename: str, data: bytes, content_type: str | None = None) -> Attachment:
        """A file a user offers (slash ``attachment`` option), served from the emulator's CDN."""
        return self.world.store_attachment(0, filename, data, content_type)

    # -- observing -----------------------------------------------------------------------------

    def channel_messages(self, channel: Channel) -> list[Message]:
        """Live messages of a channel or thread, oldest first (ephemeral ones included)."""
        return self.world.live_messages(channel.id)

    def pinned(self, channel: Channel) -> list[Message]:
        """Pinned messages of a channel or thread, oldest first."""
        return self.world.pinned_messages(channel.id)

    def dms(self, user: User | Member) -> list[Message]:
        """Messages in the DM channel between the bot and this user, oldest first."""
        u = user.user if isinstance(user, Member) else user
        chan = self.world.dm_channels.get(u.id)
        return self.world.live_messages(chan.id) if chan else []

    @property
    def role_events(self) -> list[RoleEvent]:
        """Every role change applied, in order."""
        return self.world.role_events

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request the bot made."""
        return self.server.log.requests

    @property
    def unhandled_requests(self) -> list[RequestRecord]:
        """Requests no route models (each got a 404)."""
        return self.server.log.unhandled

    @property
    def rate_limited(self) -> list[RequestRecord]:
        """Requests answered with a 429."""
        return self.server.log.rate_limited

    @property
    def deadline_violations(self) -> list[Any]:
        """Interactions first answered later than 3 s after dispatch."""
        return self.server.log.deadline_violations

    @property
    def synced_commands(self) -> dict[int | None, list[dict[str, Any]]]:
        """Commands the bot synced, by guild id (None = global)."""
        return self.server.commands

    def assert_no_unhandled(self) -> None:
        """Raise if the bot called any endpoint the sandbox does not model."""
        if self.unhandled_requests:
            calls = ", ".join(f"{r.method} {r.path}" for r in self.unhandled_requests)
            raise SandboxError(f"bot made unmodelled Discord requests: {calls}")

    # -- gateway control -----------------------------------------------------------------------

    def rate_limit(
        self, route: str, *, times: int = 1, retry_after: float = 0.05, is_global: bool = False
    ) -> RateLimitRule:
        """Answer the next ``times`` matching requests with 429.

        ``route`` is ``"METHOD /path/{placeholder}/..."`` relative to ``/api/v10``, e.g.
        ``"PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"``.
        """
        method, pattern = compile_route(route)
        rule = RateLimitRule(method, pattern, route, times, retry_after, is_global)
        self.server.rate_limits.append(rule)
        return rule

    async def force_reconnect(self, *, wait: bool = True, timeout: float = 10.0) -> None:
        """Send op 7 (RECONNECT) to every session; the client RESUMEs.

        Dispatches made before the client is back are replayed on RESUME. With ``wait`` this
        returns once every session resumed and the client caught up.
        """
        sessions = await self.server.gateway.reconnect_all()
        if not wait:
            return
        before = {s.session_id: s.resumes for s in sessions}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(s.resumes <= before[s.session_id] for s in sessions):
            if loop.time() > deadline:
                raise SandboxError(f"client did not RESUME within {timeout}s")
            await asyncio.sleep(0.005)
        await self.settle()

    async def wait_resumed(self, timeout: float = 10.0) -> None:
        """Wait until every session is connected again (after ``force_reconnect(wait=False)``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(s.ws is None for s in self.server.gateway.sessions.values()):
            if loop.time() > deadline:
                raise SandboxError(f"client did not reconnect within {timeout}s")
            await asyncio.sleep(0.005)
        await self.settle()

    # -- acting as users -----------------------------------------------------------------------

    async def say(
        self,
        member: Member | User,
        channel: Channel | None,
        content: str,
        *,
        files: Sequence[tuple[str, bytes]] = (),
        wait: bool = True,
    ) -> Message:
        """A user posts a message (MESSAGE_CREATE). ``channel=None`` means their DM with the bot.

        With ``wait`` this returns after the bot handled the event (its listeners finished).
        """
        user = member.user if isinstance(member, Member) else member
        chan = channel or self.world.open_dm(user)
        atts = [self.world.store_attachment(chan.id, name, data) for name, data in files]
        msg = self.world.post_message(chan, user, content=content, attachments=atts)
        if wait:
            await self.settle()
        return msg

    async def react(
        self, member: Member, message: Message, emoji: str = "💎", *, wait: bool = True
    ) -> bool:
        """A member adds a reaction to a message (MESSAGE_REACTION_ADD with their member object).

        Like Discord, reacting twice with the same emoji changes nothing and dispatches nothing;
        returns whether the reaction was new.
        """
        users = message.reactions.setdefault(emoji, set())
        if member.user.id in users:
            return False
        users.add(member.user.id)
        name, _, emoji_id = emoji.partition(":")
        data: dict[str, Any] = {
            "user_id": str(member.user.id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "message_author_id": str(message.author.id),
            "emoji": {"name": name, "id": emoji_id or None},
            "burst": False,
            "type": 0,
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
            data["member"] = member.payload()
        self.world.emit("MESSAGE_REACTION_ADD", data, message.guild_id)
        if wait:
            await self.settle()
        return True

    async def slash(
        self,
        actor: Member | User,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        in_channel: Channel | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> InteractionResult:
        """Run a slash command as ``actor`` and wait until the bot finished handling it.

        ``name`` is the qualified name (``"gems give"``). Options are keyword arguments (or the
        ``options`` dict, for names like ``timeout``) by parameter name or display name, with
        sandbox objects for users/members, roles, channels and attachments. The command runs in
        ``in_channel`` (default: the guild's first text channel); ``actor`` as a :class:`User`
        (not a member) invokes it from DMs.
        """
        options = {**(options or {}), **kwargs}
        tree = self._require_tree()
        guild, chan = self._where(actor, in_channel)
        chain = find_command(tree, name, guild.id if guild else None)
        ctx = self._option_context(guild, chan, actor)
        leaf = chain[-1]
        assert isinstance(leaf, app_commands.Command)
        data: dict[str, Any] = {
            "id": str(self.server.command_id(chain[0].name, guild.id if guild else None)),
            "name": chain[0].name,
            "type": 1,
            "options": nest_options(chain, build_options(leaf, options, ctx)),
        }
        if ctx.resolved:
            data["resolved"] = ctx.resolved
        if (
            guild is not None
            and tree.get_command(chain[0].name, guild=discord.Object(guild.id)) is chain[0]
        ):
            data["guild_id"] = str(guild.id)
        rec = self._send_interaction(APPLICATION_COMMAND, actor, chan, data)
        return await self._finish(rec, timeout)

    async def voice(
        self,
        member: Member,
        channel: Channel | None,
        *,
        self_deaf: bool = False,
        self_mute: bool = False,
        wait: bool = True,
    ) -> None:
        """A member joins (or moves to) a voice channel, or leaves voice with ``channel=None``.

        Dispatches VOICE_STATE_UPDATE like Discord; the state is also part of GUILD_CREATE, so
        a reconnecting bot sees who is already in voice.
        """
        guild = self.world.guild(member.guild_id)
        if channel is not None:
            if channel.guild_id != guild.id or channel.type not in (ChannelType.VOICE, 13):
                raise SandboxError(f"#{channel.name} is not a voice channel of {guild.name}")
            perms = guild.channel_permissions(member, channel)
            if not perms & (1 << 20):  # CONNECT
                raise SandboxError(f"{member.user.name} may not connect to #{channel.name}")
        state: dict[str, Any] = {
            "guild_id": str(guild.id),
            "channel_id": str(channel.id) if channel else None,
            "user_id": str(member.user.id),
            "member": member.payload(),
            "session_id": f"voice-{member.user.id}",
            "deaf": False,
            "mute": False,
            "self_deaf": self_deaf,
            "self_mute": self_mute,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        if channel is None:
            guild.voice_states.pop(member.user.id, None)
        else:
            guild.voice_states[member.user.id] = state
        self.world.emit("VOICE_STATE_UPDATE", state, guild.id)
        if wait:
            await self.settle()

    async def user_command(
        self,
        actor: Member,
        name: str,
        target: Member | User,
        *,
        in_channel: Channel | None = None,
        timeout: float | None = None,
    ) -> InteractionResult:
        """Run a USER context-menu command (right-click a member > Apps > ``name``) on ``target``.

        Sends an APPLICATION_COMMAND interaction with ``data.type`` 2, ``target_id`` and the
        target in ``resolved``, as Discord does.
        """
        tree = self._require_tree()
        guild, chan = self._where(actor, in_channel)
        user_type = discord.AppCommandType.user
        command = None
        if guild is not None:
            command = tree.get_command(name, guild=discord.Object(guild.id), type=user_type)
        scoped = command is not None
        command = command or tree.get_command(name, type=user_type)
        if command is None:
            known = sorted(c.name for c in tree.get_commands(type=user_type))
            raise SandboxError(f"no user command {name!r}; the tree has {known}")
        ctx = self._option_context(guild, chan, actor)
        target_id = _resolve_user(target, ctx)
        data: dict[str, Any] = {
            "id": str(self._context_command_id(name, guild.id if guild else None, 2)),
            "name": name,
            "type": 2,
            "target_id": str(target_id),
            "resolved": ctx.resolved,
        }
        if scoped and guild is not None:
            data["guild_id"] = str(guild.id)
        rec = self._send_interaction(APPLICATION_COMMAND, actor, chan, data)
        return await self._finish(rec, timeout)

    def _context_command_id(self, name: str, guild_id: int | None, kind: int) -> int:
        for scope in (guild_id, None):
            for cmd in self.server.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == kind:
                    return int(cmd["id"])
        return 2000 + kind + sum(map(ord, name))

    async def autocomplete(
        self,
        actor: Member | User,
        name: str,
        option: str,
        current: str = "",
        options: dict[str, Any] | None = None,
        *,
        in_channel: Channel | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type ``current`` into ``option`` of a command; returns the offered choices.

        Other options already filled in go in ``options``/keyword arguments, as for :meth:`slash`.
        """
        options = {**(options or {}), **kwargs}
        tree = self._require_tree()
        guild, chan = self._where(actor, in_channel)
        chain = find_command(tree, name, guild.id if guild else None)
        ctx = self._option_context(guild, chan, actor)
        leaf = chain[-1]
        assert isinstance(leaf, app_commands.Command)
        values = dict(options, **{option: current})
        data: dict[str, Any] = {
            "id": str(self.server.command_id(chain[0].name, guild.id if guild else None)),
            "name": chain[0].name,
            "type": 1,
            "options": nest_options(chain, build_options(leaf, values, ctx, focused=option)),
        }
        if (
            guild is not None
            and tree.get_command(chain[0].name, guild=discord.Object(guild.id)) is chain[0]
        ):
            data["guild_id"] = str(guild.id)
        rec = self._send_interaction(AUTOCOMPLETE, actor, chan, data)
        result = await self._finish(rec, timeout)
        return result.choices

    async def click(
        self,
        actor: Member | User,
        target: InteractionResult | Message,
        button: str,
        *,
        timeout: float | None = None,
    ) -> InteractionResult:
        """Click a button (by label or custom_id) on a message or an interaction's messages."""
        msg, comp = self._find_component(target, button, types=(2,))
        if comp.custom_id is None:
            raise SandboxError(f"button {button!r} is a link button ({comp.url})")
        return await self._component(actor, msg, comp, [], timeout)

    async def select(
        self,
        actor: Member | User,
        target: InteractionResult | Message,
        select: str,
        values: Sequence[Any],
        *,
        timeout: float | None = None,
    ) -> InteractionResult:
        """Pick ``values`` in a select menu (by custom_id or placeholder).

        String selects take option values; user/role/channel selects take sandbox objects.
        """
        msg, comp = self._find_component(target, select, types=(3, 5, 6, 7, 8))
        _check_picks(select, comp, values)
        return await self._component(actor, msg, comp, list(values), timeout)

    async def submit_modal(
        self,
        actor: Member | User,
        opened: InteractionResult,
        values: dict[str, Any],
        *,
        timeout: float | None = None,
    ) -> InteractionResult:
        """Submit the modal ``opened`` showed; ``values`` by field custom_id or label."""
        modal = opened.modal
        if modal is None:
            raise SandboxError(
                f"interaction {opened.id} did not open a modal "
                f"(response type {opened.response_type})"
            )
        source = opened.record.source_message_id
        msg = self.world.find_message(source) if source else None
        chan = self.world.channel(opened.record.channel_id)
        resolved: dict[str, Any] = {}
        data: dict[str, Any] = {
            "custom_id": modal["custom_id"],
            "components": modal_submit_components(modal, values, resolved),
        }
        if resolved:
            data["resolved"] = resolved
        rec = self._send_interaction(MODAL_SUBMIT, actor, chan, data, message=msg)
        return await self._finish(rec, timeout)

    # -- interaction plumbing ------------------------------------------------------------------

    def _require_tree(self) -> app_commands.CommandTree[Any]:
        if self.client is None:
            raise SandboxError("connect a client first: await sb.connect(bot)")
        if self.tree is None:
            raise SandboxError("the client has no command tree; pass connect(client, tree=...)")
        return self.tree

    def _where(self, actor: Member | User, channel: Channel | None) -> tuple[Guild | None, Channel]:
        if isinstance(actor, Member):
            guild = self.world.guild(actor.guild_id)
            if channel is None:
                channel = guild.text_channels()[0]
            elif channel.guild_id != guild.id:
                raise SandboxError(f"#{channel.name} is not in {guild.name}")
            return guild, channel
        return None, channel or self.world.open_dm(actor)

    def _option_context(
        self, guild: Guild | None, chan: Channel, actor: Member | User
    ) -> OptionContext:
        def perms(member: Member) -> int:
            return guild.channel_permissions(member, chan) if guild else 0

        def invoker_in(channel: Channel) -> int:
            # A resolved channel carries the invoking user's permissions in THAT channel.
            if guild is None or not isinstance(actor, Member) or channel.guild_id != guild.id:
                return 0
            return guild.channel_permissions(actor, channel)

        return OptionContext(self.world, guild.id if guild else None, perms, invoker_in=invoker_in)

    def _find_component(
        self, target: InteractionResult | Message, key: str, types: tuple[int, ...]
    ) -> tuple[Message, Component]:
        messages = target.messages if isinstance(target, InteractionResult) else [target]
        seen: list[str] = []
        for msg in messages:
            live = self.world.find_message(msg.id) if not msg.deleted else msg
            for comp in live.components:
                if comp.type not in types:
                    continue
                seen.append(str(comp.label or comp.placeholder or comp.custom_id))
                if key in (comp.custom_id, comp.label, comp.placeholder):
                    if comp.disabled:
                        raise SandboxError(f"component {key!r} is disabled")
                    return live, comp
        raise SandboxError(f"no component {key!r} on the message(s); found {seen}")

    async def _component(
        self,
        actor: Member | User,
        msg: Message,
        comp: Component,
        values: list[Any],
        timeout: float | None,
    ) -> InteractionResult:
        chan = self.world.channel(msg.channel_id)
        data: dict[str, Any] = {"custom_id": comp.custom_id, "component_type": comp.type}
        if comp.type != 2:
            guild = self.world.guilds.get(chan.guild_id) if chan.guild_id else None
            ctx = self._option_context(guild, chan, actor)
            kind = _SELECT_VALUE_TYPES.get(comp.type)
            data["values"] = [
                str(v) if kind is None else _option_value(kind, v, ctx) for v in values
            ]
            if ctx.resolved:
                data["resolved"] = ctx.resolved
        rec = self._send_interaction(MESSAGE_COMPONENT, actor, chan, data, message=msg)
        return await self._finish(rec, timeout)

    def _send_interaction(
        self,
        kind: int,
        actor: Member | User,
        chan: Channel,
        data: dict[str, Any],
        *,
        message: Message | None = None,
    ) -> InteractionRecord:
        user = actor.user if isinstance(actor, Member) else actor
        guild = self.world.guilds.get(chan.guild_id) if chan.guild_id else None
        iid = self.world.ids.next()
        token = new_token()
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(chan.id),
            "channel": chan.payload(),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild is not None:
            member = self.world.member(guild, user.id)
            me = self.world.member(guild, self.bot_user.id)
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                member=dict(
                    member.payload(), permissions=str(guild.channel_permissions(member, chan))
                ),
                app_permissions=str(guild.channel_permissions(me, chan)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                authorizing_integration_owners={"1": str(user.id)},
                context=1,
                app_permissions="0",
            )
        if message is not None:
            payload["message"] = message.payload()
        rec = InteractionRecord(
            id=iid,
            token=token,
            type=kind,
            user=user,
            guild_id=guild.id if guild else None,
            channel_id=chan.id,
            payload=payload,
            dispatched_at=self.server.clock(),
            source_message_id=message.id if message else None,
        )
        self.server.interactions[iid] = rec
        self.server.by_token[token] = rec
        self.world.emit("INTERACTION_CREATE", payload, rec.guild_id)
        return rec

    async def _finish(self, rec: InteractionRecord, timeout: float | None) -> InteractionResult:
        """Wait for the bot to receive the interaction and for every task it spawned to end."""
        timeout = self.interaction_timeout if timeout is None else timeout
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        what = _describe(rec)
        try:
            await asyncio.wait_for(rec.received.wait(), timeout)
        except TimeoutError:
            raise InteractionTimeout(
                f"{what}: the bot never received the interaction (is it connected?)"
            ) from None
        if rec.tasks:
            _, pending = await asyncio.wait(rec.tasks, timeout=max(0.0, deadline - loop.time()))
            if pending:
                self._collect_errors(rec, started)
                raise InteractionTimeout(
                    f"{what}: bot still handling it after {timeout}s "
                    f"(answered: {rec.response_type is not None})" + _errors_text(rec)
                )
        await asyncio.sleep(0)  # let just-finished error handlers log
        self._collect_errors(rec, started)
        if rec.response_type is None:
            raise InteractionNotAnswered(f"{what}: the bot never responded" + _errors_text(rec))
        return InteractionResult(rec, self.world)

    def _collect_errors(self, rec: InteractionRecord, since: float) -> None:
        seen: set[int] = set()
        texts: list[str] = []
        for exc in self._tree_errors.get(rec.id, []):
            seen.add(id(exc))
            original = getattr(exc, "original", None)
            seen.add(id(original))
            texts.append("".join(traceback.format_exception(original or exc)))
        for t, exc, text in self._errors.entries:
            if t >= since and (exc is None or id(exc) not in seen):
                seen.add(id(exc))
                texts.append(text)
        rec.errors[:] = texts


async def _identify_now(shard_id: int | None, *, initial: bool = False) -> None:
    """``before_identify_hook`` without the 5 s pause (no identify rate limit here)."""


def _describe(rec: InteractionRecord) -> str:
    data = rec.payload.get("data") or {}
    label = data.get("name") or data.get("custom_id") or "?"
    kinds = {2: "slash /", 3: "component ", 4: "autocomplete /", 5: "modal "}
    return f"{kinds.get(rec.type, '')}{label} (interaction {rec.id})"


def _errors_text(rec: InteractionRecord) -> str:
    if not rec.errors:
        return " (no errors were logged)"
    return "; errors:\n" + "\n".join(rec.errors)


__all__ = [
    "DiscordError",
    "DiscordSandbox",
    "InteractionNotAnswered",
    "InteractionResult",
    "InteractionTimeout",
    "SandboxError",
]
