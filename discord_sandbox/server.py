"""The emulator's HTTP side: Discord's REST API under ``/api/v10``, the CDN and the gateway URL.

Answers follow Discord's shapes closely enough for discord.py 2.7: JSON bodies are bytes with a
``Content-Type`` of exactly ``application/json`` (discord.py ignores anything else), errors are
``{"message", "code"}``, and 429s carry the headers discord.py needs to retry transparently.
Anything not modelled lands in the catch-all, is recorded, and gets a 404.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .cdn import serve_avatar
from .contract import Contract
from .gateway import Gateway, GatewaySession
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    LOADING,
    MODAL,
    UPDATE_MESSAGE,
    DeadlineViolation,
    InteractionRecord,
)
from .limits import check_commands, check_member_edit, check_message, check_modal
from .oauth2 import OAuth2
from .scheduled_events import check_event
from .state import (
    MANAGE_ROLES,
    Attachment,
    Channel,
    ChannelType,
    Message,
    Overwrite,
    ScheduledEvent,
    iso,
)
from .world import DiscordError, World, enforce_limits, missing_permissions

API = "/api/v10"
GATEWAY_PATH = "/gateway-ws"
#: Discord's deadline for the first interaction response, in seconds.
INTERACTION_DEADLINE = 3.0
#: Interaction tokens stay valid for followups this long.
INTERACTION_TOKEN_TTL = 15 * 60

#: A valid 1x1 transparent PNG, served for avatars and icons.
_PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON as bytes with the exact Content-Type discord.py checks for (no charset)."""
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def no_content() -> web.Response:
    """204, as Discord answers role changes, reactions and deletes."""
    return web.Response(status=204)


@dataclass
class RequestRecord:
    """One REST request the bot made (path relative to ``/api/v10``)."""

    method: str
    path: str
    status: int
    body: Any = None


