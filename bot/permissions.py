"""The one definition of the Discord permissions GEMS needs, and its invite link.

Every place that names the bot's permissions reads them from `NEEDS`: `./gems invite`, the invite
URL the bot logs when it is in no server, `./gems doctor --connect`'s checks, the welcome message
and (checked by tests/bot/test_permissions.py) the README. Each permission is listed with the feature that uses it
and the channels where that use happens (settings keys), so `doctor` checks it where it matters.

Only what the features call is asked for: the bot never creates channels, deletes or reacts to
members' messages, or reads message history (it edits its own messages by id), so Manage
Channels, Manage Messages, Add Reactions and Read Message History are not requested.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import discord

#: Scopes of the invite: the bot user, and the right to register slash commands.
SCOPES = ("bot", "applications.commands")

#: Every channel key in the guild settings (`*_channel_id`) counts for "every channel".
EVERY_CHANNEL = ("*",)


@dataclass(frozen=True)
class Need:
    """One permission: its discord.py flag, its name in Discord's UI, why GEMS needs it, and
    where (settings keys of channels; `EVERY_CHANNEL`; empty = server-wide, on the bot's role)."""

    flag: str
    label: str
    why: str
    channels: tuple[str, ...] = ()


_ROOMS = ("trade_channel_id", "mentorship_channel_id")
_IMAGES = ("marketplace_channel_id", "marketplace_queue_channel_id", "dispute_channel_id",
           "challenge_gallery_channel_id", "guides_channel_id")

NEEDS: tuple[Need, ...] = (
    Need("view_channel", "View Channels", "see the channels it posts in and the chat that earns "
         "GEMS", EVERY_CHANNEL),
    Need("send_messages", "Send Messages", "announcements, cards and the welcome", EVERY_CHANNEL),
    Need("embed_links", "Embed Links", "every card is an embed", EVERY_CHANNEL),
    Need("attach_files", "Attach Files", "listing photos, challenge cards, charts, guide images",
         _IMAGES),
    Need("send_messages_in_threads", "Send Messages in Threads",
         "trade and mentorship rooms, guide posts in a forum", (*_ROOMS, "guides_channel_id")),
    Need("create_private_threads", "Create Private Threads",
         "a private room per trade and per mentorship", _ROOMS),
    Need("manage_threads", "Manage Threads", "lock a settled trade's room", _ROOMS),
    Need("pin_messages", "Pin Messages", "pin the goals card in a mentorship room",
         ("mentorship_channel_id",)),
    Need("manage_roles", "Manage Roles", "event, season, mentor-level and NFT-holder roles "
         "(the bot's role must sit above the roles it gives)"),
    Need("create_events", "Create Events", "mirror community events as Discord scheduled events"),
)


#: A bot token: three dot-separated base64url parts, the first the application id (base64).
TOKEN_SHAPE = re.compile(r"^([A-Za-z0-9_-]{17,40})\.([A-Za-z0-9_-]{4,10})\.([A-Za-z0-9_-]{20,})$")


def application_id_from_token(token: str) -> int | None:
    """The application id a bot token's first part encodes (None: not a token's shape)."""
    match = TOKEN_SHAPE.match(token.strip())
    if not match:
        return None
    head = match.group(1)
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


def invite_permissions() -> discord.Permissions:
    """The permission set of the invite link (exactly `NEEDS`)."""
    return discord.Permissions(**{need.flag: True for need in NEEDS})


def invite_url(client_id: int) -> str:
    """The OAuth2 link that adds the bot with `SCOPES` and exactly the permissions it needs."""
    return discord.utils.oauth_url(client_id, permissions=invite_permissions(), scopes=SCOPES)


def permission_labels() -> list[str]:
    """The permissions as Discord's server settings name them, in `NEEDS` order."""
    return [need.label for need in NEEDS]


def labels_sentence() -> str:
    """`View Channels, Send Messages, ... and Create Events`."""
    labels = permission_labels()
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def channel_needs(key: str) -> tuple[str, ...]:
    """The flags the bot needs in the channel configured under settings key `key`."""
    return tuple(need.flag for need in NEEDS
                 if need.channels == EVERY_CHANNEL or key in need.channels)


def server_needs() -> tuple[Need, ...]:
    """The permissions checked on the bot's role for the whole server (not per channel)."""
    return tuple(need for need in NEEDS if not need.channels)
