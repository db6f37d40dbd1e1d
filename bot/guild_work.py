"""Guild-scoped Discord work (announcements, DMs, role edits) run by the process that owns the
guild's shard.

With one process (the default) every guild is local and work runs at once. With several processes
(SHARD_IDS), the scheduler leader hands work for other processes' guilds to them through the
`outbox` collection: one item per run-once key, claimed by an owner with a guarded update, run at
most once, its outcome recorded. Each process polls the outbox for its own shards
(OUTBOX_POLL_SECONDS). Work for a guild whose feature is switched off (/modules) is skipped.

Payloads are plain documents; `dataclass_payload`/`from_payload` turn the features' notice
dataclasses into documents and back, so a feature routes its notices without writing a codec.
"""

from __future__ import annotations

import dataclasses
import logging
import typing
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from economy.modules import ModuleService
from economy.repos.outbox_repo import OutboxRepo

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[object]]


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's shard formula."""
    return (guild_id >> 22) % max(1, shard_count)


@dataclasses.dataclass(frozen=True)
class Route:
    """A kind of guild work: its feature (for /modules) and the coroutine that performs it."""

    feature: str
    handler: Handler


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

    def register(self, kind: str, feature: str, handler: Handler) -> None:
        """Declare how `kind` work is performed (feature packages call this in `setup(bot)`)."""
        if kind in self.routes:
            raise ValueError(f"guild work {kind!r} is already registered")
        self.routes[kind] = Route(feature, handler)

    # -- ownership -------------------------------------------------------------------------------

    def _shard_count(self) -> int:
        return int(self._bot.shard_count or 1)

    def local_shards(self) -> list[int]:
        """The shards this process runs."""
        ids = self._bot.shard_ids
        return list(ids) if ids else list(range(self._shard_count()))

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
        await route.handler(payload)

    # -- polling (every process, for its own shards) ---------------------------------------------

    async def poll(self) -> int:
        """Claim and run the pending items of this process's shards; returns how many ran."""
        ran = 0
        for shard in self.local_shards():
            for item in await self._outbox.pending(shard):
                ran += await self._run_item(item)
        return ran

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
    return int(bot.services.clock.now().timestamp() * 1000)


# -- payload codec for notice dataclasses ----------------------------------------------------------

def dataclass_payload(obj: Any) -> Any:
    """A BSON-friendly document for a (nested) dataclass; datetimes become epoch-ms."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: dataclass_payload(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return {"__ms__": int(obj.timestamp() * 1000)}
    if isinstance(obj, list | tuple):
        return [dataclass_payload(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): dataclass_payload(v) for k, v in obj.items()}
    return obj


def from_payload(cls: type, data: Any) -> Any:
    """Rebuild a dataclass of type `cls` from `dataclass_payload`'s document."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _decode(hints.get(f.name, Any), data[f.name])
    return cls(**values)


def _decode(hint: Any, value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__ms__"}:
        return datetime.fromtimestamp(value["__ms__"] / 1000, UTC)
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_payload(hint, value)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and args:
        for arg in args:
            if dataclasses.is_dataclass(arg) and isinstance(value, dict):
                return from_payload(arg, value)
        return value
    if origin in (tuple, list) and isinstance(value, list):
        inner = args[0] if args else Any
        items = [_decode(inner, v) for v in value]
        return tuple(items) if origin is tuple else items
    return value