@dataclass
class RateLimitRule:
    """Answer 429 to the next ``remaining`` requests matching ``method`` + path pattern."""

    method: str
    pattern: re.Pattern[str]
    route: str
    remaining: int
    retry_after: float
    is_global: bool
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to this request."""
        return self.remaining > 0 and method == self.method and bool(self.pattern.match(path))


def compile_route(route: str) -> tuple[str, re.Pattern[str]]:
    """``"PUT /guilds/{guild_id}/members/{user_id}"`` -> method and a path regex."""
    method, _, path = route.strip().partition(" ")
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return method.upper(), re.compile(f"^{regex}$")


@dataclass
class ServerLog:
    """What the server recorded, for assertions."""

    requests: list[RequestRecord] = field(default_factory=list)
    unhandled: list[RequestRecord] = field(default_factory=list)
    rate_limited: list[RequestRecord] = field(default_factory=list)
    deadline_violations: list[DeadlineViolation] = field(default_factory=list)


class DiscordServer:
    """REST + CDN + gateway endpoints over a :class:`World`."""

    def __init__(
        self, world: World, *, token: str, application_id: int, strict_deadline: bool = True,
        contract: Contract | None = None,
    ) -> None:
        self.world = world
        #: Discord's request-body schemas (OpenAPI spec); None only in the offline demo.
        self.contract = contract
        self.token = token
        self.application_id = application_id
        self.strict_deadline = strict_deadline
        self.clock: Callable[[], float] = time.monotonic
        self.log = ServerLog()
        self.rate_limits: list[RateLimitRule] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.base_url = ""
        self.gateway = Gateway(
            url=lambda: self.gateway_url,
            check_token=lambda t: t.removeprefix("Bot ") == self.token,
            on_identify=self._ready_payloads,
            on_request_members=self._member_chunks,
        )
        world.emit = lambda event, data, guild_id: self.gateway.dispatch(
            event, data, guild_id=guild_id
        )
        self._runner: web.AppRunner | None = None
        #: "Log in with Discord" (the authorization code flow; discord_sandbox/oauth2.py).
        self.oauth2 = OAuth2(world, application_id, clock=lambda: self.clock())

    @property
    def gateway_url(self) -> str:
        """The websocket URL (``ws://127.0.0.1:PORT/gateway-ws``)."""
        return self.base_url.replace("http://", "ws://") + GATEWAY_PATH

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = getattr(site, "_server", None)
        port = server.sockets[0].getsockname()[1] if server and server.sockets else 0
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close sockets and stop listening."""
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- plumbing ------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API):
            return await handler(request)
        rel = path[len(API) :]
        body = await _peek_json(request)
        for rule in self.rate_limits:
            if rule.matches(request.method, rel):
                rule.remaining -= 1
                rule.hits += 1
                rec = RequestRecord(request.method, rel, 429, body)
                self.log.rate_limited.append(rec)
                self.log.requests.append(rec)
                return _rate_limited(rule)
        token_routes = rel.startswith(("/interactions/", "/webhooks/"))
        auth = request.headers.get("Authorization")
        if rel == "/oauth2/token" or (auth or "").startswith("Bearer "):
            # A user's bearer token (or the token exchange): the OAuth2 side answers.
            response = await self.oauth2.handle(request, rel)
            self.log.requests.append(RequestRecord(request.method, rel, response.status, None))
            return response
        if not token_routes and auth != f"Bot {self.token}":
            self.log.requests.append(RequestRecord(request.method, rel, 401, body))
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        try:
            await self._check_contract(request, rel)
            response = await handler(request)
        except DiscordError as exc:
            response = json_response(exc.body(), exc.status)
        self.log.requests.append(RequestRecord(request.method, rel, response.status, body))
        return response

    async def _check_contract(self, request: web.Request, rel: str) -> None:
        """Refuse a body Discord's OpenAPI spec refuses (400, 50035, Discord's ``errors`` tree).

        Runs before the handler, so nothing changes and an interaction stays unanswered, as on
        Discord. Unmodelled routes are left to the catch-all.
        """
        if self.contract is None or request.method in ("GET", "DELETE"):
            return
        if request.match_info.route.resource is None or rel.startswith("/cdn/"):
            return
        template = request.match_info.route.resource.canonical.removeprefix(API)
        if "{tail" in template:
            return
        body = await _body_of(request)
        errors = self.contract.validate(request.method, _concrete(template, rel), body)
        if errors:
            raise DiscordError(400, "Invalid Form Body", 50035, errors=errors)

    def _add_routes(self, app: web.Application) -> None:
        r = app.router
        a = API
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id}", self.get_user),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("PATCH", "/channels/{channel_id}", self.edit_channel),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("POST", "/channels/{channel_id}/messages", self.send_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.add_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.remove_reaction,
            ),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("POST", "/channels/{channel_id}/threads", self.create_thread),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.create_thread),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self.add_thread_member),
            (
                "DELETE",
                "/channels/{channel_id}/thread-members/{user_id}",
                self.remove_thread_member,
            ),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/roles", self.get_roles),
            ("POST", "/guilds/{guild_id}/roles", self.create_role),
            ("GET", "/guilds/{guild_id}/channels", self.get_channels),
            ("POST", "/guilds/{guild_id}/channels", self.create_channel),
            ("GET", "/guilds/{guild_id}/members", self.list_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("PATCH", "/guilds/{guild_id}/members/{user_id}", self.edit_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_role),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_role),
            ("GET", "/guilds/{guild_id}/scheduled-events", self.list_events),
            ("POST", "/guilds/{guild_id}/scheduled-events", self.create_event),
            ("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", self.get_event),
            ("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", self.edit_event),
            ("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", self.delete_event),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback),
            ("POST", "/webhooks/{app_id}/{token}", self.followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.webhook_get),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self.webhook_edit),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self.webhook_delete),
        ]
        # Pins (added for mentorship goal cards).
        routes += [
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self.pin_message),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self.unpin_message),
        ]
        for method, path, handler in routes:
            r.add_route(method, a + path, handler)
        r.add_get("/oauth2/authorize", self.oauth2.authorize_page)
        r.add_post("/oauth2/authorize", self.oauth2.authorize_submit)
        r.add_get(GATEWAY_PATH, self.gateway.handle)
        r.add_get("/cdn/{path:.*}", self.cdn)
        r.add_route("*", "/{tail:.*}", self.unhandled)

    async def unhandled(self, request: web.Request) -> web.Response:
        """Catch-all: record the request and answer Discord's 404."""
        rel = request.path.removeprefix(API)
        body = await _peek_json(request)
        self.log.unhandled.append(RequestRecord(request.method, rel, 404, body))
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    # -- identity and gateway ------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        """The bot user."""
        data = self.world.bot_user.payload()
        data.update(verified=True, mfa_enabled=False, flags=0, locale="en-US")
        return json_response(data)

    async def get_user(self, request: web.Request) -> web.Response:
        """Any known user."""
        return json_response(self.world.user(_int(request, "user_id")).payload())

    async def get_application(self, request: web.Request) -> web.Response:
        """The bot's application."""
        bot = self.world.bot_user
        return json_response(
            {
                "id": str(self.application_id),
                "name": bot.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "bot": bot.payload(),
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        """``GET /gateway``."""
        return json_response({"url": self.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """``GET /gateway/bot``: recommends one shard per two guilds (at least one)."""
        shards = max(1, (len(self.world.guilds) + 1) // 2)
        return json_response(
            {
                "url": self.gateway_url,
                "shards": shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    def _ready_payloads(
        self, session: GatewaySession
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        guilds = [g for g in self.world.guilds.values() if session.serves_guild(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": dict(self.world.bot_user.payload(), verified=True, mfa_enabled=False, flags=0),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "_trace": ["sandbox"],
        }
        if session.sharded:
            ready["shard"] = [session.shard_id, session.shard_count]
        bot_id = self.world.bot_user.id
        return ready, [g.payload(bot_id) for g in guilds]

    def _member_chunks(self, d: dict[str, Any]) -> list[dict[str, Any]]:
        guild = self.world.guilds.get(int(d.get("guild_id") or 0))
        if guild is None:
            return []
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        return [chunk]

    # -- channels and messages -----------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        """A channel by id."""
        return json_response(self.world.channel(_int(request, "channel_id")).payload())

    async def edit_channel(self, request: web.Request) -> web.Response:
        """Rename, lock, archive or re-permission a channel/thread."""
        chan = self.world.channel(_int(request, "channel_id"))
        body, _ = await read_body(request)
        return json_response(self.world.update_channel(chan, body or {}).payload())

    async def delete_channel(self, request: web.Request) -> web.Response:
        """Delete a channel; Discord returns the deleted channel."""
        chan = self.world.channel(_int(request, "channel_id"))
        self.world.delete_channel(chan)
        return json_response(chan.payload())

    async def list_messages(self, request: web.Request) -> web.Response:
        """Channel history, newest first (``limit`` only)."""
        chan = self.world.channel(_int(request, "channel_id"))
        limit = int(request.query.get("limit", 50))
        msgs = self.world.live_messages(chan.id)[::-1][:limit]
        return json_response([m.payload() for m in msgs])

    async def send_message(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/messages`` (JSON or multipart with files)."""
        chan = self.world.channel(_int(request, "channel_id"))
        self.world.check_can_send(chan)
        body, files = await read_body(request)
        fields = self._message_fields(body or {}, files, chan.id)
        ref = (body or {}).get("message_reference")
        if ref and ref.get("message_id"):
            fields["reference_id"] = int(ref["message_id"])
            fields["type"] = 19
        msg = self.world.post_message(chan, self.world.bot_user, **fields)
        return json_response(msg.payload())

    async def get_message(self, request: web.Request) -> web.Response:
        """One message."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        return json_response(msg.payload())

    async def edit_message(self, request: web.Request) -> web.Response:
        """Edit one of the bot's messages."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        if msg.author.id != self.world.bot_user.id:
            raise DiscordError(403, "Cannot edit a message authored by another user", 50005)
        body, files = await read_body(request)
        uploads = self._uploads(body or {}, files, msg.channel_id, msg.ephemeral)
        return json_response(self.world.edit_message(msg, body or {}, uploads).payload())

    async def delete_message(self, request: web.Request) -> web.Response:
        """Delete a message."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        self.world.delete_message(msg)
        return no_content()

    async def pin_message(self, request: web.Request) -> web.Response:
        """Pin a message (204); Discord's permission and count limits apply."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        self.world.set_pinned(msg, True)
        return no_content()

    async def unpin_message(self, request: web.Request) -> web.Response:
        """Unpin a message (204)."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        self.world.set_pinned(msg, False)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        """The bot reacts; dispatches MESSAGE_REACTION_ADD."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        emoji = request.match_info["emoji"]
        msg.reactions.setdefault(emoji, set()).add(self.world.bot_user.id)
        self._reaction_event("MESSAGE_REACTION_ADD", msg, emoji)
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        """The bot removes its reaction."""
        msg = self.world.message(_int(request, "channel_id"), _int(request, "message_id"))
        emoji = request.match_info["emoji"]
        msg.reactions.get(emoji, set()).discard(self.world.bot_user.id)
        self._reaction_event("MESSAGE_REACTION_REMOVE", msg, emoji)
        return no_content()

    def _reaction_event(self, event: str, msg: Message, emoji: str) -> None:
        name, _, emoji_id = emoji.partition(":")
        data: dict[str, Any] = {
            "user_id": str(self.world.bot_user.id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": {"name": name, "id": emoji_id or None},
            "burst": False,
            "type": 0,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.world.emit(event, data, msg.guild_id)

    async def typing(self, request: web.Request) -> web.Response:
        """Typing indicator: accepted, nothing to model."""
        self.world.channel(_int(request, "channel_id"))
        return no_content()

    async def create_thread(self, request: web.Request) -> web.Response:
        """Create a thread (private: type 12; from a message: public; in a forum: a post)."""
        parent = self.world.channel(_int(request, "channel_id"))
        body, files = await read_body(request)
        body = body or {}
        from_message = "message_id" in request.match_info
        if parent.type == ChannelType.FORUM:
            return await self._forum_post(parent, body, files)
        kind = ChannelType.PUBLIC_THREAD if from_message else int(body.get("type") or 12)
        self.world.check_can_start_thread(parent, kind)
        thread = self.world.create_thread(
            parent,
            str(body.get("name", "thread")),
            type=kind,
            owner_id=self.world.bot_user.id,
            invitable=bool(body.get("invitable", True)),
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        return json_response(thread.payload(), 201)

    async def _forum_post(self, forum: Any, body: dict[str, Any], files: list[Upload]
                          ) -> web.Response:
        """A forum post: a public thread whose starter message has the thread's id.

        Discord requires the starter `message` (50035 without it) and answers the thread with
        that message under `message`.
        """
        self.world.check_can_send(forum, forum_post=True)
        message = body.get("message")
        if not isinstance(message, dict) or not (
            message.get("content") or message.get("embeds") or files
        ):
            raise DiscordError(400, "Invalid Form Body", 50035)
        thread = self.world.create_thread(
            forum, str(body.get("name", "post")), type=ChannelType.PUBLIC_THREAD,
            owner_id=self.world.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440))
        fields = self._message_fields({**message, "attachments": body.get("attachments")},
                                      files, thread.id)
        msg = self.world.post_message(thread, self.world.bot_user, id=thread.id, **fields)
        return json_response(dict(thread.payload(), message=msg.payload()), 201)

    async def add_thread_member(self, request: web.Request) -> web.Response:
        """Add a member (or ``@me``) to a thread."""
        thread = self.world.channel(_int(request, "channel_id"))
        raw = request.match_info["user_id"]
        user_id = self.world.bot_user.id if raw == "@me" else int(raw)
        if thread.guild_id is not None:
            self.world.member(self.world.guild(thread.guild_id), user_id)
        self.world.add_thread_member(thread, user_id)
        return no_content()

    async def remove_thread_member(self, request: web.Request) -> web.Response:
        """Remove a member from a thread."""
        thread = self.world.channel(_int(request, "channel_id"))
        raw = request.match_info["user_id"]
        thread.thread_members.discard(self.world.bot_user.id if raw == "@me" else int(raw))
        return no_content()

    async def create_dm(self, request: web.Request) -> web.Response:
        """Open (or reuse) the DM channel with a user."""
        body, _ = await read_body(request)
        user = self.world.user(int((body or {})["recipient_id"]))
        return json_response(self.world.open_dm(user).payload())

    # -- guilds, members, roles ----------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> web.Response:
        """Guild object (with roles; members are not part of REST guilds)."""
        guild = self.world.guild(_int(request, "guild_id"))
        data = guild.payload(self.world.bot_user.id)
        for key in ("members", "channels", "threads", "presences", "voice_states"):
            data.pop(key, None)
        data["approximate_member_count"] = len(guild.members)
        return json_response(data)

    async def get_roles(self, request: web.Request) -> web.Response:
        """Roles of a guild."""
        guild = self.world.guild(_int(request, "guild_id"))
        return json_response([r.payload() for r in guild.roles.values()])

    async def create_role(self, request: web.Request) -> web.Response:
        """Create a role (needs Manage Roles); dispatches GUILD_ROLE_CREATE."""
        guild = self.world.guild(_int(request, "guild_id"))
        me = self.world.member(guild, self.world.bot_user.id)
        if not guild.base_permissions(me) & MANAGE_ROLES:
            raise missing_permissions()
        body, _ = await read_body(request)
        body = body or {}
        role = self.world.create_role(
            guild,
            str(body.get("name") or "new role"),
            permissions=int(body.get("permissions") or 0),
            color=int(body.get("color") or 0),
        )
        role.hoist = bool(body.get("hoist", False))
        role.mentionable = bool(body.get("mentionable", False))
        return json_response(role.payload())

    async def get_channels(self, request: web.Request) -> web.Response:
        """Non-thread channels of a guild."""
        guild = self.world.guild(_int(request, "guild_id"))
        return json_response([c.payload() for c in guild.channels.values() if not c.is_thread])

    async def create_channel(self, request: web.Request) -> web.Response:
        """Create a channel or category (with overwrites); dispatches CHANNEL_CREATE."""
        guild = self.world.guild(_int(request, "guild_id"))
        body, _ = await read_body(request)
        body = body or {}
        chan = self.world.create_channel(
            guild,
            str(body.get("name") or "channel"),
            type=int(body.get("type") or 0),
            parent_id=int(body["parent_id"]) if body.get("parent_id") else None,
            overwrites=[Overwrite.from_payload(o) for o in body.get("permission_overwrites") or []],
            topic=body.get("topic"),
        )
        return json_response(chan.payload(), 201)

    async def list_members(self, request: web.Request) -> web.Response:
        """Members by id (``limit``/``after``)."""
        guild = self.world.guild(_int(request, "guild_id"))
        after = int(request.query.get("after", 0))
        limit = int(request.query.get("limit", 1))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return json_response([m.payload() for m in members[:limit]])

    async def get_member(self, request: web.Request) -> web.Response:
        """One member."""
        guild = self.world.guild(_int(request, "guild_id"))
        return json_response(self.world.member(guild, _int(request, "user_id")).payload())

    async def edit_member(self, request: web.Request) -> web.Response:
        """Nick and role-list edits (role changes checked like single role adds)."""
        guild = self.world.guild(_int(request, "guild_id"))
        member = self.world.member(guild, _int(request, "user_id"))
        body, _ = await read_body(request)
        body = body or {}
        enforce_limits(check_member_edit, body)
        if "roles" in body:
            wanted = {int(r) for r in body["roles"]}
            for rid in wanted.symmetric_difference(member.roles):
                self.world.check_role_change(guild, rid)
            member.roles = sorted(wanted)
        if "nick" in body:
            member.nick = body["nick"]
        self.world.member_update(guild, member)
        return json_response(member.payload())

    async def add_role(self, request: web.Request) -> web.Response:
        """``PUT .../roles/{role}``: Discord's hierarchy rules, then GUILD_MEMBER_UPDATE."""
        return await self._change_role(request, add=True)

    async def remove_role(self, request: web.Request) -> web.Response:
        """``DELETE .../roles/{role}``."""
        return await self._change_role(request, add=False)

    async def _change_role(self, request: web.Request, *, add: bool) -> web.Response:
        guild = self.world.guild(_int(request, "guild_id"))
        reason = request.headers.get("X-Audit-Log-Reason")
        self.world.change_role(
            guild, _int(request, "user_id"), _int(request, "role_id"), add=add, reason=reason
        )
        return no_content()

    # -- scheduled events ----------------------------------------------------------------------

    async def list_events(self, request: web.Request) -> web.Response:
        """Scheduled events of a guild."""
        guild = self.world.guild(_int(request, "guild_id"))
        return json_response([e.payload() for e in guild.scheduled_events.values()])

    async def create_event(self, request: web.Request) -> web.Response:
        """Create a scheduled event; dispatches GUILD_SCHEDULED_EVENT_CREATE."""
        guild = self.world.guild(_int(request, "guild_id"))
        body, _ = await read_body(request)
        bot = self.world.bot_user
        data = {
            "channel_id": None,
            "creator_id": str(bot.id),
            "creator": bot.payload(),
            "description": None,
            "scheduled_end_time": None,
            "privacy_level": 2,
            "status": 1,
            "entity_type": 3,
            "entity_id": None,
            "entity_metadata": None,
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
        }
        data.update(body or {})
        check_event(data)
        event = ScheduledEvent(self.world.ids.next(), guild.id, data)
        guild.scheduled_events[event.id] = event
        self.world.emit("GUILD_SCHEDULED_EVENT_CREATE", event.payload(), guild.id)
        return json_response(event.payload())

    async def get_event(self, request: web.Request) -> web.Response:
        """One scheduled event."""
        return json_response(self._event(request).payload())

    async def edit_event(self, request: web.Request) -> web.Response:
        """Edit a scheduled event; dispatches GUILD_SCHEDULED_EVENT_UPDATE."""
        event = self._event(request)
        body, _ = await read_body(request)
        check_event({**event.data, **(body or {})}, old_status=event.data.get("status", 1))
        event.data.update(body or {})
        self.world.emit("GUILD_SCHEDULED_EVENT_UPDATE", event.payload(), event.guild_id)
        return json_response(event.payload())

    async def delete_event(self, request: web.Request) -> web.Response:
        """Delete a scheduled event; dispatches GUILD_SCHEDULED_EVENT_DELETE."""
        event = self._event(request)
        del self.world.guild(event.guild_id).scheduled_events[event.id]
        self.world.emit("GUILD_SCHEDULED_EVENT_DELETE", event.payload(), event.guild_id)
        return no_content()

    def _event(self, request: web.Request) -> ScheduledEvent:
        guild = self.world.guild(_int(request, "guild_id"))
        event = guild.scheduled_events.get(_int(request, "event_id"))
        if event is None:
            raise DiscordError(404, "Unknown Guild Scheduled Event", 10070)
        return event

    # -- application commands ------------------------------------------------------------------

    async def get_commands(self, request: web.Request) -> web.Response:
        """Synced commands (global or per guild)."""
        gid = request.match_info.get("guild_id")
        return json_response(self.commands.get(int(gid) if gid else None, []))

    async def put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite: echo the commands back with ids (kept stable per name and type)."""
        gid = request.match_info.get("guild_id")
        guild_id = int(gid) if gid else None
        if guild_id is not None:
            self.world.guild(guild_id)
        body, _ = await read_body(request)
        enforce_limits(check_commands, body or [])
        old = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(guild_id, [])}
        out = []
        for cmd in body or []:
            key = (cmd["name"], cmd.get("type", 1))
            data = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
            }
            data.update(cmd)
            data.update(
                id=old.get(key) or str(self.world.ids.next()),
                application_id=str(self.application_id),
                version=str(self.world.ids.next()),
            )
            if guild_id is not None:
                data["guild_id"] = str(guild_id)
            out.append(data)
        self.commands[guild_id] = out
        return json_response(out)

    def command_id(self, name: str, guild_id: int | None) -> int:
        """The synced id of a root command, or a stable made-up one when not synced."""
        for scope in (guild_id, None):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    return int(cmd["id"])
        return 1000 + sum(map(ord, name))

    # -- interactions --------------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        """The first (and only) response to an interaction."""
        rec = self.interactions.get(_int(request, "interaction_id"))
        if rec is None or rec.token != request.match_info["token"]:
            raise DiscordError(404, "Unknown interaction", 10062)
        if rec.answered_at is not None:
            raise DiscordError(400, "Interaction has already been acknowledged.", 40060)
        now = self.clock()
        latency = now - rec.dispatched_at
        if latency > INTERACTION_DEADLINE:
            name = str(
                (rec.payload.get("data") or {}).get("name")
                or (rec.payload.get("data") or {}).get("custom_id")
            )
            self.log.deadline_violations.append(DeadlineViolation(rec.id, name, latency))
            if self.strict_deadline:
                # What Discord does: the token is dead after 3 s without a response.
                raise DiscordError(404, "Unknown interaction", 10062)
        body, files = await read_body(request)
        body = body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind not in (
            CHANNEL_MESSAGE,
            DEFERRED_CHANNEL_MESSAGE,
            DEFERRED_UPDATE_MESSAGE,
            UPDATE_MESSAGE,
            AUTOCOMPLETE_RESULT,
            MODAL,
        ):
            raise DiscordError(400, "Invalid Form Body", 50035)
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and rec.source_message_id is None:
            raise DiscordError(400, "Invalid Form Body", 50035)
        # Checked before the response counts: Discord refuses it and the interaction stays open.
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            enforce_limits(check_message, data)
        elif kind == MODAL:
            enforce_limits(check_modal, data)
        rec.answered_at = now
        rec.response_type = kind
        info: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        resource: dict[str, Any] = {"type": kind}
        chan = self.world.channel(rec.channel_id)
        msg: Message | None = None
        if kind == CHANNEL_MESSAGE:
            fields = self._message_fields(data, files, chan.id)
            msg = self._interaction_message(rec, chan, fields)
            rec.original_id = msg.id
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            msg = self._interaction_message(rec, chan, {"flags": flags}, dispatch=False)
            rec.original_id = msg.id
            rec.loading = True
            info["response_message_loading"] = True
        elif kind == DEFERRED_UPDATE_MESSAGE:
            rec.original_id = rec.source_message_id
        elif kind == UPDATE_MESSAGE:
            assert rec.source_message_id is not None
            msg = self.world.find_message(rec.source_message_id)
            uploads = self._uploads(data, files, chan.id, msg.ephemeral)
            self.world.edit_message(msg, data, uploads)
            rec.original_id = msg.id
        elif kind == AUTOCOMPLETE_RESULT:
            rec.choices = list(data.get("choices") or [])
        else:
            rec.modal = data
        if msg is not None:
            info["response_message_id"] = str(msg.id)
            info["response_message_ephemeral"] = msg.ephemeral
            resource["message"] = msg.payload()
        return json_response({"interaction": info, "resource": resource})

    def _interaction_message(
        self,
        rec: InteractionRecord,
        chan: Channel,
        fields: dict[str, Any],
        *,
        dispatch: bool = True,
    ) -> Message:
        return self.world.post_message(
            chan,
            self.world.bot_user,
            webhook_id=self.application_id,
            interaction_id=rec.id,
            type=20 if rec.type == APPLICATION_COMMAND else 0,
            dispatch=dispatch,
            **fields,
        )

    def _token_record(self, request: web.Request) -> InteractionRecord:
        rec = self.by_token.get(request.match_info["token"])
        if rec is None or rec.answered_at is None:
            raise DiscordError(404, "Unknown Webhook", 10015)
        if self.clock() - rec.dispatched_at > INTERACTION_TOKEN_TTL:
            raise DiscordError(401, "Invalid Webhook Token", 50027)
        return rec

    def _webhook_message(self, rec: InteractionRecord, raw_id: str) -> Message:
        if raw_id == "@original":
            if rec.original_id is None:
                raise DiscordError(404, "Unknown Message", 10008)
            return self.world.find_message(rec.original_id)
        mid = int(raw_id)
        if mid != rec.original_id and mid not in rec.followup_ids:
            raise DiscordError(404, "Unknown Message", 10008)
        return self.world.find_message(mid)

    async def followup(self, request: web.Request) -> web.Response:
        """A followup; the first one after a thinking defer replaces the loading message."""
        rec = self._token_record(request)
        chan = self.world.channel(rec.channel_id)
        body, files = await read_body(request)
        body = body or {}
        if rec.loading and rec.original_id is not None:
            msg = self.world.find_message(rec.original_id)
            uploads = self._uploads(body, files, chan.id, msg.ephemeral)
            # Ephemerality was decided by the defer; the followup's own flag is ignored.
            changes = dict(body, flags=int(body.get("flags") or 0) & ~LOADING & ~EPHEMERAL)
            msg.flags &= ~LOADING
            rec.loading = False
            self.world.edit_message(msg, changes, uploads, reveal=True)
            return json_response(msg.payload())
        fields = self._message_fields(body, files, chan.id)
        msg = self._interaction_message(rec, chan, fields)
        rec.followup_ids.append(msg.id)
        return json_response(msg.payload())

    async def webhook_get(self, request: web.Request) -> web.Response:
        """``GET .../messages/@original`` or a followup."""
        rec = self._token_record(request)
        return json_response(self._webhook_message(rec, request.match_info["message_id"]).payload())

    async def webhook_edit(self, request: web.Request) -> web.Response:
        """Edit the original response (ends a deferral) or a followup."""
        rec = self._token_record(request)
        msg = self._webhook_message(rec, request.match_info["message_id"])
        body, files = await read_body(request)
        body = body or {}
        uploads = self._uploads(body, files, msg.channel_id, msg.ephemeral)
        reveal = bool(msg.flags & LOADING)
        if reveal:
            msg.flags &= ~LOADING
            if msg.id == rec.original_id:
                rec.loading = False
        self.world.edit_message(msg, body, uploads, reveal=reveal)
        return json_response(msg.payload())

    async def webhook_delete(self, request: web.Request) -> web.Response:
        """Delete the original response or a followup."""
        rec = self._token_record(request)
        self.world.delete_message(self._webhook_message(rec, request.match_info["message_id"]))
        return no_content()

    # -- CDN -----------------------------------------------------------------------------------

    async def cdn(self, request: web.Request) -> web.Response:
        """Files the sandbox stored (attachments); 404 otherwise."""
        path = request.match_info["path"]
        avatar = serve_avatar(self.world.avatars, path, request.query.get("size"))
        if avatar is not None:  # a user's uploaded avatar, as Discord's CDN serves it
            status, body, content_type = avatar
            return web.Response(status=status, body=body, content_type=content_type)
        item = self.world.cdn.get(path)
        if item is None and path.startswith(("embed/avatars/", "icons/")):
            # Default avatars and guild icons: any image will do offline.
            item = (_PNG_1X1, "image/png")
        if item is None:
            self.log.unhandled.append(RequestRecord("GET", "/cdn/" + path, 404))
            return web.Response(status=404)
        data, content_type = item
        return web.Response(body=data, content_type=content_type or "application/octet-stream")

    # -- body helpers --------------------------------------------------------------------------

    def _uploads(
        self, body: dict[str, Any], files: list[Upload], channel_id: int, ephemeral: bool
    ) -> list[Attachment]:
        meta = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = []
        for f in files:
            desc = (meta.get(str(f.index)) or {}).get("description")
            out.append(
                self.world.store_attachment(
                    channel_id,
                    f.filename,
                    f.data,
                    f.content_type,
                    description=desc,
                    ephemeral=ephemeral,
                )
            )
        return out

    def _message_fields(
        self, body: dict[str, Any], files: list[Upload], channel_id: int
    ) -> dict[str, Any]:
        enforce_limits(check_message, body)
        flags = int(body.get("flags") or 0)
        return {
            "content": body.get("content") or "",
            "raw_embeds": list(body.get("embeds") or []),
            "raw_components": list(body.get("components") or []),
            "flags": flags,
            "allowed_mentions": body.get("allowed_mentions"),
            "attachments": self._uploads(body, files, channel_id, bool(flags & EPHEMERAL)),
        }


@dataclass
class Upload:
    """A file part of a multipart request (``files[n]``)."""

    index: int
    filename: str
    data: bytes
    content_type: str | None


async def read_body(request: web.Request) -> tuple[Any, list[Upload]]:
    """Parse a JSON or multipart (``payload_json`` + ``files[n]``) body."""
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        payload: Any = None
        uploads: list[Upload] = []
        for name, value in form.items():
            if name == "payload_json":
                if not isinstance(value, str):
                    value.file.seek(0)  # the contract check may have read it already
                payload = json.loads(value if isinstance(value, str) else value.file.read())
            elif hasattr(value, "file"):
                match = re.search(r"\[(\d+)\]", name)
                uploads.append(
                    Upload(
                        int(match.group(1)) if match else len(uploads),
                        value.filename,
                        value.file.read(),
                        value.content_type,
                    )
                )
        return payload, uploads
    # read() returns the cached body when the middleware already peeked at it.
    raw = await request.read() if request.body_exists else b""
    return (json.loads(raw) if raw else None), []


async def _body_of(request: web.Request) -> Any:
    """The JSON body (or a multipart ``payload_json``); aiohttp caches both for the handler."""
    if not request.body_exists:
        return None
    try:
        if request.content_type.startswith("multipart/"):
            # Only the JSON part: file streams are left unread for the handler.
            value = (await request.post()).get("payload_json")
            if value is None or isinstance(value, str):
                return json.loads(value) if value else None
            value.file.seek(0)
            return json.loads(value.file.read())
        return (await read_body(request))[0]
    except ValueError:
        raise DiscordError(400, "Invalid Form Body", 50035, errors={
            "_errors": [{"code": "JSON_PARSE", "message": "The request body is not valid JSON."}]
        }) from None


def _concrete(template: str, path: str) -> str:
    """The route template with ``@me``/``@original`` segments of the real path kept.

    The spec gives ``PATCH .../members/@me`` and ``.../messages/@original`` their own entries; other
    parameters stay ``{param}`` so lookups are cached per route, not per id or token.
    """
    t, p = template.split("/"), path.split("/")
    if len(t) != len(p):
        return template
    return "/".join(b if a.startswith("{") and b.startswith("@") else a for a, b in zip(t, p, strict=True))


async def _peek_json(request: web.Request) -> Any:
    """The JSON body for logs (multipart and bodies that are not JSON are left out)."""
    if request.content_type != "application/json" or not request.body_exists:
        return None
    try:
        return json.loads(await request.read())
    except ValueError:
        return None


def _rate_limited(rule: RateLimitRule) -> web.Response:
    scope = "global" if rule.is_global else "user"
    headers = {
        "Retry-After": str(rule.retry_after),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + rule.retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{rule.retry_after:.3f}",
        "X-RateLimit-Bucket": "sandbox-" + str(abs(hash(rule.route)) % 10**8),
        "X-RateLimit-Scope": scope,
        # discord.py treats a 429 without Via as a Cloudflare ban and does not retry.
        "Via": "1.1 google",
    }
    if rule.is_global:
        headers["X-RateLimit-Global"] = "true"
    return json_response(
        {
            "message": "You are being rate limited.",
            "retry_after": rule.retry_after,
            "global": rule.is_global,
        },
        429,
        headers,
    )


def _int(request: web.Request, key: str) -> int:
    try:
        return int(request.match_info[key])
    except ValueError:
        raise DiscordError(400, "Invalid Form Body", 50035) from None


__all__ = [
    "DiscordServer",
    "RateLimitRule",
    "RequestRecord",
    "ServerLog",
    "compile_route",
    "iso",
]
