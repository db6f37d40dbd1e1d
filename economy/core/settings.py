"""Per-guild settings: string parsing for `/settings set`, and the service that stores them.

The model (`GuildSettings`) is composed from the features' settings sections in
economy/registry.py. Only values an admin changed are stored; everything else comes from the
sections' defaults, so a new default reaches every guild that never touched it.
"""

from __future__ import annotations

import asyncio
import re
import time
import types
import typing
from datetime import datetime
from typing import Any

import emoji
from pydantic import ValidationError

from economy.core.actor import Actor
from economy.core.clock import Clock
from economy.core.errors import InvalidInput, NotFound
from economy.core.sections import MAX_AMOUNT, Section
from economy.core.text import strip_invisible
from economy.registry import GuildSettings, settings_sections
from economy.repos.settings_repo import SettingsRepo

__all__ = ["MAX_AMOUNT", "GuildSettings", "Section", "SettingsService", "settings_sections"]

#: Anything shaped like a Stripe secret: it belongs in the environment, never in guild settings.
_STRIPE_SECRET = re.compile(r"(?:sk|rk)_(?:live|test)_\w{6,}|whsec_\w{6,}")

SETTING_KEYS: tuple[str, ...] = tuple(GuildSettings.model_fields)


def _kind(key: str) -> str:
    """How `/settings set` reads a key's text, from its type: id, ids, names or plain."""
    annotation = GuildSettings.model_fields[key].annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list:
        return "ids" if args and args[0] is int else "names"
    if isinstance(annotation, types.UnionType) and int in args and key.endswith("_id"):
        return "id"
    return "plain"


_KINDS = {key: _kind(key) for key in SETTING_KEYS}
_NONE_WORDS = {"none", "off", "-", "clear", "null"}


def describe(key: str) -> str:
    """The one-line help text of a setting."""
    field = GuildSettings.model_fields[key]
    return field.description or key


def parse_value(key: str, raw: str) -> Any:
    """Turn the text an admin typed into a validated value for `key`.

    Accepts Discord mentions for ids (`<@&123>`, `<#456>`), comma-separated id lists,
    `none` to clear optional values, and yes/no for booleans. Raises InvalidInput.
    """
    if key not in GuildSettings.model_fields:
        raise NotFound(f"There is no setting called `{key}`. Use `/settings view` to see them all.")
    text = raw.strip()
    if _STRIPE_SECRET.search(text):
        # Never echoed back or stored: a pasted key would sit in the settings history.
        raise InvalidInput("That looks like a Stripe secret key. Stripe keys belong in the bot's "
                           "environment (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET), not in server "
                           "settings; nothing was saved. Roll the key in Stripe if others saw it.")
    value: Any = text
    kind = _KINDS[key]
    if kind == "id":
        value = None if text.lower() in _NONE_WORDS else _parse_id(key, text)
    elif kind == "names":
        is_none = text.lower() in _NONE_WORDS or not text
        value = [] if is_none else [part for part in re.split(r"\s*,\s*", text) if part]
    elif kind == "ids":
        if text.lower() in _NONE_WORDS or not text:
            value = []
        else:
            value = [_parse_id(key, part) for part in re.split(r"[\s,]+", text) if part]
    if key in ("currency_emoji", "currency_name"):
        _check_public_text(key, text)
    try:
        current = GuildSettings()
        setattr(current, key, value)
        return getattr(current, key)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"`{text[:100]}` is not a valid value for `{key}`: {reason}.") from None


_CUSTOM_EMOJI = re.compile(r"<a?:[A-Za-z0-9_]{2,32}:\d{15,21}>")
# Shown publicly beside every amount: no pings, markdown, links or line breaks.
_CURRENCY_NAME = re.compile(r"[^\n\r@<>*_~`|\\#\[\]():/]+")


def _check_public_text(key: str, text: str) -> None:
    """Settings shown publicly (beside every amount) must be what they claim to be.

    Checked when a value is set, not in the model: a value stored by an older version must keep
    loading (a model error would break every command of that server).
    """
    if key == "currency_emoji" and not (_CUSTOM_EMOJI.fullmatch(text) or emoji.is_emoji(text)):
        raise InvalidInput(
            f"`{text[:100]}` is not a valid value for `currency_emoji`: it must be one emoji, "
            "e.g. 💎, or one of this server's emojis (type it as :name: so Discord sends "
            "<:name:id>).")
    if key == "currency_name" and (
            strip_invisible(text) != text or not _CURRENCY_NAME.fullmatch(text)):
        raise InvalidInput(
            f"`{text[:100]}` is not a valid value for `currency_name`: use letters, digits, "
            "spaces and simple punctuation (no @, markdown, links or invisible characters).")


