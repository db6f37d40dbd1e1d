"""In-memory model of the Discord world the sandbox serves.

Everything here is plain data plus the functions that render it as Discord API payloads
(``*.payload()``). The server and the harness mutate these objects; nothing here does I/O.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

# Permission bits the sandbox itself reasons about (Discord's values).
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_ROLES = 1 << 28
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
MANAGE_MESSAGES = 1 << 13
PIN_MESSAGES = 1 << 51
#: Discord's limit of pinned messages per channel.
MAX_PINS = 250
ALL_PERMISSIONS = discord.Permissions.all().value

#: What @everyone gets in a fresh guild: enough to read, chat and use commands.
DEFAULT_EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    read_message_history=True,
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    use_application_commands=True,
    use_external_emojis=True,
    connect=True,
    speak=True,
    change_nickname=True,
).value

#: What the bot's managed role gets by default (Discord gives an invited bot's managed role exactly
#: the permissions of its invite link): a community bot's invite that posts cards with images,
#: opens and locks private threads, pins, gives roles and creates scheduled events. Pass
#: ``bot_permissions`` to a guild for another set. (GEMS's own invite is checked to be this set by
#: tests/bot/test_permissions.py, so the sandbox's default guild is a guild GEMS was invited to.)
DEFAULT_BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    send_messages_in_threads=True,
    create_private_threads=True,
    manage_threads=True,
    pin_messages=True,
    manage_roles=True,
    create_events=True,
).value


class ChannelType:
    """Discord channel type numbers used by the sandbox."""

    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    FORUM = 15

    THREADS = (PUBLIC_THREAD, PRIVATE_THREAD)


def iso(dt: datetime | None = None) -> str:
    """Discord's ISO-8601 timestamp format."""
    return (dt or datetime.now(UTC)).isoformat()


class Snowflakes:
    """Generates unique, increasing snowflakes.

    Each guild id gets a millisecond of its own, so consecutive guilds map to consecutive shards
    (``(guild_id >> 22) % shard_count``): with two shards, guilds alternate between them.
    """

    def __init__(self, start: datetime | None = None) -> None:
        """Ids start at the wall clock, or at `start` (a script that must print the same ids,
        and so make the same id-seeded choices, on every run)."""
        when = start.timestamp() if start is not None else time.time()
        self._ms = int(when * 1000) - DISCORD_EPOCH_MS
        self._inc = itertools.count()

    def next(self, *, new_ms: bool = False) -> int:
        """Return a fresh snowflake; ``new_ms`` starts a new millisecond (used for guilds)."""
        if new_ms:
            self._ms += 1
        return (self._ms << 22) | (next(self._inc) & 0x3FFFFF)

    def at(self, when: datetime) -> int:
        """A fresh snowflake whose timestamp is ``when`` (a user's account creation time)."""
        ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._inc) & 0x3FFFFF)


#: Sandbox accounts are old and long-standing members unless a test says otherwise, so the bot's
#: new-account rules (which read the creation time from the id) don't apply by accident; pass
#: ``created_at``/``joined_at`` to model an alt account or a member who just joined.
DEFAULT_ACCOUNT_CREATED = datetime(2020, 1, 1, tzinfo=UTC)
DEFAULT_JOINED = datetime(2021, 1, 1, tzinfo=UTC)


@dataclass(eq=False)
class User:
    """A Discord user (human or bot)."""

    id: int
    name: str
    bot: bool = False
    global_name: str | None = None
    #: When True, ``POST /channels/{dm}/messages`` to this user answers 403 code 50007.
    dms_closed: bool = False
    #: The avatar's hash (None: Discord's default avatar); see ``World.set_avatar``.
    avatar: str | None = None

    @property
    def mention(self) -> str:
        """``<@id>`` as Discord renders a user mention."""
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        """The user object."""
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.global_name or self.name,
            "discriminator": "0",
            "avatar": self.avatar,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class Role:
    """A guild role; ``position`` 0 is @everyone, higher is more powerful."""

    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    color: int = 0
    hoist: bool = False
    mentionable: bool = False

    @property
    def mention(self) -> str:
        """``<@&id>`` (@everyone renders as ``@everyone``)."""
        return "@everyone" if self.id == self.guild_id else f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        """The role object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite (type 0 role, 1 member)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Overwrite:
        """Parse an overwrite as discord.py sends it."""
        return cls(int(data["id"]), int(data["type"]), int(data["allow"]), int(data["deny"]))

    def payload(self) -> dict[str, Any]:
        """The overwrite object."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(eq=False)
