"""`/gems-admin member`: what staff see about one member, composed in one place.

A moderator or admin gets the member's balance, recent ledger entries, trades, disputes, flags
and linked wallets in one private answer. The Discord group is hidden from members by
`default_permissions`; this service checks the viewer again (a server can re-assign the group
under Integrations, and the staff roles are GEMS settings Discord does not know).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms
from economy.core.errors import InvalidInput
from economy.core.ledger import LedgerService
from economy.core.models import Account, LedgerEntry, is_system
from economy.core.settings import GuildSettings, SettingsService
from economy.nft.wallet_repo import WalletRepo
from economy.repos.member_repo import MemberRepo
from economy.trades.models import Trade
from economy.trades.repo import TradeRepo

#: Rows of each list shown (the answer is one embed; the member's own commands page further).
RECENT = 10
#: Stored moderator flags (`member_quotas` buckets claimed when a flag is raised) and their text.
STORED_FLAGS = {"flag:fan-in": "Received GEMS from several young accounts within 24 h"}
DISPUTE_STATUSES = ["disputed", "resolved"]


@dataclass(frozen=True)
class MemberFlag:
    """Something moderators were told about the member, and when (None: now, computed)."""

    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class MemberReview:
    """Everything staff see about one member."""

    user_id: int
    account: Account
    rank: int | None
    entries: tuple[LedgerEntry, ...]
    entry_count: int
    trades: tuple[Trade, ...]
    disputes: tuple[Trade, ...]
    flags: tuple[MemberFlag, ...]
    wallets: tuple[str, ...]


class MemberReviewService:
    """Composes a member's review from the ledger, trades, flags and wallets."""

    def __init__(self, ledger: LedgerService, trades: TradeRepo, members: MemberRepo,
                 wallets: WalletRepo, settings: SettingsService, clock: Clock) -> None:
        self._ledger = ledger
        self._trades = trades
        self._members = members
        self._wallets = wallets
        self._settings = settings
        self._clock = clock

    async def review(self, guild_id: int, actor: Actor, user_id: int) -> MemberReview:
        """The member's review for a moderator or admin of the guild; NotPermitted for anyone
        else (the Actor's flags come from Discord's permissions and the configured admin and
        moderator roles, decided once at the edge).

        Raises: InvalidInput, NotPermitted.
        """
        actor.require_moderator(guild_id, "Only moderators and admins can look at a member's records.")
        settings = await self._settings.get(guild_id)
        if is_system(user_id):
            raise InvalidInput("That account is not a member (the treasury or a deleted member).")
        account, rank = await self._ledger.account_and_rank(guild_id, user_id)
        history = await self._ledger.history(guild_id, user_id, page_size=RECENT)
        trades = [Trade.model_validate(d) for d in
                  await self._trades.for_member(guild_id, user_id, None, limit=25)]
        disputes = [Trade.model_validate(d) for d in await self._trades.for_member(
            guild_id, user_id, DISPUTE_STATUSES, limit=RECENT)]
        wallets = [d["address"] for d in await self._wallets.of_member(guild_id, user_id)
                   if d.get("address")]
        flags = await self._stored_flags(guild_id, user_id)
        flags += self._pair_flags(user_id, trades, settings)
        return MemberReview(
            user_id=user_id, account=account, rank=rank, entries=history.rows,
            entry_count=history.total, trades=tuple(trades[:RECENT]),
            disputes=tuple(d for d in disputes if d.dispute), flags=tuple(flags),
            wallets=tuple(wallets))

    async def _stored_flags(self, guild_id: int, user_id: int) -> list[MemberFlag]:
        found = []
        for bucket, text in STORED_FLAGS.items():
            last_ms = await self._members.last_claim(guild_id, user_id, bucket)
            if last_ms:
                found.append(MemberFlag(text=text, at=from_ms(last_ms)))
        return found

    def _pair_flags(self, user_id: int, trades: list[Trade],
                    settings: GuildSettings) -> list[MemberFlag]:
        """Repeated trades with one partner (the wash-trading flag), from the recent trades."""
        since = self._clock.now() - timedelta(days=settings.escrow_wash_trade_days)
        partners = Counter(
            t.seller_id if t.buyer_id == user_id else t.buyer_id for t in trades
            if t.status == "completed" and t.completed_at is not None and t.completed_at >= since)
        return [MemberFlag(text=f"{n} completed trades with <@{partner}> in "
                                f"{settings.escrow_wash_trade_days} days (repeated pair)")
                for partner, n in partners.most_common()
                if n >= settings.escrow_wash_trade_count]
