"""Guild-scoped Discord work (announcements, DMs, role edits) run by the process that owns the
guild's shard.

With one process (the default) every guild is local and work runs at once. With several processes
(SHARD_IDS), the scheduler leader hands work for other processes' guilds to them through the
`outbox` collection: one item per run-once key, claimed by an owner with a guarded update, run at
most once, its outcome recorded. Each process polls the outbox for its own shards
(OUTBOX_POLL_SECONDS). Work for a guild whose feature is switched off (/settings modules) is skipped.

Payloads are plain documents; `encode`/`decode` turn the features' notices (dataclasses and
pydantic models) into documents and back, so a feature routes its notices without a codec.
"""

from __future__ import annotations

import dataclasses
import logging
import types
import typing
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from economy.core.clock import from_ms, span_ms, to_ms
from economy.core.modules import ModuleService
from economy.repos.outbox_repo import OutboxRepo

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[object]]
KEEP_DONE_MS = span_ms(timedelta(days=7))
LOST_AFTER_MS = span_ms(timedelta(hours=1))  # a Discord post or DM never takes an hour


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's shard formula."""
    return (guild_id >> 22) % max(1, shard_count)


@dataclasses.dataclass(frozen=True)
class Route:
    """A kind of guild work: its feature (for /settings modules) and the coroutine that performs it.

    With `notice_type`, the handler takes that notice object (rebuilt from the queued document);
    without it, the plain payload document.
    """

    feature: str
    handler: Callable[[Any], Awaitable[object]]
    notice_type: type | None = None


class GuildWork:
    """Runs guild work locally when this process owns the guild, else queues it for the owner."""

    def __init__(self, bot: Any, outbox: OutboxRepo, modules: ModuleService, *,
                 owner: Callable[[], str]) -> None:
        self._bot = bot
        self._outbox = outbox
        self._modules = modules
        self._owner = owner
        self.routes: dict[str, Route] = {}
        self.ran_here = 0  # items this process performed (local or claimed)

    def register(self, kind: str, feature: str, handler: Callable[[Any], Awaitable[object]], *,
                 notice_type: type | None = None) -> None:
        """Declare how `kind` work is performed (feature packages call this in `setup(bot)`).

        `notice_type` (a dataclass or pydantic model): the handler receives that notice.
        """
        if kind in self.routes:
            raise ValueError(f"guild work {kind!r} is already registered")
        self.routes[kind] = Route(feature, handler, notice_type)

    async def hand_over(self, kind: str, guild_id: int, notice: Any, *, key: str | None = None,
                        ) -> str:
        """Deliver a sweep's notice on the process owning `guild_id` (see `submit`).

        `key` names the notice for run-once queueing; by default every call is a new item (the
        sweep's own guarded claim already made the notice unique).
        """
        route = self.routes[kind]
        if route.notice_type is None:
            raise ValueError(f"guild work {kind!r} takes payloads, not notices")
        if not await self._modules.enabled(guild_id, route.feature):
            return "skipped"
        if self.owns(guild_id):
            self.ran_here += 1
            await route.handler(notice)
            return "ran"
        return await self.submit(kind, guild_id, key or uuid.uuid4().hex, encode(notice),
                                 token=self._bot.jobs.lease.token)

    # -- ownership -------------------------------------------------------------------------------

    def _shard_count(self) -> int:
        return int(self._bot.shard_count or 1)

    def local_shards(self) -> list[int]:
        """The shards this process runs."""
        ids = self._bot.shard_ids
        return list(ids) if ids else list(range(self._shard_count()))

    async def local_guilds(self, feature: str) -> list[Any]:
        """The guilds this process serves where `feature` is on (per-process guild sweeps)."""
        return [guild for guild in list(self._bot.guilds)
                if await self._modules.enabled(guild.id, feature)]

    def owns(self, guild_id: int) -> bool:
        """True when this process runs the shard that serves `guild_id`."""
        return shard_of(guild_id, self._shard_count()) in self.local_shards()

    # -- submitting ------------------------------------------------------------------------------

    async def submit(self, kind: str, guild_id: int, key: str, payload: dict[str, Any], *,
                     token: int | None = None) -> str:
        """Perform `kind` for `guild_id` here, or queue it for the owning process.

        `key` is the work's run-once key (the same key is queued at most once). Returns
        "ran", "queued", "duplicate" or "skipped" (the feature is off in that guild).
        """
        route = self.routes[kind]
        if not await self._modules.enabled(guild_id, route.feature):
            return "skipped"
        if self.owns(guild_id):
            await self._perform(kind, route, payload)
            return "ran"
        queued = await self._outbox.enqueue(
            f"{kind}:{key}", guild_id=guild_id, shard=shard_of(guild_id, self._shard_count()),
            kind=kind, payload=payload, now_ms=_now_ms(self._bot), token=token)
        return "queued" if queued else "duplicate"

    async def _perform(self, kind: str, route: Route, payload: dict[str, Any]) -> None:
        self.ran_here += 1
        if route.notice_type is not None:
            await route.handler(decode(route.notice_type, payload))
        else:
            await route.handler(payload)

    # -- polling (every process, for its own shards) ---------------------------------------------

    async def poll(self) -> int:
        """Claim and run the pending items of this process's shards; returns how many ran."""
        ran = 0
        for shard in self.local_shards():
            for item in await self._outbox.pending(shard):
                ran += await self._run_item(item)
        return ran

    async def prune(self) -> int:
        """Forget finished items older than a week and mark items whose process died while
        running them as lost (a leader job)."""
        now = _now_ms(self._bot)
        for key in await self._outbox.mark_lost(now - LOST_AFTER_MS):
            log.warning("guild work %s was lost: its process stopped while running it", key)
        return await self._outbox.prune(now - KEEP_DONE_MS)

    async def _run_item(self, item: dict[str, Any]) -> int:
        owner = self._owner()
        if not await self._outbox.claim(item["_id"], owner, _now_ms(self._bot)):
            return 0  # another process of this shard took it
        route = self.routes.get(item["kind"])
        ok, error = True, ""
        try:
            if route is None:
                ok, error = False, f"no handler for {item['kind']!r} in this process"
            elif await self._modules.enabled(int(item["guild_id"]), route.feature):
                await self._perform(item["kind"], route, item.get("payload") or {})
            else:
                error = "feature switched off"
        except Exception as exc:  # the item is not retried: announcements are at most once
            ok, error = False, f"{type(exc).__name__}: {exc}"
            log.warning("guild work %s failed: %s", item["_id"], error)
        await self._outbox.finish(item["_id"], owner, _now_ms(self._bot), ok=ok, error=error)
        return 1 if ok else 0