class Channel:
    """A guild channel, category, thread or DM channel."""

    id: int
    type: int
    name: str
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    # Threads only.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    thread_members: set[int] = field(default_factory=set)
    # DMs only.
    recipient: User | None = None
    last_message_id: int | None = None

    @property
    def is_thread(self) -> bool:
        """True for public and private threads."""
        return self.type in ChannelType.THREADS

    @property
    def mention(self) -> str:
        """``<#id>``."""
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        """The channel object (thread and DM fields only when relevant)."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }
        if self.type == ChannelType.DM:
            assert self.recipient is not None
            data["recipients"] = [self.recipient.payload()]
            return data
        data.update(
            guild_id=str(self.guild_id),
            position=self.position,
            parent_id=str(self.parent_id) if self.parent_id else None,
            permission_overwrites=[o.payload() for o in self.overwrites],
            nsfw=False,
            rate_limit_per_user=0,
            topic=self.topic,
        )
        if self.type in (ChannelType.VOICE, 13):  # voice and stage channels
            data.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=len(self.thread_members),
                total_message_sent=0,
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "invitable": self.invitable,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(),
                    "create_timestamp": iso(),
                },
            )
        return data


@dataclass(eq=False)
class Member:
    """A user's membership in a guild."""

    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = DEFAULT_JOINED

    @property
    def id(self) -> int:
        """The user's id."""
        return self.user.id

    @property
    def mention(self) -> str:
        """``<@id>``."""
        return self.user.mention

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        """The guild member object."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(eq=False)
class Attachment:
    """A stored file: uploaded by the bot, or offered by a user (slash option, chat)."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    def payload(self) -> dict[str, Any]:
        """The attachment object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "ephemeral": self.ephemeral,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data


@dataclass(frozen=True)
class Component:
    """One interactive component found in a message (button, select, text input...)."""

    type: int
    custom_id: str | None
    label: str | None
    style: int | None = None
    disabled: bool = False
    url: str | None = None
    options: tuple[dict[str, Any], ...] = ()
    placeholder: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


#: Component types that can hold other components (action row, section, container, label).
_CONTAINERS = {1: "components", 9: "components", 17: "components", 18: "component"}


def walk_components(raw: Iterable[dict[str, Any]]) -> list[Component]:
    """Flatten nested component payloads into the interactive leaves, in display order."""
    out: list[Component] = []

    def visit(node: dict[str, Any], label: str | None) -> None:
        kind = node.get("type")
        if kind in _CONTAINERS:
            key = _CONTAINERS[kind]
            children = node.get(key)
            children = [children] if isinstance(children, dict) else (children or [])
            for child in children:
                visit(child, node.get("label") if kind == 18 else label)
            accessory = node.get("accessory")
            if accessory:
                visit(accessory, label)
            return
        if kind in (10, 11, 12, 13, 14):  # text display, thumbnail, gallery, file, separator
            return
        out.append(
            Component(
                type=int(kind or 0),
                custom_id=node.get("custom_id"),
                label=node.get("label") or label,
                style=node.get("style"),
                disabled=bool(node.get("disabled", False)),
                url=node.get("url"),
                options=tuple(node.get("options") or ()),
                placeholder=node.get("placeholder"),
                raw=node,
            )
        )

    for node in raw:
        visit(node, None)
    return out


@dataclass(eq=False)
class Message:
    """A message as stored by the sandbox (the latest version, after edits)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    raw_embeds: list[dict[str, Any]] = field(default_factory=list)
    raw_components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    allowed_mentions: dict[str, Any] | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    reference_id: int | None = None
    reactions: dict[str, set[int]] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited_at: datetime | None = None
    deleted: bool = False
    #: Pinned in its channel (PUT /channels/{c}/messages/pins/{m}).
    pinned: bool = False
    #: Every version of the body the message had, oldest first (for "what was shown" checks).
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        """True when only the invoking user can see the message (flag 64)."""
        return bool(self.flags & 64)

    @property
    def embeds(self) -> list[discord.Embed]:
        """Embeds as :class:`discord.Embed` objects."""
        return [discord.Embed.from_dict(e) for e in self.raw_embeds]

    @property
    def components(self) -> list[Component]:
        """The interactive components (buttons, selects) in display order."""
        return walk_components(self.raw_components)

    @property
    def buttons(self) -> list[Component]:
        """Only the buttons."""
        return [c for c in self.components if c.type == 2]

    @property
    def files(self) -> dict[str, bytes]:
        """Attached files by filename."""
        return {a.filename: a.data for a in self.attachments}

    @property
    def text(self) -> str:
        """Content plus embed titles, descriptions, fields and footers: handy for asserts."""
        parts = [self.content]
        for e in self.raw_embeds:
            parts += [e.get("title") or "", e.get("description") or ""]
            for f in e.get("fields") or []:
                parts += [f.get("name") or "", f.get("value") or ""]
            parts.append((e.get("footer") or {}).get("text") or "")
        parts += _text_displays(self.raw_components)
        return "\n".join(p for p in parts if p)

    def payload(self) -> dict[str, Any]:
        """The message object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.timestamp),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.raw_embeds,
            "components": self.raw_components,
            "pinned": self.pinned,
            "type": self.type,
            "flags": self.flags,
            "reactions": [
                {"emoji": _emoji_payload(k), "count": len(v), "me": False, "burst_count": 0}
                for k, v in self.reactions.items()
                if v
            ],
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.reference_id is not None:
            data["message_reference"] = {
                "message_id": str(self.reference_id),
                "channel_id": str(self.channel_id),
            }
        return data


def _text_displays(raw: Iterable[dict[str, Any]]) -> list[str]:
    """Text of Components-V2 text displays, depth first."""
    out: list[str] = []
    for node in raw:
        if node.get("type") == 10:
            out.append(node.get("content") or "")
        for key in ("components", "accessory", "component"):
            child = node.get(key)
            if isinstance(child, dict):
                out += _text_displays([child])
            elif isinstance(child, list):
                out += _text_displays(child)
    return out


def _emoji_payload(key: str) -> dict[str, Any]:
    """Render a stored reaction key (``name`` or ``name:id``) as an emoji object."""
    name, _, emoji_id = key.partition(":")
    return {"name": name, "id": emoji_id or None}


@dataclass(eq=False)
class ScheduledEvent:
    """A guild scheduled event; stored as the raw payload Discord would return."""

    id: int
    guild_id: int
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The scheduled event object."""
        return dict(self.data, id=str(self.id), guild_id=str(self.guild_id))


