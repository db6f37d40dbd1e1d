"""Activity earning: members earn GEMS for chatting, with writes coalesced in memory.

Each qualifying message adds to an in-memory accumulator; `flush()` writes everything pending
in one transaction per guild (one bulk write of balances plus the ledger entries). A pending batch
keeps its key until it is written, so a retried flush never credits twice. `flush()` runs on an
interval and on shutdown, so a clean stop loses nothing; a crash loses at most one interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from economy.boosts.service import NO_BOOST, BoostService
from economy.core.clock import Clock
from economy.core.eligibility import not_established_reason
from economy.core.ledger import EarnSegment, LedgerService
from economy.core.settings import SettingsService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatMessage:
    """The facts about a Discord message that earning rules need."""

    guild_id: int
    user_id: int
    channel_id: int
    role_ids: frozenset[int]
    content: str
    author_is_bot: bool
    at: datetime
    #: When the author joined the guild (None when unknown: only the account age is checked).
    joined_at: datetime | None = None


REPEAT_MEMORY_MAX = 50  # the most a guild may set `activity_repeat_memory` to


@dataclass
class _Member:
    last_earned_at: datetime | None = None
    recent: deque[bytes] = field(default_factory=lambda: deque(maxlen=REPEAT_MEMORY_MAX))


class ActivityService:
    """Decides which messages earn, accumulates earnings and flushes them to the ledger."""

    def __init__(self, ledger: LedgerService, settings: SettingsService, clock: Clock,
                 *, boosts: BoostService | None = None) -> None:
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._boosts = boosts
        self._members: dict[tuple[int, int], _Member] = defaultdict(_Member)
        # Base amounts per (member, factor captured when the message was sent), so a flush after
        # a boost began or ended still pays each message at its own factor.
        self._pending: dict[int, dict[EarnSegment, int]] = defaultdict(lambda: defaultdict(int))
        # Batches taken out of `_pending` but not yet confirmed written, by guild: (key, amounts).
        self._inflight: dict[int, tuple[str, dict[EarnSegment, int]]] = {}
        self._flush_lock = asyncio.Lock()
        self.messages_seen = 0
        self.messages_earning = 0

    async def record(self, message: ChatMessage) -> int:
        """Count a message; returns the GEMS it earned (0 when a rule says no).

        Raises: nothing expected.
        """
        self.messages_seen += 1
        if message.author_is_bot:
            return 0
        settings = await self._settings.get(message.guild_id)
        if settings.activity_amount <= 0:
            return 0
        if message.channel_id in settings.activity_excluded_channels:
            return 0
        if message.role_ids & set(settings.activity_excluded_roles):
            return 0
        text = " ".join(message.content.split()).casefold()
        if len(text) < settings.activity_min_length:
            return 0
        if not_established_reason(settings, message.user_id, message.joined_at, message.at):
            return 0  # brand-new accounts and members don't earn (alt farming)
        member = self._members[(message.guild_id, message.user_id)]
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        recent = itertools.islice(reversed(member.recent), settings.activity_repeat_memory)
        if digest in recent:
            return 0  # one of the member's last K messages again earns nothing (spam / macros)
        member.recent.append(digest)
        cooldown = timedelta(seconds=settings.activity_cooldown_seconds)
        if member.last_earned_at and message.at - member.last_earned_at < cooldown:
            return 0
        member.last_earned_at = message.at
        applied = (await self._boosts.applied(message.guild_id, message.at, "activity",
                                              message.role_ids)
                   if self._boosts else NO_BOOST)
        segment = EarnSegment(message.user_id, applied.factor_bps, applied.boost_ids)
        self._pending[message.guild_id][segment] += settings.activity_amount
        self.messages_earning += 1
        return settings.activity_amount

    def pending_total(self) -> int:
        """GEMS earned but not yet written (base amounts)."""
        queued = sum(sum(users.values()) for users in self._pending.values())
        return queued + sum(sum(amounts.values()) for _, amounts in self._inflight.values())

    async def flush(self) -> int:
        """Write all pending earnings; returns the GEMS credited. Failed guilds stay pending.

        Raises: OutcomeUnknown.
        """
        async with self._flush_lock:
            for guild_id, users in list(self._pending.items()):
                if guild_id in self._inflight:
                    continue  # merge after the in-flight batch is written
                self._inflight[guild_id] = (f"activity:{uuid.uuid4().hex}", dict(users))
                del self._pending[guild_id]
            credited = 0
            for guild_id, (key, amounts) in list(self._inflight.items()):
                try:
                    credited += await self._ledger.earn_batch(guild_id, amounts, batch_key=key)
                except Exception:
                    log.exception("activity flush failed for guild %s; will retry", guild_id)
                    continue
                del self._inflight[guild_id]
            return credited
