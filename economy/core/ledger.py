"""The ledger service: the only code that changes balances.

Every operation is one transaction that (1) returns the first result when its idempotency key was
seen before, (2) applies guarded balance updates (a debit only matches while `balance >= amount`),
and (3) appends one ledger entry per touched account, under a unique (guild, key, leg) index that
rejects a concurrent replay. So a double click, a retry or a crash between steps can neither move
GEMS twice nor lose them, and `balance + held == sum(entries)` holds for every account.

With group commit on (the default, see economy/repos/ledger_writer.py) concurrent operations share one
such transaction: the writer validates them in order, guards each account update by the balance it
validated, and answers every caller exactly as a transaction of its own would (a refused request
fails alone). The activity flush (`earn_batch`) keeps its own one-transaction bulk credit.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from economy.boosts.service import NO_BOOST, Applied
from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.eligibility import require_established
from economy.core.errors import (
    AlreadyRecorded,
    Conflict,
    Cooldown,
    DeletedAccount,
    GemsError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    OutcomeUnknown,
)
from economy.core.models import (
    BURN_KINDS,
    MINT_KINDS,
    NO_TOMBSTONE_KINDS,
    Account,
    DailyClaim,
    LedgerEntry,
    Movement,
    Page,
    is_system,
    is_tombstone,
)
from economy.core.settings import MAX_AMOUNT, GuildSettings
from economy.core.signals import NO_SIGNALS, Signals
from economy.core.text import clean_text, visible_length
from economy.repos.ledger_repo import LedgerRepo
from economy.repos.ledger_writer import LedgerWriter
from economy.repos.ledger_writer import Short as _Short

NOTE_MAX = 200
TREASURY_ID = 0  # the guild treasury's account (a system account: never on leaderboards)
# Fees land in one of several treasury shard accounts (ids -1..-N), chosen by the operation's key,
# so concurrent settlements of a guild do not all write one hot document (a write conflict on
# MongoDB). The treasury's balance is the sum of account 0 and its shards; the audit still sees
# every shard as an ordinary account whose balance equals its ledger entries.
TREASURY_SHARDS = 16
TREASURY_IDS = (TREASURY_ID, *range(-1, -TREASURY_SHARDS - 1, -1))


def treasury_shard(key: str) -> int:
    """The treasury shard account that receives the fee of the operation `key`."""
    return -1 - zlib.crc32(key.encode()) % TREASURY_SHARDS
def spend_shard(user_id: int) -> int:
    """The treasury shard that receives a member's purchases (and pays their refunds).

    Chosen by the member, not by the purchase key: a key carries the quote's random nonce, so a
    shard chosen by key would create a different set of shard accounts on every run.
    """
    return treasury_shard(f"spend:{user_id}")


MULTIPLIED_KINDS = frozenset({"earn", "activity", "daily", "reward"})


class BoostSource(Protocol):
    """What the ledger asks for the factor of an earning (economy.boosts.service.BoostService)."""

    async def applied(self, guild_id: int, at: datetime, source: str,
                      role_ids: frozenset[int] = frozenset()) -> Applied: ...


class EarnSegment(NamedTuple):
    """Activity earned by one member under one factor, captured when the messages were sent."""

    user_id: int
    factor_bps: int = 10_000
    boost_ids: tuple[str, ...] = ()


class BalanceChanged(Conflict):
    """A balance moved between the read a change was computed from and the write."""


def check_amount(amount: object, *, limit: int = MAX_AMOUNT, what: str = "amount") -> int:
    """Return `amount` if it is a whole number in 1..limit, else raise InvalidAmount.

    `what` names the value in the message ("amount", "GEMS price", ...).
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(f"The {what} must be a whole number of GEMS, like 25.")
    if amount <= 0:
        raise InvalidAmount(f"The {what} must be at least 1.")
    if amount > limit:
        raise InvalidAmount(f"The {what} can be at most {limit:,}.")
    return amount


def apply_multipliers(base: int, percents: list[int]) -> tuple[int, int]:
    """Apply stacked multipliers to `base` with integer math; returns (amount, combined percent).

    Rounds down, so a multiplier never creates a fractional GEM.
    """
    numerator, denominator = base, 1
    for pct in percents:
        numerator *= pct
        denominator *= 100
    combined = 100
    for pct in percents:
        combined = combined * pct // 100
    return numerator // denominator, combined


