"""What every trade action shares: loading a trade, the guarded transition, the settlement.

Each transition is one guarded update (`status in expected`, and the version read) plus its
ledger entries in the same transaction. Every settlement of a trade's held GEMS uses the one key
`trade:{id}:settle`, so whichever of confirm, auto-release, cancel or resolve commits first is
the only one that moves money; the others find the trade already settled.

Used by economy/trades/trades.py (offers, purchases, delivery, cancels, timers),
economy/trades/disputes.py and economy/trades/ratings.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from economy.core.clock import Clock
from economy.core.errors import Conflict, IdempotencyConflict, NotFound
from economy.core.ledger import LedgerService
from economy.core.settings import SettingsService
from economy.core.signals import NO_SIGNALS, Signals
from economy.repos.base import Doc
from economy.trades.models import ListingOutOfStep, Trade, TradeResult, TradeUnavailable, fee_for
from economy.trades.repo import TradeRepo

RETRIES = 5  # re-reads of a trade another writer changed between our read and our write


class StaleTrade(Conflict):
    """A guarded trade write missed: someone wrote the trade after we read it (retry)."""

    def __init__(self) -> None:
        super().__init__("This trade changed meanwhile; please try again.")


class CashSettlement(Protocol):
    """Settles trades paid outside the ledger (USD through Stripe): the trade's transition runs
    in the same transaction as the record of the refund/transfer owed (economy/payments/payouts.py)."""

    async def settle(self, trade: Trade, *, to_seller: int, fee: int, actor_id: int | None,
                     also: Any) -> None: ...


class ListingGate(Protocol):
    """What escrow needs from the marketplace's listing repository."""

    async def get(self, guild_id: int, listing_id: int) -> Doc | None: ...

    async def reserve(self, guild_id: int, listing_id: int, buyer_id: int, trade_id: int,
                      at: datetime, *, session: Any, price_gems: int | None = None,
                      version: int | None = None) -> bool: ...

    async def mark_sold(self, guild_id: int, listing_id: int, buyer_id: int, price_gems: int,
                        at: datetime, *, trade_id: int, session: Any) -> bool: ...

    async def unreserve(self, guild_id: int, listing_id: int, at: datetime, *, trade_id: int,
                        session: Any) -> bool: ...


class ItemSettlement(Protocol):
    """A feature whose items are sold through escrow (the badges' collectibles): `plan` reads
    what it needs before the settlement's transaction and returns the write to run inside it
    (or None); the write raises to abort the whole settlement, GEMS included."""

    async def plan(self, trade: Trade, *, to_seller: int, to_status: str) -> Any: ...


def timeline_event(at: datetime, event: str, actor_id: int | None, note: str | None = None) -> Doc:
    """One timeline line, as stored."""
    return {"at": at, "event": event, "actor_id": actor_id, "note": note}


