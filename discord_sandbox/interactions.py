"""Interactions: what the sandbox records about each one, and how it builds their payloads.

Slash commands are built from the bot's own ``app_commands`` tree: the command is looked up by its
qualified name (``"gems give"``) and keyword arguments are converted to options of the declared
types, with ``data.resolved`` filled for users, members, roles, channels and attachments.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from .state import Attachment, Channel, Component, Member, Message, Role, User

if TYPE_CHECKING:
    from .world import World

#: ``attachment_size_limit`` Discord sends for unboosted guilds (10 MiB).
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Interaction types.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Interaction callback (response) types.
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

EPHEMERAL = 1 << 6
LOADING = 1 << 7


class SandboxError(Exception):
    """Misuse of the sandbox, or an interaction that did not complete as expected."""


class InteractionNotAnswered(SandboxError):
    """The bot finished handling an interaction without ever responding to it."""


class InteractionTimeout(SandboxError):
    """The bot was still handling an interaction when the harness gave up waiting."""


@dataclass(eq=False)
class InteractionRecord:
    """Everything the sandbox saw for one interaction."""

    id: int
    token: str
    type: int
    user: User
    guild_id: int | None
    channel_id: int
    payload: dict[str, Any]
    dispatched_at: float
    #: The message a component/modal interaction came from (``@original`` for types 6/7).
    source_message_id: int | None = None
    answered_at: float | None = None
    response_type: int | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    loading: bool = False
    received: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the first callback (None while unanswered)."""
        return None if self.answered_at is None else self.answered_at - self.dispatched_at


@dataclass(frozen=True)
class DeadlineViolation:
    """An interaction whose first response came later than Discord's 3 seconds."""

    interaction_id: int
    name: str
    latency: float


class InteractionResult:
    """What a user would see after an interaction: the response message, followups, modal...

    Message attributes (``content``, ``embeds``, ``components``, ``files``, ``ephemeral``...)
    describe the *original response* in its latest version: the message sent by a type-4
    response (or the deferred message once edited), or for component interactions answered
    with types 6/7 the message the component belongs to.
    """

    def __init__(self, record: InteractionRecord, world: World) -> None:
        self.record = record
        self._world = world

    def __repr__(self) -> str:
        return (
            f"<InteractionResult id={self.record.id} type={self.response_type} "
            f"content={self.content!r} followups={len(self.record.followup_ids)}>"
        )

    @property
    def id(self) -> int:
        """The interaction id."""
        return self.record.id

    @property
    def response_type(self) -> int | None:
        """The first callback's type (4 message, 5 deferred, 6, 7, 8 choices, 9 modal)."""
        return self.record.response_type

    @property
    def deferred(self) -> bool:
        """True when the first response was a defer (types 5 or 6)."""
        return self.record.response_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def message(self) -> Message | None:
        """The original response message (latest version), if any."""
        if self.record.original_id is None:
            return None
        return self._get(self.record.original_id)

    @property
    def followups(self) -> list[Message]:
        """Followup messages, in the order they were sent (deleted ones included)."""
        return [self._get(i) for i in self.record.followup_ids]

    @property
    def messages(self) -> list[Message]:
        """The original response (if any) and the followups."""
        first = [self.message] if self.message is not None else []
        return first + self.followups

    @property
    def last(self) -> Message:
        """The most recent message of this interaction (the last followup, else original)."""
        msgs = self.messages
        if not msgs:
            raise SandboxError(f"interaction answered with type {self.response_type}, no message")
        return msgs[-1]

    @property
    def message_id(self) -> int | None:
        """Id of the original response message."""
        return self.record.original_id

    @property
    def content(self) -> str:
        """Content of the original response ('' when there is none)."""
        return self.message.content if self.message else ""

    @property
    def text(self) -> str:
        """Content plus embed text of the original response and all followups."""
        return "\n".join(m.text for m in self.messages if not m.deleted)

    @property
    def embeds(self) -> list[discord.Embed]:
        """Embeds of the original response."""
        return self.message.embeds if self.message else []

    @property
    def components(self) -> list[Component]:
        """Interactive components of the original response (flattened)."""
        return self.message.components if self.message else []

    @property
    def buttons(self) -> list[Component]:
        """Buttons of the original response."""
        return self.message.buttons if self.message else []

    @property
    def files(self) -> dict[str, bytes]:
        """Files attached to the original response, by filename."""
        return self.message.files if self.message else {}

    @property
    def ephemeral(self) -> bool:
        """Whether the original response is ephemeral."""
        return bool(self.message and self.message.ephemeral)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal opened by a type-9 response: ``{custom_id, title, components}``."""
        return self.record.modal

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (``[{name, value}]``) of a type-8 response."""
        return self.record.choices or []

    @property
    def errors(self) -> list[str]:
        """Tracebacks of errors the bot logged while handling this interaction."""
        return self.record.errors

    @property
    def latency(self) -> float | None:
        """Seconds until the first response."""
        return self.record.latency

    def _get(self, message_id: int) -> Message:
        for msgs in self._world.messages.values():
            if message_id in msgs:
                return msgs[message_id]
        raise SandboxError(f"message {message_id} not found")


