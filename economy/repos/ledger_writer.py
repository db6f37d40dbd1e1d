"""Group commit for the ledger: one writer per process turns many balance changes into one
transaction.

Callers (LedgerService) submit a request: the legs of one operation, its idempotency key, a
function that builds its ledger entries and, optionally, the extra writes (`also`) that must
commit with it. The writer drains its queue in batches (at most `batch_max` requests, waiting at
most `batch_wait_ms` for company when requests are arriving) and for each batch:

1. answers a key repeated inside the batch from the first request with that key;
2. validates the requests in arrival order against the balances it knows (loaded from the store
   on first use, then kept up to date by its own commits): a request that would take a balance
   or a held amount below zero fails alone (`Short`), the others go on;
3. commits the accepted ones in ONE transaction: ONE `bulk_write` of per-account net deltas, each
   update guarded by the exact balance and held amount it was validated against, then every
   request's `also` writes, then ONE `insert_many` of all ledger entries (the unique
   (guild, key, leg) index rejects a key that another process recorded first).

When a guard misses (another process, or a write outside the writer, moved an account) nothing
is written: the writer reloads those accounts and validates the batch again, so a request that
now lacks funds fails alone. A duplicate key or a failing `also` aborts the transaction; that
request gets its error and the rest of the batch is committed without it. An ambiguous commit is
settled by looking for one of the batch's keys (the batch commits as a whole or not at all).

Nothing here relies on the embedded store's write lock: on MongoDB two writers (two processes)
race on the same accounts and the guards decide.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from economy.core.errors import AlreadyRecorded, OutcomeUnknown
from economy.core.models import MINT_KINDS
from economy.repos.base import outcome_unknown
from economy.repos.ledger_repo import LedgerRepo

#: Guard misses of one batch before its requests are retried one at a time.
MISSES_BEFORE_SPLIT = 3
#: Guard misses of a single request before it gives up (only under extreme contention).
MISSES_ALONE = 20
#: Accounts whose balance the writer remembers between batches (least recently used dropped).
KNOWN_ACCOUNTS = 100_000
#: Recently committed keys, so a retry is answered from the store without aborting a batch.
RECENT_KEYS = 10_000

AccountKey = tuple[int, int]


class Short(Exception):
    """A debit does not fit the balance (or the held amount, when `held`)."""

    def __init__(self, user_id: int, needed: int, *, held: bool = False) -> None:
        super().__init__(user_id, needed)
        self.user_id = user_id
        self.needed = needed
        self.held = held


@dataclass(frozen=True)
class _Known:
    """An account as the writer last saw it; None fields were absent from the document."""

    balance: int | None
    held: int | None
    exists: bool

    @property
    def values(self) -> tuple[int, int]:
        return self.balance or 0, self.held or 0


_ABSENT = _Known(None, None, False)


@dataclass(eq=False)
class _Request:
    guild_id: int
    key: str
    legs: list[Any]  # economy.core.ledger._Leg
    make_docs: Callable[[list[int]], list[dict]]
    also: Callable[[Any], Awaitable[None]] | None
    future: asyncio.Future
    followers: list[_Request] = field(default_factory=list)
    built: list[dict] = field(default_factory=list)  # entries as validated
    docs: list[dict] = field(default_factory=list)  # entries as inserted

    def fail(self, error: BaseException) -> None:
        if self.future.done():
            return
        if isinstance(error, asyncio.CancelledError):
            self.future.cancel()  # the writer was stopped (the loop is shutting down)
        else:
            self.future.set_exception(error)

    def succeed(self, docs: list[dict]) -> None:
        if not self.future.done():
            self.future.set_result(docs)


class _GuardMiss(Exception):
    """An account update of the batch matched nothing: its balance moved since validation."""


class _Rejected(Exception):
    """One request of the batch failed inside the transaction (duplicate key, `also` raised)."""

    def __init__(self, request: _Request, error: BaseException) -> None:
        super().__init__(request.key)
        self.request = request
        self.error = error


@dataclass
class _Plan:
    """The accepted requests of a batch and the account updates they add up to."""

    requests: list[_Request]
    ops: list[UpdateOne]
    after: dict[AccountKey, _Known]
    shorts: list[tuple[_Request, Short, AccountKey]]


class LedgerWriter:
    """Collects concurrent balance changes of this process and commits them in batches."""

    def __init__(self, repo: LedgerRepo, *, batch_max: int = 256,
                 batch_wait_ms: float = 2.0) -> None:
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self._repo = repo
        self._max = batch_max
        self._wait = timedelta(milliseconds=max(0.0, batch_wait_ms)).total_seconds()  # asyncio's seconds
        self._queue: collections.deque[_Request] = collections.deque()
        self._drainer: asyncio.Task | None = None
        self._drainer_loop: asyncio.AbstractEventLoop | None = None
        self._known: collections.OrderedDict[AccountKey, _Known] = collections.OrderedDict()
        self._recent: collections.OrderedDict[tuple[int, str], None] = collections.OrderedDict()
        self.batches = 0  # committed transactions (for benches and tests)
        self.guard_misses = 0

    async def submit(self, guild_id: int, key: str, legs: list[Any],
                     make_docs: Callable[[list[int]], list[dict]],
                     also: Callable[[Any], Awaitable[None]] | None = None) -> list[dict]:
        """Queue one operation and wait for its batch; returns its ledger entries as written.

        Raises Short (a debit does not fit), AlreadyRecorded (the key was recorded by another
        operation: the caller answers from the store), whatever `also` raised, OutcomeUnknown,
        or the store's error. `make_docs(balances_after)` builds the entries, one per leg.
        """
        loop = asyncio.get_running_loop()
        request = _Request(guild_id, key, legs, make_docs, also, loop.create_future())
        self._queue.append(request)
        if self._drainer is None or self._drainer.done() or self._drainer_loop is not loop:
            self._drainer = loop.create_task(self._drain())
            self._drainer_loop = loop
        return await request.future

    def forget(self, guild_id: int, user_ids: Iterable[int]) -> None:
        """Drop remembered balances of accounts written outside the writer (reloaded on use)."""
        for user_id in user_ids:
            self._known.pop((guild_id, user_id), None)

    # --- the batch loop ----------------------------------------------------------------------
    async def _drain(self) -> None:
        while self._queue:
            waiting = len(self._queue)
            await asyncio.sleep(0)  # let callers that are ready right now join this batch
            if self._wait and waiting < len(self._queue) < self._max:
                await asyncio.sleep(self._wait)  # requests are arriving: wait a moment for more
            batch = [self._queue.popleft() for _ in range(min(self._max, len(self._queue)))]
            try:
                await self._run(batch)
            except BaseException as error:  # never leave a caller waiting forever
                for request in batch:
                    for waiter in (request, *request.followers):
                        waiter.fail(error)
                if not isinstance(error, Exception):
                    raise

    async def _run(self, batch: list[_Request]) -> None:
        leaders: dict[tuple[int, str], _Request] = {}
        work: list[_Request] = []
        for request in batch:
            ident = (request.guild_id, request.key)
            if ident in leaders:
                leaders[ident].followers.append(request)
            elif ident in self._recent:
                request.fail(_duplicate(request.key))
            else:
                leaders[ident] = request
                work.append(request)
        if len(work) > 1 or not work:
            await self._commit_batch(work)
        else:
            await self._commit_alone(work[0])
        for leader in leaders.values():
            if not leader.followers:
                continue
            if leader.future.done() and not leader.future.cancelled() \
                    and leader.future.exception() is None:
                for follower in leader.followers:  # answered by the first result
                    follower.fail(_duplicate(follower.key, leader.docs))
            else:
                # The first attempt failed; each repeat gets its own try (in arrival order).
                self._queue.extendleft(reversed(leader.followers))
            leader.followers = []

    async def _commit_batch(self, work: list[_Request]) -> None:
        misses = 0
        while work := [r for r in work if not r.future.done()]:
            try:
                done = await self._attempt(work)
            except _GuardMiss:
                misses += 1
                if misses >= MISSES_BEFORE_SPLIT:
                    for request in work:
                        await self._commit_alone(request)
                    return
                continue
            except _Rejected as rejected:
                rejected.request.fail(rejected.error)
                at = work.index(rejected.request)
                ahead, work = work[:at], work[at + 1:]
                if isinstance(rejected.error, AlreadyRecorded):
                    # Keys recorded elsewhere come in crowds (members retrying after a restart,
                    # another process): find them all now instead of aborting once for each.
                    await self._fail_recorded(ahead + work)
                if ahead:
                    # What is ahead of the refused request went through in the aborted
                    # transaction: commit it first (arrival order), then go on with the rest.
                    # Retrying the whole batch instead redid every accepted request once per
                    # refusal: 100 buyers of the last 10 units ran ~900 stock updates.
                    await self._commit_batch(ahead)
                continue
            if done:
                return

    async def _commit_alone(self, request: _Request) -> None:
        for _ in range(MISSES_ALONE):
            if request.future.done():
                return
            try:
                await self._attempt([request])
            except _GuardMiss:
                continue
            except _Rejected as rejected:
                request.fail(rejected.error)
            return
        request.fail(OperationFailure("The ledger is too busy right now; please try again."))

    async def _attempt(self, work: list[_Request]) -> bool:
        """Validate `work` and commit what fits; True when every request got its answer.

        Raises _GuardMiss (the accounts were reloaded: validate again) or _Rejected (one request
        failed in the transaction: retry without it).
        """
        fresh = await self._load({(r.guild_id, leg.user_id) for r in work for leg in r.legs})
        plan = self._validate(work)
        stale = {account for _, _, account in plan.shorts} - fresh
        if stale:
            # Refuse for lack of funds only on balances read just now (another process may have
            # paid into the account since the writer last saw it).
            self._forget_all(stale)
            await self._load(stale)
            plan = self._validate(work)
        for request, short, _ in plan.shorts:
            request.fail(short)
        if not plan.requests:
            return True
        unknown = 0
        while True:
            try:
                await self._repo.db.transaction(lambda session: self._write(session, plan))
                break
            except _GuardMiss:
                self.guard_misses += 1
                self._forget_all(plan.after)
                raise
            except PyMongoError as error:
                if not outcome_unknown(error):
                    self._forget_all(plan.after)
                    for request in plan.requests:
                        request.fail(error)
                    return True
                # The batch committed as a whole or not at all: one of its keys tells which.
                first = plan.requests[0]
                if await self._repo.entries_for_key(first.guild_id, first.key):
                    break
                unknown += 1
                if unknown >= 2:
                    self._forget_all(plan.after)
                    for request in plan.requests:
                        request.fail(OutcomeUnknown(
                            "The database didn't confirm this in time, so it may have gone "
                            "through. Check `/gems history` before trying again."))
                    return True
        self.batches += 1
        for account, known in plan.after.items():
            self._remember(account, known)
        for request in plan.requests:
            self._recent[(request.guild_id, request.key)] = None
            if len(self._recent) > RECENT_KEYS:
                self._recent.popitem(last=False)
            request.succeed(request.docs)
        return True

    # --- steps -------------------------------------------------------------------------------
    async def _fail_recorded(self, work: list[_Request]) -> None:
        """Fail (as duplicates) the requests whose key the store already holds."""
        pending = [r for r in work if not r.future.done()]
        found = await asyncio.gather(
            *[self._repo.entries_for_key(r.guild_id, r.key) for r in pending])
        for request, entries in zip(pending, found, strict=True):
            if entries:
                request.fail(_duplicate(request.key, entries))

    async def _load(self, accounts: set[AccountKey]) -> set[AccountKey]:
        """Read the accounts the writer does not know; returns those it read."""
        missing = [a for a in accounts if a not in self._known]
        docs = await asyncio.gather(*[self._repo.account(g, u) for g, u in missing])
        for account, doc in zip(missing, docs, strict=True):
            if doc is None:
                self._remember(account, _ABSENT)
            else:
                self._remember(account, _Known(doc.get("balance"), doc.get("held"), True))
        return set(missing)

    def _validate(self, work: list[_Request]) -> _Plan:
        """Apply the requests in order to the known balances; fail those that do not fit."""
        state: dict[AccountKey, tuple[int, int]] = {}
        earned: dict[AccountKey, int] = {}
        accepted: list[_Request] = []
        shorts: list[tuple[_Request, Short, AccountKey]] = []
        for request in work:
            if request.future.done():
                continue  # answered already (or its caller gave up before the commit)
            trial: dict[AccountKey, tuple[int, int]] = {}
            afters: list[int] = []
            short: tuple[_Request, Short, AccountKey] | None = None
            for leg in request.legs:
                account = (request.guild_id, leg.user_id)
                balance, held = trial.get(account) or state.get(account) \
                    or self._known[account].values
                balance += leg.balance_delta
                held += leg.held_delta
                if balance < 0 or held < 0:
                    short = (request, Short(leg.user_id, -leg.balance_delta,
                                            held=leg.balance_delta >= 0), account)
                    break
                trial[account] = (balance, held)
                afters.append(balance)
            if short is not None:
                shorts.append(short)
                continue
            state.update(trial)
            for leg in request.legs:
                if leg.kind in MINT_KINDS:
                    account = (request.guild_id, leg.user_id)
                    earned[account] = earned.get(account, 0) + leg.delta
            request.built = request.make_docs(afters)
            accepted.append(request)
        ops = []
        after: dict[AccountKey, _Known] = {}
        for account, (balance, held) in state.items():
            before = self._known[account]
            ops.append(_guarded_update(account, before, balance, held, earned.get(account, 0)))
            after[account] = _Known(balance, held, True)
        return _Plan(accepted, ops, after, shorts)

    async def _write(self, session: Any, plan: _Plan) -> None:
        """The batch's transaction: guarded account updates, `also` writes, ledger entries."""
        accounts = self._repo.accounts
        try:
            result = await accounts.bulk_write(plan.ops, ordered=True, session=session)
        except BulkWriteError as error:
            if all(e.get("code") == 11000 for e in error.details.get("writeErrors", [])):
                raise _GuardMiss from None  # an account we thought absent was created meanwhile
            raise
        if result.matched_count + result.upserted_count != len(plan.ops):
            raise _GuardMiss
        owners: list[_Request] = []
        entries: list[dict] = []
        for request in plan.requests:
            if request.also is not None:
                try:
                    await request.also(session)
                except PyMongoError as error:
                    if error.has_error_label("TransientTransactionError") \
                            or outcome_unknown(error):
                        raise  # the driver retries the whole transaction
                    if isinstance(error, DuplicateKeyError):  # e.g. its own unique record
                        raise _Rejected(request, AlreadyRecorded(str(error))) from None
                    raise _Rejected(request, error) from None
                except Exception as error:  # a domain refusal belongs to this request alone
                    raise _Rejected(request, error) from None
            copies = [dict(doc) for doc in request.built]  # a retried callback inserts fresh ones
            entries += copies
            owners += [request] * len(copies)
        try:
            await self._repo.ledger.insert_many(entries, ordered=True, session=session)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if errors and errors[0].get("code") == 11000:
                request = owners[errors[0]["index"]]
                raise _Rejected(request, _duplicate(request.key)) from None
            raise
        index = 0
        for request in plan.requests:
            request.docs = entries[index:index + len(request.built)]
            index += len(request.built)

    # --- memory of balances ------------------------------------------------------------------
    def _remember(self, account: AccountKey, known: _Known) -> None:
        self._known[account] = known
        self._known.move_to_end(account)
        if len(self._known) > KNOWN_ACCOUNTS:
            self._known.popitem(last=False)

    def _forget_all(self, accounts: Iterable[AccountKey]) -> None:
        for account in accounts:
            self._known.pop(account, None)