class TradeTransitions:
    """The guarded writes of the trade state machine, one instance shared by the trade services."""

    def __init__(self, repo: TradeRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, listings: ListingGate | None = None,
                 signals: Signals = NO_SIGNALS) -> None:
        self.repo = repo
        self.signals = signals
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self.listings = listings
        #: Settles trades paid by card (set by economy/payments/__init__.py when payments are wired).
        self.cash: CashSettlement | None = None
        #: Items that change hands with the settlement (economy/badges/__init__.py adds one).
        self.items: list[ItemSettlement] = []

    async def load(self, guild_id: int, trade_id: int) -> Trade:
        """The trade with its timeline (NotFound when there is none).

        Raises: NotFound.
        """
        doc = await self.repo.get(guild_id, trade_id)
        if not doc:
            raise NotFound(f"Trade #{trade_id} doesn't exist.")
        return Trade.model_validate({**doc, "timeline": await self.repo.timeline(guild_id, trade_id)})

    @staticmethod
    def expect(trade: Trade, statuses: tuple[str, ...], message: str) -> None:
        """Raise TradeUnavailable unless the trade is in one of `statuses`."""
        if trade.status not in statuses:
            raise TradeUnavailable(f"{message} (trade #{trade.trade_id} is {trade.status}.)")

    async def simple(self, trade: Trade, from_status: tuple[str, ...], to_status: str,
                     actor_id: int, message: str, *, fields: Doc | None = None,
                     times: Doc | None = None, note: str | None = None) -> TradeResult:
        """A transition that moves no GEMS; `times` are changes to the trade's dates.

        Raises: NotFound, TradeUnavailable.
        """

        async def attempt(current: Trade) -> None:
            self.expect(current, from_status, message)
            now = self.clock.now()
            if not await self.repo.transition(
                current.guild_id, current.trade_id, from_status=from_status, to_status=to_status,
                fields={"times": current.times(now, **(times or {})), **(fields or {})},
                event=timeline_event(now, to_status, actor_id, note), version=current.version,
            ):
                raise StaleTrade

        await self.retrying(trade, attempt)
        return TradeResult(trade=await self.load(trade.guild_id, trade.trade_id))

    async def retrying(self, trade: Trade, attempt: Any) -> None:
        """Run `attempt(trade)`; when its guarded write misses, re-read the trade and retry.

        `attempt` checks the status it needs first, so a trade that moved on is refused with
        that status; one that was only written (a vote, a room id) is retried on the new read.

        Raises: NotFound, TradeUnavailable.
        """
        for _ in range(RETRIES):
            try:
                await attempt(trade)
                return
            except StaleTrade:
                trade = await self.load(trade.guild_id, trade.trade_id)
        raise TradeUnavailable("This trade is changing quickly right now; please try again.")

    async def settle(
        self, trade: Trade, *, to_seller: int, to_status: str, from_status: tuple[str, ...],
        actor_id: int | None, event: str, fields: Doc | None = None, note: str | None = None,
        extra_guard: Doc | None = None, audit: Doc | None = None,
    ) -> TradeResult:
        """Release/refund/split the held GEMS and move the trade (and listing), atomically.

        Everything the settlement records is in its one transaction: the trade transition
        (guarded by the status and version read), the listing's sold/unreserved transition (a
        miss aborts), the items that change hands (`items` hooks; a miss aborts), the
        audit-log record and the ledger legs.

        Raises: DeletedAccount, InsufficientFunds, InvalidAmount, NotFound, OutcomeUnknown,
            TradeUnavailable.
        """
        guild_id, trade_id = trade.guild_id, trade.trade_id
        fee = fee_for(to_seller, trade.fee_bps)
        done = to_status in ("completed", "resolved")
        listing_gate = self.listings if trade.listing_id is not None else None
        repo = self.repo
        changed = False
        for _ in range(RETRIES):
            if trade.status not in from_status:
                break
            now = self.clock.now()
            current = trade
            set_fields = {**(fields or {}), "times": current.times(
                now, completed_at=now if done else current.completed_at)}
            # Item moves read first (transactions only write), then write inside the settlement.
            steps = [step for hook in self.items
                     if (step := await hook.plan(current, to_seller=to_seller,
                                                 to_status=to_status)) is not None]

            async def transition(session: Any, current: Trade = current, now: datetime = now,
                                 set_fields: Doc = set_fields, steps: list = steps) -> None:
                if not await repo.transition(guild_id, trade_id, from_status=from_status,
                                             to_status=to_status, fields=set_fields,
                                             event=timeline_event(now, event, actor_id, note),
                                             version=current.version, session=session,
                                             extra_guard=extra_guard):
                    raise StaleTrade
                if listing_gate is not None:
                    moved = await (
                        listing_gate.mark_sold(guild_id, current.listing_id, current.buyer_id,
                                               # only GEMS sales feed the GEMS price hint
                                               current.price if current.currency == "gems" else 0,
                                               now, trade_id=trade_id, session=session)
                        if to_seller > 0 else
                        listing_gate.unreserve(guild_id, current.listing_id, now,
                                               trade_id=trade_id, session=session))
                    if not moved:
                        raise ListingOutOfStep(
                            f"Listing #{current.listing_id} is not reserved for trade #{trade_id}, "
                            "so nothing was settled. Please tell a moderator.")
                for step in steps:  # after the guarded trade and listing writes
                    await step(session)
                if audit is not None:
                    await repo.log(audit, session=session)

            try:
                if trade.currency != "gems":
                    # Paid by card: no GEMS are held; the guarded transition makes it once.
                    if self.cash is None:
                        raise TradeUnavailable("Card payments are not set up on this bot.")
                    await self.cash.settle(trade, to_seller=to_seller, fee=fee,
                                           actor_id=actor_id, also=transition)
                    changed = True
                    break
                movement = await self.ledger.settle_hold(
                    guild_id, buyer_id=trade.buyer_id, seller_id=trade.seller_id,
                    amount=trade.price, to_seller=to_seller, fee=fee,
                    key=f"trade:{trade_id}:settle", ref=f"trade:{trade_id}", note=note,
                    actor_id=actor_id, also=transition,
                )
                changed = not movement.replayed
                break
            except StaleTrade:
                trade = await self.load(guild_id, trade_id)
            except (IdempotencyConflict, TradeUnavailable):
                break
        fresh = await self.load(guild_id, trade_id)
        if not changed and actor_id is not None:
            raise TradeUnavailable(
                f"Trade #{trade_id} was already settled (it is {fresh.status}); nothing changed."
            )
        flags: tuple[str, ...] = ()
        if changed and to_status == "completed":
            flags = await self.wash_flags(fresh)
            await self.signals.send("trade_completed", guild_id, fresh.seller_id, fresh.buyer_id)
        return TradeResult(trade=fresh, changed=changed, flags=flags)

    async def wash_flags(self, trade: Trade) -> tuple[str, ...]:
        """Moderator flags for a completed trade whose pair traded often lately (wash trading).

        Raises: nothing expected.
        """
        settings = await self.settings.get(trade.guild_id)
        since = self.clock.now() - timedelta(days=settings.escrow_wash_trade_days)
        pair = await self.repo.recent_pair_trades(trade.guild_id, trade.buyer_id, trade.seller_id, since)
        if pair >= settings.escrow_wash_trade_count:
            return (f"<@{trade.buyer_id}> and <@{trade.seller_id}> traded {pair} times in "
                    f"{settings.escrow_wash_trade_days} days (possible wash trading or alt funnelling).",)
        return ()