@dataclass(eq=False)
class Guild:
    """A guild with its roles, channels, members and scheduled events."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    bot_role_id: int | None = None
    #: user id -> voice state payload (members connected to a voice channel)
    voice_states: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        """The @everyone role (its id is the guild id)."""
        return self.roles[self.id]

    @property
    def bot_role(self) -> Role:
        """The bot's managed role."""
        assert self.bot_role_id is not None
        return self.roles[self.bot_role_id]

    def text_channels(self) -> list[Channel]:
        """Text channels by position."""
        chans = [c for c in self.channels.values() if c.type == ChannelType.TEXT]
        return sorted(chans, key=lambda c: c.position)

    def channel_named(self, name: str) -> Channel:
        """Look a channel up by name (KeyError when absent)."""
        for c in self.channels.values():
            if c.name == name:
                return c
        raise KeyError(name)

    def top_position(self, member: Member) -> int:
        """Position of the member's highest role (0 = only @everyone)."""
        return max((self.roles[r].position for r in member.roles if r in self.roles), default=0)

    def base_permissions(self, member: Member) -> int:
        """Guild-level permissions: @everyone | member roles; owner and admins get all."""
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for rid in member.roles:
            if rid in self.roles:
                perms |= self.roles[rid].permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def channel_permissions(self, member: Member, channel: Channel) -> int:
        """Discord's overwrite algorithm (threads inherit from their parent)."""
        perms = self.base_permissions(member)
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        target = channel
        if channel.is_thread and channel.parent_id in self.channels:
            target = self.channels[channel.parent_id]
        ows = {(o.type, o.id): o for o in target.overwrites}
        everyone = ows.get((0, self.id))
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for rid in member.roles:
            ow = ows.get((0, rid))
            if ow:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        mine = ows.get((1, member.id))
        if mine:
            perms = (perms & ~mine.deny) | mine.allow
        return perms

    def payload(self, bot_user_id: int) -> dict[str, Any]:
        """The GUILD_CREATE payload (full guild, members included)."""
        channels = [c for c in self.channels.values() if not c.is_thread]
        threads = [c for c in self.channels.values() if c.is_thread and not c.archived]
        me = self.members.get(bot_user_id)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.payload() for r in self.roles.values()],
            "channels": [c.payload() for c in channels],
            "threads": [c.payload() for c in threads],
            "members": [m.payload() for m in self.members.values()],
            "member_count": len(self.members),
            "presences": [],
            "voice_states": list(self.voice_states.values()),
            "stage_instances": [],
            "guild_scheduled_events": [e.payload() for e in self.scheduled_events.values()],
            "large": False,
            "unavailable": False,
            "joined_at": iso(me.joined_at if me else None),
            "max_members": 500000,
        }
