"""A fault-injecting Database: proves that transaction retries and ambiguous commits are safe.

The embedded store runs transactions one at a time, so no ordinary test ever makes PyMongo retry
a transaction callback. `FaultyDatabase` forces the two failures MongoDB produces under load:

- "transient": the callback's writes happen, then a TransientTransactionError-labelled error is
  raised inside the transaction; PyMongo's `with_transaction` aborts (rolling the writes back)
  and calls the callback again.
- "unknown_after_commit": the transaction commits, then the caller is told
  UnknownTransactionCommitResult (the reply was lost).
- "unknown_before_commit": the same error, but nothing was written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.errors import OperationFailure

from economy.repos.base import Database

T = TypeVar("T")


def labelled(message: str, label: str, code: int = 112) -> OperationFailure:
    """An OperationFailure carrying a PyMongo error label, as the driver raises them."""
    error = OperationFailure(message, code)
    error._add_error_label(label)
    return error


class FaultyDatabase(Database):
    """The same database, with faults queued per transaction in `plan` (None = no fault)."""

    def __init__(self, inner: Database) -> None:
        super().__init__(inner.client, inner.name, write_lock=inner._lock)
        self.plan: list[str | None] = []
        self.callback_calls = 0
        self.transactions = 0

    async def transaction(self, work: Callable[[Any], Awaitable[T]]) -> T:
        fault = self.plan.pop(0) if self.plan else None
        self.transactions += 1
        if fault == "unknown_before_commit":
            raise labelled("injected: commit reply lost (not applied)",
                           "UnknownTransactionCommitResult", code=50)
        first = True

        async def counted(session: Any) -> T:
            nonlocal first
            self.callback_calls += 1
            result = await work(session)
            if fault == "transient" and first:
                first = False
                raise labelled("injected write conflict", "TransientTransactionError")
            return result

        result = await super().transaction(counted)
        if fault == "unknown_after_commit":
            raise labelled("injected: commit reply lost (applied)",
                           "UnknownTransactionCommitResult", code=50)
        return result
