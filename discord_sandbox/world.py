"""The sandbox's registry of users, guilds, channels and messages, and the operations on it.

Operations mirror what Discord does server-side, including the gateway events Discord sends as
a consequence (GUILD_MEMBER_UPDATE after a role change, MESSAGE_CREATE after a send, ...). Events
go through ``emit``, which the server wires to the gateway.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .cdn import avatar_hash
from .limits import PayloadTooLarge, check_message
from .state import (
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DEFAULT_ACCOUNT_CREATED,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DEFAULT_JOINED,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    MAX_PINS,
    PIN_MESSAGES,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    Snowflakes,
    User,
)

Emit = Callable[[str, dict[str, Any], int | None], None]


class DiscordError(Exception):
    """An error Discord would answer with: HTTP status plus JSON ``{message, code}``."""

    def __init__(
        self, status: int, message: str, code: int, *, errors: dict[str, Any] | None = None
    ) -> None:
        detail = f": {json.dumps(errors)[:2000]}" if errors else ""
        super().__init__(f"{status} {message} (code {code}){detail}")
        self.status = status
        self.message = message
        self.code = code
        #: Discord's per-field error tree (``{"content": {"_errors": [{code, message}]}}``).
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """Discord's JSON error body."""
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            out["errors"] = self.errors
        return out


def enforce_limits(check: Callable[[Any], None], payload: Any) -> None:
    """Run a `limits` check; a payload over a limit becomes Discord's 400 / 50035."""
    try:
        check(payload)
    except PayloadTooLarge as error:
        tree: dict[str, Any] = {"_errors": [{"code": error.code, "message": error.detail}]}
        for key in reversed(error.field.split(".")):
            tree = {key: tree}
        raise DiscordError(400, "Invalid Form Body", 50035, errors=tree) from None


def missing_permissions() -> DiscordError:
    """403 code 50013, what Discord answers when the bot lacks a permission or rank."""
    return DiscordError(403, "Missing Permissions", 50013)


def missing_access() -> DiscordError:
    """403 code 50001: the bot cannot see the channel."""
    return DiscordError(403, "Missing Access", 50001)


@dataclass(frozen=True)
class RoleEvent:
    """A role change the sandbox applied (by the bot through REST, or by the harness)."""

    guild_id: int
    user_id: int
    role_id: int
    action: str  # "add" | "remove"
    reason: str | None = None
    by_bot: bool = True