def new_token() -> str:
    """An interaction token (opaque, URL-safe)."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(24)


# -- slash command lookup and option building ---------------------------------------------------

AnyCommand = app_commands.Command[Any, ..., Any] | app_commands.Group


def find_command(
    tree: app_commands.CommandTree[Any], qualified_name: str, guild_id: int | None
) -> list[AnyCommand]:
    """Resolve ``"group sub cmd"`` to the chain ``[root, ..., leaf]`` (guild first, then global)."""
    parts = qualified_name.split()
    if not parts:
        raise SandboxError("empty command name")
    root: AnyCommand | None = None
    if guild_id is not None:
        found = tree.get_command(parts[0], guild=discord.Object(guild_id))
        root = found if isinstance(found, app_commands.Command | app_commands.Group) else None
    if root is None:
        found = tree.get_command(parts[0])
        root = found if isinstance(found, app_commands.Command | app_commands.Group) else None
    if root is None:
        known = sorted(c.qualified_name for c in _all_commands(tree, guild_id))
        raise SandboxError(f"no slash command {parts[0]!r}; the tree has {known}")
    chain: list[AnyCommand] = [root]
    for part in parts[1:]:
        current = chain[-1]
        sub = current.get_command(part) if isinstance(current, app_commands.Group) else None
        if sub is None:
            raise SandboxError(f"{current.qualified_name!r} has no subcommand {part!r}")
        chain.append(sub)
    if isinstance(chain[-1], app_commands.Group):
        subs = [c.name for c in chain[-1].commands]
        raise SandboxError(f"{qualified_name!r} is a group; pick one of {subs}")
    return chain


def _all_commands(tree: app_commands.CommandTree[Any], guild_id: int | None) -> list[AnyCommand]:
    cmds: list[AnyCommand] = []
    guilds = [None] + ([discord.Object(guild_id)] if guild_id else [])
    for g in guilds:
        for c in tree.get_commands(guild=g, type=discord.AppCommandType.chat_input):
            if isinstance(c, app_commands.Group):
                cmds += [s for s in c.walk_commands() if isinstance(s, app_commands.Command)]
            elif isinstance(c, app_commands.Command):
                cmds.append(c)
    return cmds


def nest_options(
    chain: list[AnyCommand], leaf_options: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Wrap leaf options in subcommand(-group) options as Discord nests them."""
    options = leaf_options
    for depth in range(len(chain) - 1, 0, -1):
        node = chain[depth]
        kind = 2 if isinstance(node, app_commands.Group) else 1
        options = [{"type": kind, "name": node.name, "options": options}]
    return options


@dataclass
class OptionContext:
    """What option conversion needs from the sandbox."""

    world: World
    guild_id: int | None
    permissions_in: Callable[[Member], int]
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The invoking user's permissions in a given channel (for resolved channels).
    invoker_in: Callable[[Channel], int] | None = None

    def resolve(self, kind: str, key: int, data: dict[str, Any]) -> None:
        """Add an entry to ``data.resolved``."""
        self.resolved.setdefault(kind, {})[str(key)] = data


def build_options(
    command: app_commands.Command[Any, ..., Any],
    values: dict[str, Any],
    ctx: OptionContext,
    *,
    focused: str | None = None,
) -> list[dict[str, Any]]:
    """Convert keyword arguments to the leaf option payloads of ``command``.

    Keys may be a parameter's Python name or its display name. With ``focused`` (autocomplete)
    the focused option is sent as the raw string the user is typing.
    """
    params = {p.name: p for p in command.parameters}
    params.update({p.display_name: p for p in command.parameters})
    unknown = set(values) - set(params)
    if focused is not None and focused not in params:
        unknown.add(focused)
    if unknown:
        names = [p.display_name for p in command.parameters]
        raise SandboxError(
            f"/{command.qualified_name} has no option(s) {sorted(unknown)}; options are {names}"
        )
    out: list[dict[str, Any]] = []
    for key, value in values.items():
        param = params[key]
        if focused is not None and key == focused:
            out.append(
                {
                    "type": param.type.value,
                    "name": param.display_name,
                    "value": str(value),
                    "focused": True,
                }
            )
            continue
        out.append(
            {
                "type": param.type.value,
                "name": param.display_name,
                "value": _option_value(param.type, value, ctx),
            }
        )
    if focused is not None and focused not in values:
        param = params[focused]
        out.append(
            {"type": param.type.value, "name": param.display_name, "value": "", "focused": True}
        )
    missing = [
        p.display_name
        for p in command.parameters
        if p.required
        and p.name not in values
        and p.display_name not in values
        and focused not in (p.name, p.display_name)
    ]
    if missing and focused is None:
        raise SandboxError(f"/{command.qualified_name} requires option(s) {missing}")
    return out