def _now_ms(bot: Any) -> int:
    return to_ms(bot.services.clock.now())


# -- payload codec for notices (dataclasses and pydantic models) -----------------------------------

def encode(obj: Any) -> Any:
    """A BSON-friendly document for a notice (nested dataclasses/pydantic models, datetimes as
    epoch-ms)."""
    if isinstance(obj, BaseModel):
        return encode(obj.model_dump(mode="python"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return {"__ms__": to_ms(obj)}
    if isinstance(obj, list | tuple):
        return [encode(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): encode(v) for k, v in obj.items()}
    return obj


def decode(cls: type, data: Any) -> Any:
    """Rebuild a notice of type `cls` from `encode`'s document."""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return cls.model_validate(_plain(data))
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _decode(hints.get(f.name, Any), data[f.name])
    return cls(**values)


def _plain(value: Any) -> Any:
    """Datetimes back from epoch-ms (pydantic validates the rest)."""
    if isinstance(value, dict):
        if set(value) == {"__ms__"}:
            return from_ms(value["__ms__"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_notice_type(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint) or (isinstance(hint, type) and issubclass(hint, BaseModel))


def _decode(hint: Any, value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__ms__"}:
        return from_ms(value["__ms__"])
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if _is_notice_type(hint) and isinstance(value, dict):
        return decode(hint, value)
    if origin in (typing.Union, types.UnionType) and args:
        for arg in args:
            if _is_notice_type(arg) and isinstance(value, dict):
                return decode(arg, value)
        return value
    if origin in (tuple, list) and isinstance(value, list):
        if origin is tuple and len(args) > 1 and Ellipsis not in args:
            return tuple(_decode(a, v) for a, v in zip(args, value, strict=False))
        inner = args[0] if args else Any
        items = [_decode(inner, v) for v in value]
        return tuple(items) if origin is tuple else items
    return _plain(value)