@dataclass
class World:
    """Everything the emulated Discord knows."""

    bot_user: User
    base_url: Callable[[], str]
    emit: Emit = lambda event, data, guild_id: None
    ids: Snowflakes = field(default_factory=Snowflakes)
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, dict[int, Message]] = field(default_factory=dict)
    dm_channels: dict[int, Channel] = field(default_factory=dict)
    role_events: list[RoleEvent] = field(default_factory=list)
    cdn: dict[str, tuple[bytes, str | None]] = field(default_factory=dict)
    #: Uploaded avatars by (user id, hash), served as the CDN does (cdn.py).
    avatars: dict[tuple[int, str], bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.users[self.bot_user.id] = self.bot_user

    # -- lookups -------------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        """User by id, else Discord's 404 Unknown User."""
        try:
            return self.users[user_id]
        except KeyError:
            raise DiscordError(404, "Unknown User", 10013) from None

    def guild(self, guild_id: int) -> Guild:
        """Guild by id, else 404 Unknown Guild."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise DiscordError(404, "Unknown Guild", 10004) from None

    def channel(self, channel_id: int) -> Channel:
        """Channel by id, else 404 Unknown Channel."""
        try:
            return self.channels[channel_id]
        except KeyError:
            raise DiscordError(404, "Unknown Channel", 10003) from None

    def member(self, guild: Guild, user_id: int) -> Member:
        """Member by id, else 404 Unknown Member."""
        try:
            return guild.members[user_id]
        except KeyError:
            raise DiscordError(404, "Unknown Member", 10007) from None

    def message(self, channel_id: int, message_id: int) -> Message:
        """Live message by id, else 404 Unknown Message."""
        msg = self.messages.get(channel_id, {}).get(message_id)
        if msg is None or msg.deleted:
            raise DiscordError(404, "Unknown Message", 10008)
        return msg

    def find_message(self, message_id: int) -> Message:
        """Message by id in any channel (for webhook edits that do not name the channel)."""
        for msgs in self.messages.values():
            if message_id in msgs and not msgs[message_id].deleted:
                return msgs[message_id]
        raise DiscordError(404, "Unknown Message", 10008)

    # -- users, guilds, roles ------------------------------------------------------------------

    def create_user(self, name: str, *, bot: bool = False,
                    created_at: datetime | None = None) -> User:
        """Register a new user (its id carries ``created_at``, by default an old account)."""
        user = User(self.ids.at(created_at or DEFAULT_ACCOUNT_CREATED), name, bot=bot)
        self.users[user.id] = user
        return user

    def create_guild(self, name: str, *, owner: User, bot_permissions: int | None = None) -> Guild:
        """A guild with @everyone, the bot's managed role, #general, the owner and the bot."""
        guild = Guild(id=self.ids.next(new_ms=True), name=name, owner_id=owner.id)
        guild.roles[guild.id] = Role(
            guild.id, guild.id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, position=0
        )
        bot_role = Role(
            self.ids.next(),
            guild.id,
            self.bot_user.name,
            bot_permissions if bot_permissions is not None else DEFAULT_BOT_PERMISSIONS,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        self.guilds[guild.id] = guild
        self.create_channel(guild, "general", dispatch=False)
        guild.members[owner.id] = Member(owner, guild.id)
        guild.members[self.bot_user.id] = Member(self.bot_user, guild.id, roles=[bot_role.id])
        return guild

    def create_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        position: int | None = None,
        managed: bool = False,
        color: int = 0,
        dispatch: bool = True,
    ) -> Role:
        """Insert a role at ``position`` (default 1, like Discord), shifting roles above it."""
        pos = 1 if position is None else max(1, position)
        for r in guild.roles.values():
            if r.position >= pos and r.id != guild.id:
                r.position += 1
        role = Role(self.ids.next(), guild.id, name, permissions, pos, managed=managed, color=color)
        guild.roles[role.id] = role
        if dispatch:
            self.emit(
                "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()}, guild.id
            )
        return role

    def add_member(self, guild: Guild, user: User, roles: list[int], nick: str | None,
                   joined_at: datetime | None = None) -> Member:
        """Join a user to a guild and dispatch GUILD_MEMBER_ADD."""
        member = Member(user, guild.id, roles=list(roles), nick=nick,
                        joined_at=joined_at or DEFAULT_JOINED)
        guild.members[user.id] = member
        self.emit("GUILD_MEMBER_ADD", dict(member.payload(), guild_id=str(guild.id)), guild.id)
        return member

    def remove_member(self, guild: Guild, user_id: int) -> Member:
        """Remove a member and dispatch GUILD_MEMBER_REMOVE."""
        member = self.member(guild, user_id)
        del guild.members[user_id]
        self.emit(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild.id), "user": member.user.payload()},
            guild.id,
        )
        return member

    def set_avatar(self, user_id: int, data: bytes, *, animated: bool = False) -> str:
        """The user uploads an avatar: it gets a new hash (so a new CDN URL) and every guild
        they are in gets GUILD_MEMBER_UPDATE with the new user object."""
        user = self.user(user_id)
        user.avatar = avatar_hash(data, animated=animated)
        self.avatars[(user_id, user.avatar)] = data
        for guild in self.guilds.values():
            if user_id in guild.members:
                self.member_update(guild, guild.members[user_id])
        return user.avatar

    def member_update(self, guild: Guild, member: Member) -> None:
        """Dispatch GUILD_MEMBER_UPDATE: discord.py only updates its cache from this event."""
        self.emit("GUILD_MEMBER_UPDATE", dict(member.payload(), guild_id=str(guild.id)), guild.id)

    def check_role_change(self, guild: Guild, role_id: int) -> Role:
        """Discord's rule: the bot needs Manage Roles and a highest role above the target."""
        role = guild.roles.get(role_id)
        if role is None:
            raise DiscordError(404, "Unknown Role", 10011)
        me = self.member(guild, self.bot_user.id)
        if not guild.base_permissions(me) & MANAGE_ROLES:
            raise missing_permissions()
        if role.managed or role.id == guild.id or role.position >= guild.top_position(me):
            raise missing_permissions()
        return role

    def change_role(
        self,
        guild: Guild,
        user_id: int,
        role_id: int,
        *,
        add: bool,
        reason: str | None = None,
        by_bot: bool = True,
    ) -> None:
        """Add/remove a role (bot changes are checked against Discord's rules)."""
        if by_bot:
            self.check_role_change(guild, role_id)
        elif role_id not in guild.roles:
            raise DiscordError(404, "Unknown Role", 10011)
        member = self.member(guild, user_id)
        has = role_id in member.roles
        if add and not has:
            member.roles.append(role_id)
        elif not add and has:
            member.roles.remove(role_id)
        self.role_events.append(
            RoleEvent(guild.id, user_id, role_id, "add" if add else "remove", reason, by_bot)
        )
        # Discord sends the update even when nothing changed; harmless and simpler to match.
        self.member_update(guild, member)

    # -- channels ------------------------------------------------------------------------------

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = ChannelType.TEXT,
        parent_id: int | None = None,
        overwrites: list[Overwrite] | None = None,
        topic: str | None = None,
        dispatch: bool = True,
    ) -> Channel:
        """Create a guild channel or category and dispatch CHANNEL_CREATE."""
        position = sum(1 for c in guild.channels.values() if c.type == type)
        chan = Channel(
            self.ids.next(),
            type,
            name,
            guild_id=guild.id,
            position=position,
            parent_id=parent_id,
            topic=topic,
            overwrites=list(overwrites or []),
        )
        guild.channels[chan.id] = chan
        self.channels[chan.id] = chan
        self.messages[chan.id] = {}
        if dispatch:
            self.emit("CHANNEL_CREATE", chan.payload(), guild.id)
        return chan

    def create_thread(
        self,
        parent: Channel,
        name: str,
        *,
        type: int,
        owner_id: int,
        invitable: bool = True,
        auto_archive_duration: int = 1440,
    ) -> Channel:
        """Create a thread under ``parent``; the owner joins it. Dispatches THREAD_CREATE."""
        assert parent.guild_id is not None
        guild = self.guild(parent.guild_id)
        thread = Channel(
            self.ids.next(),
            type,
            name,
            guild_id=guild.id,
            parent_id=parent.id,
            owner_id=owner_id,
            invitable=invitable,
            auto_archive_duration=auto_archive_duration,
            thread_members={owner_id},
        )
        guild.channels[thread.id] = thread
        self.channels[thread.id] = thread
        self.messages[thread.id] = {}
        self.emit("THREAD_CREATE", dict(thread.payload(), newly_created=True), guild.id)
        return thread

    def add_thread_member(self, thread: Channel, user_id: int) -> None:
        """Add a member to a thread and dispatch THREAD_MEMBERS_UPDATE."""
        thread.thread_members.add(user_id)
        now = datetime.now(UTC).isoformat()
        self.emit(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "member_count": len(thread.thread_members),
                "added_members": [
                    {
                        "id": str(thread.id),
                        "user_id": str(user_id),
                        "join_timestamp": now,
                        "flags": 0,
                    }
                ],
            },
            thread.guild_id,
        )

    def update_channel(self, chan: Channel, changes: dict[str, Any]) -> Channel:
        """Apply a channel PATCH body and dispatch CHANNEL_UPDATE / THREAD_UPDATE."""
        for key in (
            "name",
            "topic",
            "archived",
            "locked",
            "invitable",
            "auto_archive_duration",
            "position",
        ):
            if key in changes:
                setattr(chan, key, changes[key])
        if "parent_id" in changes:
            chan.parent_id = int(changes["parent_id"]) if changes["parent_id"] else None
        if "permission_overwrites" in changes:
            chan.overwrites = [Overwrite.from_payload(o) for o in changes["permission_overwrites"]]
        event = "THREAD_UPDATE" if chan.is_thread else "CHANNEL_UPDATE"
        self.emit(event, chan.payload(), chan.guild_id)
        return chan

    def delete_channel(self, chan: Channel) -> None:
        """Delete a channel and dispatch CHANNEL_DELETE / THREAD_DELETE."""
        guild = self.guild(chan.guild_id) if chan.guild_id else None
        if guild is not None:
            guild.channels.pop(chan.id, None)
        self.channels.pop(chan.id, None)
        if chan.is_thread:
            data = {
                "id": str(chan.id),
                "guild_id": str(chan.guild_id),
                "parent_id": str(chan.parent_id),
                "type": chan.type,
            }
            self.emit("THREAD_DELETE", data, chan.guild_id)
        else:
            self.emit("CHANNEL_DELETE", chan.payload(), chan.guild_id)

    def open_dm(self, user: User) -> Channel:
        """The DM channel between the bot and ``user`` (created once)."""
        chan = self.dm_channels.get(user.id)
        if chan is None:
            chan = Channel(self.ids.next(), ChannelType.DM, "", recipient=user)
            self.dm_channels[user.id] = chan
            self.channels[chan.id] = chan
            self.messages[chan.id] = {}
        return chan

    # -- messages ------------------------------------------------------------------------------

    def check_can_send(self, chan: Channel, *, forum_post: bool = False) -> None:
        """Refuse bot sends Discord would refuse (no access, closed DMs, locked threads, plain
        messages in a forum: only `forum_post`s, which start a thread, may go there)."""
        if chan.type == ChannelType.DM:
            assert chan.recipient is not None
            if chan.recipient.dms_closed:
                raise DiscordError(403, "Cannot send messages to this user", 50007)
            return
        guild = self.guild(chan.guild_id) if chan.guild_id else None
        if guild is None:
            return
        if chan.type == ChannelType.FORUM and not forum_post:
            raise DiscordError(400, "Cannot send messages in a non-text channel", 50008)
        me = self.member(guild, self.bot_user.id)
        perms = guild.channel_permissions(me, chan)
        if not perms & VIEW_CHANNEL:
            raise missing_access()
        needed = SEND_MESSAGES_IN_THREADS if chan.is_thread else SEND_MESSAGES
        if not perms & needed:
            raise missing_permissions()
        if chan.is_thread and chan.archived and chan.locked:
            raise DiscordError(400, "Thread is locked", 50083)

    def check_can_start_thread(self, parent: Channel, kind: int) -> None:
        """Refuse a bot thread Discord would refuse: the parent must be visible, and a private
        thread needs CREATE_PRIVATE_THREADS, a public one CREATE_PUBLIC_THREADS (50013)."""
        guild = self.guild(parent.guild_id) if parent.guild_id else None
        if guild is None:
            return
        perms = guild.channel_permissions(self.member(guild, self.bot_user.id), parent)
        if not perms & VIEW_CHANNEL:
            raise missing_access()
        needed = CREATE_PRIVATE_THREADS if kind == ChannelType.PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        if not perms & needed:
            raise missing_permissions()

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> Attachment:
        """Keep file bytes and serve them at ``/cdn/attachments/...`` on the emulator."""
        att_id = self.ids.next()
        path = f"attachments/{channel_id}/{att_id}/{filename}"
        self.cdn[path] = (data, content_type)
        return Attachment(
            att_id,
            filename,
            data,
            f"{self.base_url()}/cdn/{path}",
            content_type,
            description=description,
            ephemeral=ephemeral,
        )

    def post_message(
        self, chan: Channel, author: User, *, dispatch: bool = True, **fields: Any
    ) -> Message:
        """Store a new message and dispatch MESSAGE_CREATE (unless ephemeral)."""
        msg = Message(
            id=fields.pop("id", None) or self.ids.next(),
            channel_id=chan.id,
            guild_id=chan.guild_id,
            author=author,
            **fields,
        )
        msg.history.append(_snapshot(msg))
        self.messages.setdefault(chan.id, {})[msg.id] = msg
        chan.last_message_id = msg.id
        if dispatch and not msg.ephemeral:
            self.emit("MESSAGE_CREATE", self.message_event(msg), chan.guild_id)
        return msg

    def message_event(self, msg: Message) -> dict[str, Any]:
        """MESSAGE_CREATE/UPDATE payload: guild messages carry the author's member."""
        data = msg.payload()
        if msg.guild_id is not None:
            member = self.guilds[msg.guild_id].members.get(msg.author.id)
            if member is not None:
                data["member"] = member.payload(with_user=False)
        return data

    def edit_message(
        self,
        msg: Message,
        changes: dict[str, Any],
        uploads: list[Attachment],
        *,
        reveal: bool = False,
    ) -> Message:
        """Apply an edit body (content, embeds, components, flags, attachments, uploads).

        ``reveal`` marks the first edit of a deferred ("thinking") response: clients never saw
        that message, so Discord announces it with MESSAGE_CREATE rather than MESSAGE_UPDATE.
        """
        enforce_limits(check_message, changes)
        if "content" in changes:
            msg.content = changes["content"] or ""
        if "embeds" in changes:
            msg.raw_embeds = list(changes["embeds"] or [])
        if "components" in changes:
            msg.raw_components = list(changes["components"] or [])
        if "flags" in changes and changes["flags"] is not None:
            # Ephemeral cannot be changed by an edit; keep it.
            msg.flags = (int(changes["flags"]) & ~64) | (msg.flags & 64)
        if "allowed_mentions" in changes:
            msg.allowed_mentions = changes["allowed_mentions"]
        if "attachments" in changes:
            keep = {int(a["id"]) for a in changes["attachments"] or [] if _is_snowflake(a)}
            msg.attachments = [a for a in msg.attachments if a.id in keep]
        msg.attachments += uploads
        if not reveal:
            msg.edited_at = datetime.now(UTC)
        msg.history.append(_snapshot(msg))
        if not msg.ephemeral:
            event = "MESSAGE_CREATE" if reveal else "MESSAGE_UPDATE"
            self.emit(event, self.message_event(msg), msg.guild_id)
        return msg

    def delete_message(self, msg: Message) -> None:
        """Mark deleted and dispatch MESSAGE_DELETE."""
        msg.deleted = True
        if not msg.ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id is not None:
                data["guild_id"] = str(msg.guild_id)
            self.emit("MESSAGE_DELETE", data, msg.guild_id)

    def set_pinned(self, msg: Message, pinned: bool) -> None:
        """Pin or unpin a message as the bot; refuses what Discord refuses.

        Needs Manage Messages or Pin Messages in the channel; ephemeral messages cannot be
        pinned; at most MAX_PINS per channel. Dispatches MESSAGE_UPDATE and CHANNEL_PINS_UPDATE.
        """
        chan = self.channel(msg.channel_id)
        if chan.guild_id is not None:
            guild = self.guild(chan.guild_id)
            perms = guild.channel_permissions(self.member(guild, self.bot_user.id), chan)
            if not perms & (MANAGE_MESSAGES | PIN_MESSAGES):
                raise missing_permissions()
            if chan.is_thread and chan.archived and chan.locked:
                raise DiscordError(400, "Thread is locked", 50083)
        if msg.ephemeral or msg.deleted:
            raise DiscordError(404, "Unknown Message", 10008)
        if pinned and not msg.pinned:
            count = sum(1 for m in self.live_messages(chan.id) if m.pinned)
            if count >= MAX_PINS:
                raise DiscordError(400, "Maximum number of pins reached (250)", 30003)
        if msg.pinned == pinned:
            return
        msg.pinned = pinned
        self.emit("MESSAGE_UPDATE", self.message_event(msg), msg.guild_id)
        data: dict[str, Any] = {"channel_id": str(chan.id),
                                "last_pin_timestamp": datetime.now(UTC).isoformat()}
        if chan.guild_id is not None:
            data["guild_id"] = str(chan.guild_id)
        self.emit("CHANNEL_PINS_UPDATE", data, chan.guild_id)

    def pinned_messages(self, channel_id: int) -> list[Message]:
        """The pinned messages of a channel."""
        return [m for m in self.live_messages(channel_id) if m.pinned]

    def live_messages(self, channel_id: int) -> list[Message]:
        """Non-deleted messages of a channel, oldest first."""
        return [m for m in self.messages.get(channel_id, {}).values() if not m.deleted]


def _is_snowflake(att: dict[str, Any]) -> bool:
    """Existing attachments are referenced by snowflake; new uploads by small indexes."""
    try:
        return int(att["id"]) > 1 << 22
    except (KeyError, TypeError, ValueError):
        return False


def _snapshot(msg: Message) -> dict[str, Any]:
    return {
        "content": msg.content,
        "embeds": list(msg.raw_embeds),
        "components": list(msg.raw_components),
        "attachments": [a.filename for a in msg.attachments],
    }