def _guarded_update(account: AccountKey, before: _Known, balance: int, held: int,
                    earned: int) -> UpdateOne:
    """Set an account from `before` to (balance, held), only while it still is `before`.

    The filter matches the exact values the batch was validated against (an absent field matches
    as null). An account the writer has not seen is upserted; if another writer created it in
    the meantime the insert hits the unique (guild, user) index, which counts as a guard miss.
    """
    guild_id, user_id = account
    old_balance, old_held = before.values
    guard = {"guild_id": guild_id, "user_id": user_id,
             "balance": before.balance, "held": before.held}
    update: dict[str, Any] = {"$inc": {"balance": balance - old_balance, "held": held - old_held,
                                       "lifetime_earned": earned}}
    if not before.exists:
        # Upsert: on insert the unique (guild, user) index is the guard; an account that
        # appeared meanwhile has a balance, so it is not matched and the insert fails.
        update["$set"] = {"system": user_id <= 0}
        return UpdateOne({"guild_id": guild_id, "user_id": user_id,
                          "balance": {"$exists": False}}, update, upsert=True)
    if balance == old_balance and held == old_held and not earned:
        # Money went in and out within the batch. An update that changes nothing does not
        # conflict with a concurrent transaction on MongoDB, so the guard would not hold: change
        # something (a counter nothing else reads).
        update["$inc"]["ledger_touches"] = 1
    return UpdateOne(guard, update)


class Recorded(AlreadyRecorded):
    """The key was recorded already; `entries` holds its legs when the writer read them."""

    def __init__(self, key: str, entries: list[dict] | None = None) -> None:
        super().__init__(f"idempotency key {key!r} was recorded already", entries)


def _duplicate(key: str, entries: list[dict] | None = None) -> Recorded:
    return Recorded(key, entries)


__all__ = ["LedgerWriter", "Recorded", "Short"]
