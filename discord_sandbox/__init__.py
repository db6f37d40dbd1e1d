"""Offline Discord emulator for tests and demos.

:class:`DiscordSandbox` starts a local REST + gateway server that an unmodified discord.py 2.7
client connects to, and offers helpers that act as Discord users (slash commands, clicks, modals,
chat) and record everything the bot did (messages, DMs, role changes, rate limits, errors).
"""

from .harness import DiscordSandbox
from .interactions import (
    InteractionNotAnswered,
    InteractionResult,
    InteractionTimeout,
    SandboxError,
)
from .state import (
    ADMINISTRATOR,
    DEFAULT_BOT_PERMISSIONS,
    MANAGE_ROLES,
    Attachment,
    Channel,
    ChannelType,
    Component,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    User,
)
from .world import DiscordError, RoleEvent

__all__ = [
    "ADMINISTRATOR",
    "DEFAULT_BOT_PERMISSIONS",
    "MANAGE_ROLES",
    "Attachment",
    "Channel",
    "ChannelType",
    "Component",
    "DiscordError",
    "DiscordSandbox",
    "Guild",
    "InteractionNotAnswered",
    "InteractionResult",
    "InteractionTimeout",
    "Member",
    "Message",
    "Overwrite",
    "Role",
    "RoleEvent",
    "SandboxError",
    "User",
]