def _option_value(kind: discord.AppCommandOptionType, value: Any, ctx: OptionContext) -> Any:
    t = discord.AppCommandOptionType
    if kind is t.string:
        return str(value)
    if kind is t.integer:
        # Numbers go out as given, so tests can send what a crafted payload would (1.5, 2**63)
        # and prove the bot validates them itself.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return int(value)
        return value
    if kind is t.number:
        return float(value)
    if kind is t.boolean:
        return bool(value)
    if kind in (t.user, t.mentionable) and isinstance(value, Member | User):
        return str(_resolve_user(value, ctx))
    if kind in (t.role, t.mentionable) and isinstance(value, Role):
        ctx.resolve("roles", value.id, value.payload())
        return str(value.id)
    if kind is t.channel and isinstance(value, Channel):
        data = value.payload()
        # Discord: "computed permissions for the invoking user in the channel, including
        # overwrites" (the channel object's `permissions`, sent in resolved data).
        data["permissions"] = str(ctx.invoker_in(value) if ctx.invoker_in else 0)
        ctx.resolve("channels", value.id, data)
        return str(value.id)
    if kind is t.attachment and isinstance(value, Attachment):
        ctx.resolve("attachments", value.id, value.payload())
        return str(value.id)
    raise SandboxError(f"cannot pass {value!r} as a {kind.name} option")


def _resolve_user(value: Member | User, ctx: OptionContext) -> int:
    user = value.user if isinstance(value, Member) else value
    ctx.resolve("users", user.id, user.payload())
    guild = ctx.world.guilds.get(ctx.guild_id) if ctx.guild_id else None
    member = guild.members.get(user.id) if guild else None
    if member is not None:
        data = member.payload(with_user=False)
        data["permissions"] = str(ctx.permissions_in(member))
        ctx.resolve("members", user.id, data)
    return user.id


def modal_submit_components(
    modal: dict[str, Any], values: dict[str, Any], resolved: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Build a modal-submit ``data.components`` tree mirroring the modal's own layout.

    ``values`` keys may be a field's custom_id or its label; a missing field is submitted as the
    user found it: its pre-filled ``value``, else empty.
    Select menus inside the modal take a list of values; a file upload takes a list of
    :class:`Attachment` (from :meth:`DiscordSandbox.attachment`), which go in ``resolved``.
    """
    used: set[str] = set()

    def answer(node: dict[str, Any], label: str | None) -> dict[str, Any] | None:
        custom_id = node.get("custom_id")
        if custom_id is None:
            return None
        key = next((k for k in (custom_id, node.get("label"), label) if k in values), None)
        if key is not None:
            used.add(key)
        value = values.get(key) if key is not None else None
        if node.get("type") == 4:
            # A field the user leaves alone is submitted with what it was pre-filled with.
            text = str(node.get("value") or "") if key is None else "" if value is None else str(value)
            _check_text_input(node, text)
            return {"type": 4, "custom_id": custom_id, "value": text}
        picked = value if isinstance(value, list | tuple) else ([] if value is None else [value])
        if node.get("type") == FILE_UPLOAD:
            return {"type": FILE_UPLOAD, "custom_id": custom_id,
                    "values": _uploaded(node, list(picked), resolved)}
        return {"type": node["type"], "custom_id": custom_id, "values": [str(v) for v in picked]}

    out: list[dict[str, Any]] = []
    for top in modal.get("components", []):
        if top.get("type") == 1:
            row = [a for c in top.get("components", []) if (a := answer(c, None))]
            out.append({"type": 1, "components": row})
        elif top.get("type") == 18:
            inner = answer(top.get("component", {}), top.get("label"))
            if inner is not None:
                out.append({"type": 18, "component": inner})
        else:
            leaf = answer(top, None)
            if leaf is not None:
                out.append(leaf)
    unknown = set(values) - used
    if unknown:
        raise SandboxError(f"modal {modal.get('title')!r} has no field(s) {sorted(unknown)}")
    return out


FILE_UPLOAD = 19


def _uploaded(node: dict[str, Any], files: list[Any], resolved: dict[str, Any] | None) -> list[str]:
    """A file upload's submitted ids; the files go in ``resolved.attachments``.

    Discord's client submits between ``min_values`` (default 1; 0 when not required) and
    ``max_values`` (default 1) files.
    """
    label = node.get("custom_id")
    if any(not isinstance(f, Attachment) for f in files):
        raise SandboxError(f"file upload {label!r} takes sandbox attachments (sb.attachment(...))")
    required = node.get("required", True)
    least = node.get("min_values", 1) if required else 0
    most = node.get("max_values", 1)
    if not least <= len(files) <= most:
        raise SandboxError(f"file upload {label!r} takes {least}-{most} files; Discord would not "
                           f"submit {len(files)}")
    for f in files:
        if resolved is not None:
            resolved.setdefault("attachments", {})[str(f.id)] = f.payload()
    return [str(f.id) for f in files]


def _check_text_input(node: dict[str, Any], text: str) -> None:
    """Discord's client does not let a user submit a text input outside its limits."""
    label = node.get("label") or node.get("custom_id")
    required = node.get("required", True)
    if not text and required:
        raise SandboxError(f"text input {label!r} is required; Discord would not submit it empty")
    if len(text) > node.get("max_length", 4000):
        raise SandboxError(f"text input {label!r} allows at most {node.get('max_length', 4000)} characters")