def _parse_id(key: str, text: str) -> int:
    match = re.fullmatch(r"<(?:@&|@!?|#)(\d{1,20})>|(\d{1,20})", text.strip())
    if not match:
        raise InvalidInput(f"`{text[:100]}` is not a valid value for `{key}`: expected an id or a mention.")
    return int(match.group(1) or match.group(2))


class SettingsService:
    """Reads and changes guild settings, recording who changed what.

    Settings are read by nearly every command, so they are cached per guild: a cached copy is
    served as is for `FRESH_SECONDS`, then revalidated by the document's version stamp (a change
    made by another process on the same MongoDB bumps it); only a changed stamp costs a new
    parse. Concurrent misses for one guild share one read (a burst of commands after a start
    makes one query, not a thousand). `set` drops this process's copy at once.
    """

    FRESH_SECONDS = 2.0

    def __init__(self, repo: SettingsRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        #: guild -> (monotonic time checked, version stamp, settings)
        self._cache: dict[int, tuple[float, int, GuildSettings]] = {}
        self._loading: dict[int, asyncio.Future[GuildSettings]] = {}
        #: Bumped by `set`/`invalidate`: a read that started before a change must not be cached.
        self._generation: dict[int, int] = {}
        #: How many times the store was read (tests and the bench count round trips).
        self.reads = 0

    async def get(self, guild_id: int) -> GuildSettings:
        """The effective settings of a guild (defaults plus stored overrides).

        Raises: nothing expected.
        """
        cached = self._cache.get(guild_id)
        if cached and time.monotonic() - cached[0] < self.FRESH_SECONDS:
            return cached[2]
        pending = self._loading.get(guild_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[GuildSettings] = asyncio.get_running_loop().create_future()
        self._loading[guild_id] = future
        try:
            settings = await self._load(guild_id, cached)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here: waiters (if any) get it re-raised
            raise
        else:
            future.set_result(settings)
            return settings
        finally:
            if self._loading.get(guild_id) is future:
                del self._loading[guild_id]

    async def _load(self, guild_id: int, cached: tuple[float, int, GuildSettings] | None) -> GuildSettings:
        self.reads += 1
        generation = self._generation.get(guild_id, 0)
        version, overrides = await self._repo.versioned(guild_id)
        if cached and cached[1] == version and guild_id in self._cache:
            settings = cached[2]  # unchanged: no parse
        else:
            settings = GuildSettings.model_validate(overrides)
        if self._generation.get(guild_id, 0) == generation:
            self._cache[guild_id] = (time.monotonic(), version, settings)
        return settings

    async def set(self, guild_id: int, actor: Actor, key: str, raw: str) -> tuple[Any, Any]:
        """Validate and store one setting (admins of the guild only); returns (old, new).

        A value equal to the current one is not written: the history records only real changes.

        Raises: NotPermitted (not an admin of the guild), NotFound, InvalidInput.
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        new = parse_value(key, raw)
        old = getattr(await self.get(guild_id), key)
        if new == old:
            return old, new
        default = GuildSettings.model_fields[key].get_default(call_default_factory=True)
        await self._repo.change(
            guild_id, key, new, old=old, actor_id=actor_id, at=self._clock.now(),
            is_default=new == default,
        )
        self.invalidate(guild_id)
        return old, new

    async def history(self, guild_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
        """The latest setting changes, newest first.

        Raises: nothing expected.
        """
        return await self._repo.history(guild_id, limit=limit)

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached settings of a guild (and any read of them still under way)."""
        self._cache.pop(guild_id, None)
        self._generation[guild_id] = self._generation.get(guild_id, 0) + 1
        self._loading.pop(guild_id, None)


def format_value(value: Any) -> str:
    """Render a setting value for display."""
    if value is None:
        return "not set"
    if isinstance(value, bool):  # admins type on/off; show the same words back
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