@dataclass(frozen=True)
class _Leg:
    """One account's part of an operation.

    `delta` changes balance + held (what the ledger sums); `held_delta` is the part of it that
    lands in (or leaves) the escrow hold. So a hold is delta 0, held_delta +x: the balance drops
    by x and the held amount rises by x.
    """

    user_id: int
    delta: int
    kind: str
    mint: bool = False
    counterparty_id: int | None = None
    multiplier_bps: int = 10_000
    held_delta: int = 0
    boost_ids: tuple[str, ...] = ()

    @property
    def balance_delta(self) -> int:
        """The change of the spendable balance."""
        return self.delta - self.held_delta


class LedgerService:
    """Balance-changing operations and read models over accounts and the ledger."""

    def __init__(self, repo: LedgerRepo, multipliers: BoostSource, clock: Clock, *,
                 batch_max: int = 256, batch_wait_ms: float = 2.0,
                 signals: Signals = NO_SIGNALS) -> None:
        """`batch_max`/`batch_wait_ms`: group commit (economy.repos.ledger_writer); a batch_max of 1
        runs every operation as its own transaction instead. `signals`: told of daily claims."""
        self._repo = repo
        self._signals = signals
        self._multipliers = multipliers
        self._clock = clock
        self._writer = (LedgerWriter(repo, batch_max=batch_max, batch_wait_ms=batch_wait_ms)
                        if batch_max > 1 else None)

    @property
    def writer(self) -> LedgerWriter | None:
        """The process's group-commit writer (None when batching is off)."""
        return self._writer

    # --- operations --------------------------------------------------------------------------
    async def transfer(
        self, guild_id: int, sender_id: int, recipient_id: int, amount: int, *, key: str,
        note: str | None = None, limit: int = MAX_AMOUNT,
        also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Move GEMS from one member to another. Raises InvalidAmount/InvalidInput/InsufficientFunds.

        `also(session)` runs in the same transaction (e.g. a daily giving quota) and raises to
        abort the transfer.
        """
        amount = check_amount(amount, limit=limit)
        if sender_id == recipient_id:
            raise InvalidInput("You can't send GEMS to yourself.")
        note = clean_text(note, NOTE_MAX, "note")
        legs = [
            _Leg(sender_id, -amount, "transfer", counterparty_id=recipient_id),
            _Leg(recipient_id, amount, "transfer", counterparty_id=sender_id),
        ]
        return await self._apply(guild_id, "transfer", key, legs, actor_id=sender_id, note=note,
                                 also=also)

    async def grant(
        self, guild_id: int, actor: Actor, user_id: int, amount: int, *, reason: str, key: str
    ) -> Movement:
        """Admin: create GEMS for a member, with a recorded reason (the actor's admin rights in
        `guild_id` are checked here, whatever the caller checked).

        Raises: NotPermitted (not an admin of the guild), DeletedAccount, IdempotencyConflict,
            InsufficientFunds, InvalidAmount, InvalidInput, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        amount = check_amount(amount)
        reason = _require_reason(reason)
        if is_system(user_id):  # the treasury or a deleted member's account is nobody to pay
            raise InvalidInput("GEMS can only be granted to a member.")
        legs = [_Leg(user_id, amount, "grant", mint=True)]
        return await self._apply(guild_id, "grant", key, legs, actor_id=actor_id, note=reason)

    async def purchase(
        self, guild_id: int, user_id: int, amount: int, *, key: str, ref: str,
        note: str | None = None, also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Mint GEMS a member paid for (a GEMS pack bought by card), once per `key`.

        A mint leg of kind `purchase`: it counts in the supply but not as lifetime earnings.
        `also(session)` runs in the same transaction (the payment's record).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        amount = check_amount(amount)
        legs = [_Leg(user_id, amount, "purchase", mint=True)]
        return await self._apply(guild_id, "purchase", key, legs, ref=ref, note=note, also=also)

    async def spend(
        self, guild_id: int, user_id: int, amount: int, *, key: str, ref: str, burn: bool,
        note: str | None = None, also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """A member pays the guild (a shop purchase), once per `key`: the GEMS go to a treasury
        shard, or are burned (`burn`: one burn leg, so the supply shrinks). `also(session)` runs
        in the same transaction (the item's grant) and raises to abort the payment.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount, InvalidInput,
            OutcomeUnknown.
        """
        amount = check_amount(amount)
        if is_system(user_id):
            raise InvalidInput("Only a member can buy.")
        if burn:
            legs = [_Leg(user_id, -amount, "spend", mint=True)]
        else:
            shard = spend_shard(user_id)
            legs = [_Leg(user_id, -amount, "spend", counterparty_id=shard),
                    _Leg(shard, amount, "sink", counterparty_id=user_id)]
        return await self._apply(guild_id, "spend", key, legs, ref=ref, note=note, also=also)

    async def refund_spend(
        self, guild_id: int, user_id: int, amount: int, *, key: str, ref: str,
        burn: bool, note: str | None = None,
        also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Give back what a `spend` took (from the same treasury shard: the member's, or minted
        again when it was burned), once per `key`.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        amount = check_amount(amount)
        if burn:
            legs = [_Leg(user_id, amount, "refund", mint=True)]
        else:
            shard = spend_shard(user_id)
            legs = [_Leg(shard, -amount, "refund", counterparty_id=user_id),
                    _Leg(user_id, amount, "refund", counterparty_id=shard)]
        return await self._apply(guild_id, "refund", key, legs, ref=ref, note=note, also=also)

    async def take(
        self, guild_id: int, actor: Actor, user_id: int, amount: int, *, reason: str, key: str
    ) -> Movement:
        """Admin: remove GEMS from a member (never below zero), with a recorded reason (the
        actor's admin rights in `guild_id` are checked here).

        Raises: NotPermitted (not an admin of the guild), DeletedAccount, IdempotencyConflict,
            InsufficientFunds, InvalidAmount, InvalidInput, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        amount = check_amount(amount)
        reason = _require_reason(reason)
        legs = [_Leg(user_id, -amount, "take", mint=True)]
        return await self._apply(guild_id, "take", key, legs, actor_id=actor_id, note=reason)

    async def set_balance(
        self, guild_id: int, actor: Actor, user_id: int, *, expected: int, target: int,
        key: str, reason: str, burn_kind: str = "take",
    ) -> Movement | None:
        """Admin: make a member's spendable balance `target` by minting (`grant`) or burning
        (`burn_kind`: `take`, or `reset`) the difference from `expected`, the balance the caller
        read. The write is conditioned on the balance still being `expected`, so a concurrent
        change (a give, a purchase, another set) is never overwritten: BalanceChanged instead.
        Once per `key` (a repeat answers the first result). None when there is nothing to do.

        Runs as its own transaction, outside the group-commit writer (like `earn_batch`), which
        then forgets the account: its next guarded update reloads it.

        Raises: NotPermitted (not an admin of the guild), BalanceChanged, DeletedAccount,
            IdempotencyConflict, InvalidAmount, InvalidInput, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        existing = await self._repo.entries_for_key(guild_id, key)
        if existing:
            return Movement(kind=existing[0]["kind"], idempotency_key=key, replayed=True,
                            entries=tuple(LedgerEntry.model_validate(d) for d in existing))
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= MAX_AMOUNT:
            raise InvalidAmount(f"The balance must be a whole number from 0 to {MAX_AMOUNT:,}.")
        if burn_kind not in BURN_KINDS:
            raise ValueError(f"{burn_kind!r} is not a burn kind")
        if is_system(user_id):
            raise InvalidInput("Only a member's balance can be set.")
        reason = _require_reason(reason)
        delta = target - expected
        if delta == 0:
            return None
        kind = "grant" if delta > 0 else burn_kind
        legs = [_Leg(user_id, delta, kind, mint=True)]
        _refuse_tombstone_credits(legs)
        repo = self._repo
        now = self._clock.now()

        async def work(session: Any) -> list[dict]:
            after = await repo.move_exact(guild_id, user_id, expected=expected, delta=delta,
                                          earned=max(delta, 0), session=session)
            if after is None:
                raise BalanceChanged(
                    "That balance changed while you were setting it; nothing was changed. "
                    "Check it and try again.")
            docs = [_entry_doc(guild_id, key, 0, legs[0], at=now, actor_id=actor_id,
                               note=reason, balance_after=after.get("balance"))]
            await repo.insert_entries(docs, session=session)
            return docs

        try:
            return await self._answer(guild_id, kind, key, legs, self._commit(guild_id, key, work))
        finally:
            if self._writer is not None:
                self._writer.forget(guild_id, [user_id])  # written outside the writer

    async def earn(
        self, guild_id: int, user_id: int, base_amount: int, *, key: str, kind: str = "earn",
        ref: str | None = None, source: str | None = None,
        also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Credit earned GEMS, multiplied by the boosts active now.

        `source` names the earning for the `boost_applies_to` setting (activity, daily,
        challenge, earn, reward, event); it defaults to `kind`. `also(session)` runs in the same
        transaction (e.g. recording the check-in the reward is for).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        if kind not in MINT_KINDS:
            raise ValueError(f"{kind!r} is not an earning kind")
        base_amount = check_amount(base_amount)
        amount, applied = await self._multiplied(guild_id, base_amount, kind, source)
        legs = [_Leg(user_id, amount, kind, mint=True, multiplier_bps=applied.factor_bps,
                     boost_ids=applied.boost_ids)]
        return await self._apply(guild_id, kind, key, legs, ref=ref, also=also)

    async def earn_batch(
        self, guild_id: int, base_amounts: Mapping[int | EarnSegment, int], *, batch_key: str
    ) -> int:
        """Credit coalesced activity earnings for many members in one transaction.

        Keys are EarnSegments (the factor captured when the messages were sent) or plain user ids
        (the factor in force now). A member with several segments gets one entry per segment
        (legs 0, 1, ... of one key). Idempotent by `batch_key` (a retried flush credits nothing
        twice). Returns GEMS credited.

        Raises: OutcomeUnknown.
        """
        now = self._clock.now()
        segments: dict[EarnSegment, int] = {}
        for key, base in base_amounts.items():
            if base <= 0 or is_tombstone(key.user_id if isinstance(key, EarnSegment) else key):
                continue  # nothing, or a deleted member's account (never paid again)
            if not isinstance(key, EarnSegment):
                applied = await self._multipliers.applied(guild_id, now, "activity")
                key = EarnSegment(key, applied.factor_bps, applied.boost_ids)
            segments[key] = segments.get(key, 0) + base
        amounts: dict[int, int] = {}
        docs = []
        legs_of: dict[int, int] = {}
        for segment, base in sorted(segments.items()):
            amount = Applied(segment.factor_bps, segment.boost_ids).apply(base)
            if amount <= 0:
                continue
            user_id = segment.user_id
            amounts[user_id] = amounts.get(user_id, 0) + amount
            leg_index = legs_of.get(user_id, 0)
            legs_of[user_id] = leg_index + 1
            docs.append(_entry_doc(guild_id, f"{batch_key}:{user_id}", leg_index,
                                   _Leg(user_id, amount, "activity", mint=True,
                                        multiplier_bps=segment.factor_bps,
                                        boost_ids=segment.boost_ids),
                                   at=now))
        repo = self._repo
        if not docs or await repo.entries_for_key(guild_id, docs[0]["idempotency_key"]):
            return 0  # written by an earlier attempt of this batch

        async def _credit(session: Any) -> list[dict]:
            await repo.credit_many(guild_id, amounts, now, session=session)
            await repo.insert_entries(docs, session=session)
            return docs

        try:
            await self._commit(guild_id, docs[0]["idempotency_key"], _credit)
        except AlreadyRecorded:
            repo.db.observer.ledger_operation("activity", "replayed")
            return 0
        finally:
            if self._writer is not None:
                self._writer.forget(guild_id, amounts)  # credited outside the writer
        repo.db.observer.ledger_operation("activity", "applied")
        return sum(amounts.values())

    async def claim_daily(self, guild_id: int, user_id: int, settings: GuildSettings, *,
                          joined_at: datetime | None = None,
                          role_ids: frozenset[int] = frozenset()) -> DailyClaim:
        """Pay the daily reward once per local day; streaks survive one missed day.

        The day boundary is `daily_reset_hour` in the guild's time zone. Raises Cooldown when the
        member already claimed today, NotPermitted when the account or membership is too new.
        `role_ids` (the member's roles) let holder perks multiply the reward.
        """
        now = self._clock.now()
        require_established(settings, user_id, joined_at, now, "claim daily GEMS")
        today, next_reset = _daily_window(now, settings)
        key = f"daily:{user_id}:{today.isoformat()}"
        account = await self._repo.account(guild_id, user_id)
        last_day = _parse_day(account.get("daily_last_day")) if account else None
        streak_before = int(account.get("daily_streak", 0)) if account else 0
        if last_day == today:
            raise _already_claimed(next_reset)
        gap = (today - last_day).days if last_day else None
        grace = gap == 2
        streak = streak_before + 1 if gap in (1, 2) else 1
        base = settings.daily_amount + settings.daily_streak_bonus * min(
            streak - 1, settings.daily_streak_cap
        )
        amount, applied = await self._multiplied(guild_id, base, "daily", role_ids=role_ids)
        legs = [_Leg(user_id, amount, "daily", mint=True, multiplier_bps=applied.factor_bps,
                     boost_ids=applied.boost_ids)]
        expected = last_day.isoformat() if last_day else None
        repo = self._repo

        async def record_streak(session: Any) -> None:
            if not await repo.set_daily(guild_id, user_id, expected_last_day=expected,
                                        day=today.isoformat(), streak=streak, session=session):
                raise _already_claimed(next_reset)

        movement = await self._apply(
            guild_id, "daily", key, legs, ref=f"streak:{streak}", also=record_streak
        )
        if movement.replayed:
            raise _already_claimed(next_reset)
        await self._signals.send("daily_claimed", guild_id, user_id)
        return DailyClaim(movement=movement, amount=amount, streak=streak,
                          streak_kept_by_grace=grace, next_reset=next_reset)

    async def cover_missed_day(self, guild_id: int, user_id: int, settings: GuildSettings, *,
                               also: Callable[[Any], Awaitable[None]]) -> date:
        """A streak freeze: count the day after the member's last daily claim as claimed (no GEMS
        paid), so one more missed day does not break the streak. `also(session)` runs in the
        same transaction (the freeze taken from the inventory). Returns the day covered.

        Refused (InvalidInput) without a streak, or while the streak is safe anyway (a claim
        today, yesterday, or the day before: one missed day is already forgiven).

        Raises: InvalidInput.
        """
        today, _ = _daily_window(self._clock.now(), settings)
        account = await self._repo.account(guild_id, user_id)
        last_day = _parse_day(account.get("daily_last_day")) if account else None
        if last_day is None:
            raise InvalidInput("You have no daily streak to protect yet.")
        if (today - last_day).days < 3:
            raise InvalidInput("Your streak is safe: it survives one missed day on its own. "
                               "Keep the freeze for when you miss two.")
        streak = int(account.get("daily_streak", 0))
        covered = last_day + timedelta(days=1)
        repo = self._repo

        async def work(session: Any) -> None:
            if not await repo.set_daily(guild_id, user_id, expected_last_day=last_day.isoformat(),
                                        day=covered.isoformat(), streak=streak, session=session):
                raise InvalidInput("Your daily streak just changed; try again.")
            await also(session)

        await repo.db.transaction(work)
        return covered

    # --- escrow ------------------------------------------------------------------------------
    async def hold(
        self, guild_id: int, user_id: int, amount: int, *, key: str, ref: str,
        also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Move GEMS from a member's balance into their escrow hold.

        `also(session)` runs in the same transaction (the guarded trade/listing transition); it
        raises a GemsError to abort everything.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        amount = check_amount(amount)
        legs = [_Leg(user_id, 0, "escrow_hold", held_delta=amount)]
        return await self._apply(guild_id, "escrow_hold", key, legs, ref=ref, also=also)

    async def settle_hold(
        self, guild_id: int, *, buyer_id: int, seller_id: int, amount: int, to_seller: int,
        fee: int, key: str, ref: str, note: str | None = None, actor_id: int | None = None,
        also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Settle `amount` held from the buyer: `to_seller` goes to the seller (of which `fee`
        goes to the guild treasury) and the rest returns to the buyer's balance.

        A full release is to_seller == amount, a refund is to_seller == 0, anything between is a
        split. Legs sum to zero; the fee goes to a treasury shard (see TREASURY_SHARDS).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            OutcomeUnknown.
        """
        amount = check_amount(amount)
        if not 0 <= to_seller <= amount or not 0 <= fee <= to_seller:
            raise InvalidAmount("A settlement must satisfy 0 <= fee <= to_seller <= amount.")
        kind = "refund" if to_seller == 0 else "escrow_release" if to_seller == amount else "escrow_split"
        legs = [_Leg(buyer_id, -to_seller, kind, held_delta=-amount, counterparty_id=seller_id)]
        if to_seller - fee > 0:
            legs.append(_Leg(seller_id, to_seller - fee, "escrow_release", counterparty_id=buyer_id))
        if fee > 0:
            legs.append(_Leg(treasury_shard(key), fee, "fee", counterparty_id=seller_id))
        return await self._apply(guild_id, kind, key, legs, ref=ref, note=note,
                                 actor_id=actor_id, also=also)

    # --- reads -------------------------------------------------------------------------------
    async def account(self, guild_id: int, user_id: int) -> Account:
        """A member's account (an empty one when they never held GEMS).

        Raises: nothing expected.
        """
        return _account_of(guild_id, user_id, await self._repo.account(guild_id, user_id))

    async def account_and_rank(self, guild_id: int, user_id: int) -> tuple[Account, int | None]:
        """The account and its leaderboard position from one account read (two round trips).

        Raises: nothing expected.
        """
        doc = await self._repo.account(guild_id, user_id)
        if not doc:
            return Account(guild_id=guild_id, user_id=user_id), None
        rank = await self._repo.count_richer(guild_id, doc.get("balance", 0)) + 1
        return _account_of(guild_id, user_id, doc), rank

    async def balance(self, guild_id: int, user_id: int) -> int:
        """A member's spendable balance.

        Raises: nothing expected.
        """
        return (await self.account(guild_id, user_id)).balance

    async def treasury_balance(self, guild_id: int) -> int:
        """The guild treasury: account 0 plus every treasury shard.

        Raises: nothing expected.
        """
        return await self._repo.sum_balances(guild_id, TREASURY_IDS)

    async def rank(self, guild_id: int, user_id: int) -> int | None:
        """1-based leaderboard position, or None without an account.

        Raises: nothing expected.
        """
        doc = await self._repo.account(guild_id, user_id)
        if not doc:
            return None
        return await self._repo.count_richer(guild_id, doc.get("balance", 0)) + 1

    async def history(self, guild_id: int, user_id: int, *, page: int = 1, page_size: int = 10) -> Page:
        """A member's ledger entries, newest first, one page at a time.

        Raises: nothing expected.
        """
        page = max(1, page)
        total = await self._repo.count_history(guild_id, user_id)
        docs = await self._repo.history(guild_id, user_id, skip=(page - 1) * page_size, limit=page_size)
        rows = tuple(LedgerEntry.model_validate(doc) for doc in docs)
        return Page(rows=rows, page=page, page_size=page_size, total=total)

    async def leaderboard(self, guild_id: int, *, page: int = 1, page_size: int = 10) -> Page:
        """Richest members first; rows are (rank, user_id, balance).

        Raises: nothing expected.
        """
        page = max(1, page)
        total = await self._repo.count_accounts(guild_id)
        skip = (page - 1) * page_size
        docs = await self._repo.top_accounts(guild_id, skip=skip, limit=page_size)
        rows = tuple((skip + i + 1, doc["user_id"], doc.get("balance", 0)) for i, doc in enumerate(docs))
        return Page(rows=rows, page=page, page_size=page_size, total=total)

    # --- internals ---------------------------------------------------------------------------
    async def _multiplied(
        self, guild_id: int, base: int, kind: str, source: str | None = None,
        role_ids: frozenset[int] = frozenset(),
    ) -> tuple[int, Applied]:
        if kind not in MULTIPLIED_KINDS:
            return base, NO_BOOST
        applied = await self._multipliers.applied(guild_id, self._clock.now(), source or kind,
                                                  role_ids)
        return applied.apply(base), applied

    async def _apply(
        self, guild_id: int, kind: str, key: str, legs: list[_Leg], *, actor_id: int | None = None,
        note: str | None = None, ref: str | None = None,
        also: Callable[[Any], Awaitable[None]] | None = None,
    ) -> Movement:
        """Run one operation as a single transaction (see the module docstring)."""
        if not key or len(key) > 200:
            raise ValueError("an idempotency key of 1-200 characters is required")
        _refuse_tombstone_credits(legs)
        repo = self._repo
        now = self._clock.now()
        if self._writer is not None:
            def make_docs(balances_after: list[int]) -> list[dict]:
                return [_entry_doc(guild_id, key, index, leg, at=now, actor_id=actor_id,
                                   note=note, ref=ref, balance_after=after)
                        for index, (leg, after) in enumerate(zip(legs, balances_after,
                                                                  strict=True))]

            # No pre-read of the key: the unique index rejects a repeat inside the batch's
            # transaction, and a refused request looks for the first result below.
            return await self._answer(guild_id, kind, key, legs,
                                      self._writer.submit(guild_id, key, legs, make_docs, also))
        # Reads happen before the transaction, never inside it (see Database.transaction).
        existing = await repo.entries_for_key(guild_id, key)
        if existing:
            repo.db.observer.ledger_operation(kind, "replayed")
            return self._replay(kind, key, existing, legs)

        async def work(session: Any) -> list[dict]:
            docs = []
            for index, leg in enumerate(legs):
                earned = leg.delta if leg.kind in MINT_KINDS else 0
                after = await repo.move(guild_id, leg.user_id, balance=leg.balance_delta,
                                        held=leg.held_delta, earned=earned, at=now, session=session)
                if after is None:
                    raise _Short(leg.user_id, -leg.balance_delta, held=leg.balance_delta >= 0)
                docs.append(_entry_doc(guild_id, key, index, leg, at=now, actor_id=actor_id,
                                       note=note, ref=ref, balance_after=after.get("balance")))
            if also is not None:
                await also(session)
            await repo.insert_entries(docs, session=session)
            return docs

        return await self._answer(guild_id, kind, key, legs, self._commit(guild_id, key, work))

    async def _answer(self, guild_id: int, kind: str, key: str, legs: list[_Leg],
                      attempt: Awaitable[list[dict]]) -> Movement:
        """Await one commit attempt (batched or alone) and turn it into the caller's answer."""
        observer = self._repo.db.observer
        try:
            docs = await attempt
        except OutcomeUnknown:
            observer.ledger_operation(kind, "unknown")
            raise
        except (AlreadyRecorded, _Short, GemsError) as error:
            return await self._refused(guild_id, kind, key, legs, error)
        observer.ledger_operation(kind, "applied")
        return Movement(kind=kind, idempotency_key=key,
                        entries=tuple(LedgerEntry.model_validate(doc) for doc in docs))

    async def _refused(self, guild_id: int, kind: str, key: str, legs: list[_Leg],
                       error: Exception) -> Movement:
        """Answer a refused operation: the first result under its key, or the refusal."""
        # A concurrent call with the same key may have committed first; then its result is
        # the answer (not "insufficient funds" or "already claimed").
        existing = getattr(error, "entries", None) or await self._repo.entries_for_key(
            guild_id, key)
        if existing:
            self._repo.db.observer.ledger_operation(kind, "replayed")
            return self._replay(kind, key, existing, legs)
        self._repo.db.observer.ledger_operation(kind, "refused")
        if isinstance(error, _Short):
            if error.held:
                raise InsufficientFunds("Those GEMS are no longer held for this trade.") from None
            have = await self.balance(guild_id, error.user_id)
            raise InsufficientFunds(
                f"Not enough GEMS: this needs {error.needed:,} and the balance is {have:,}.",
                balance=have, needed=error.needed,
            ) from None
        raise error

    async def _commit(self, guild_id: int, key: str,
                      work: Callable[[Any], Awaitable[list[dict]]]) -> list[dict]:
        """Run `work` in a transaction (LedgerRepo.commit: AlreadyRecorded, OutcomeUnknown)."""
        return await self._repo.commit(guild_id, key, work)

    @staticmethod
    def _replay(kind: str, key: str, docs: list[dict], legs: list[_Leg]) -> Movement:
        movement = Movement(kind=kind, idempotency_key=key, replayed=True,
                            entries=tuple(LedgerEntry.model_validate(doc) for doc in docs))
        _check_same_operation(movement, legs)
        return movement


def _entry_doc(
    guild_id: int, key: str, leg_index: int, leg: _Leg, *, at: datetime,
    actor_id: int | None = None, note: str | None = None, ref: str | None = None,
    balance_after: int | None = None,
) -> dict[str, Any]:
    if leg.kind in BURN_KINDS or leg.kind in MINT_KINDS:
        assert leg.mint, "mint and burn legs must be flagged"
    return {
        "guild_id": guild_id, "user_id": leg.user_id, "delta": leg.delta,
        "held_delta": leg.held_delta,
        "kind": leg.kind, "mint": leg.mint, "idempotency_key": key, "leg": leg_index, "at": at,
        "at_ms": to_ms(at),
        "counterparty_id": leg.counterparty_id, "actor_id": actor_id, "note": note, "ref": ref,
        "multiplier_pct": leg.multiplier_bps // 100, "multiplier_bps": leg.multiplier_bps,
        "boost_ids": list(leg.boost_ids), "balance_after": balance_after,
    }


def _check_same_operation(movement: Movement, legs: list[_Leg]) -> None:
    recorded = [(e.user_id, e.kind) for e in movement.entries]
    asked = [(leg.user_id, leg.kind) for leg in legs]
    # Multiplied amounts may differ between attempts (a boost began), so compare who and what.
    same_amounts = all(
        e.delta == leg.delta for e, leg in zip(movement.entries, legs, strict=False)
        if e.kind not in MULTIPLIED_KINDS
    )
    if recorded != asked or not same_amounts:
        raise IdempotencyConflict("This request id was already used for a different operation.")


def _refuse_tombstone_credits(legs: list[_Leg]) -> None:
    """The lowest layer of "a deleted member is never paid again": no reward, prize, earning,
    grant or gift lands on a tombstone, whichever feature asks (feature services skip them
    first; this catches a path that forgot). Settlements of escrowed money still settle."""
    for leg in legs:
        if leg.delta > 0 and leg.kind in NO_TOMBSTONE_KINDS and is_tombstone(leg.user_id):
            raise DeletedAccount("That member deleted their data; nothing more is paid to them.")


def _require_reason(reason: str) -> str:
    reason = clean_text(reason, NOTE_MAX, "reason") or ""
    if visible_length(reason) < 3:
        raise InvalidInput("Please give a reason (at least 3 characters); it goes in the audit log.")
    return reason


def _daily_window(now: datetime, settings: GuildSettings) -> tuple[date, datetime]:
    """The guild-local 'daily day' containing `now`, and when the next one starts (UTC)."""
    local = now.astimezone(settings.zone) - timedelta(hours=settings.daily_reset_hour)
    today = local.date()
    next_local = datetime.combine(today + timedelta(days=1), datetime.min.time(), settings.zone)
    next_reset = next_local + timedelta(hours=settings.daily_reset_hour)
    return today, next_reset.astimezone(now.tzinfo)


def _parse_day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value)
    return None


def _already_claimed(next_reset: datetime) -> Cooldown:
    return Cooldown("You already claimed your daily GEMS.", retry_at=next_reset)


__all__ = ["BalanceChanged", "EarnSegment", "LedgerService", "apply_multipliers", "check_amount"]


def _account_of(guild_id: int, user_id: int, doc: dict | None) -> Account:
    """An Account model from its document (an empty one when there is none)."""
    if not doc:
        return Account(guild_id=guild_id, user_id=user_id)
    return Account(
        guild_id=guild_id, user_id=user_id, balance=doc.get("balance", 0),
        held=doc.get("held", 0), lifetime_earned=doc.get("lifetime_earned", 0),
        daily_streak=doc.get("daily_streak", 0),
        daily_last_day=_parse_day(doc.get("daily_last_day")),
    )
