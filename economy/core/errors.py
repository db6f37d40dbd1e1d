"""Domain errors. Each carries a message that is safe and friendly to show the member."""

from __future__ import annotations

from datetime import datetime


class GemsError(Exception):
    """Base of every expected, user-facing failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAmount(GemsError):
    """An amount that is not a positive whole number within limits."""


class InsufficientFunds(GemsError):
    """The account does not hold enough GEMS for the debit."""

    def __init__(self, message: str, *, balance: int | None = None, needed: int | None = None):
        super().__init__(message)
        self.balance = balance
        self.needed = needed


class Cooldown(GemsError):
    """The action is not available again until `retry_at`."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class NotPermitted(GemsError):
    """The member may not do this."""


class NotFound(GemsError):
    """The thing asked for does not exist (in this guild)."""


class InvalidInput(GemsError):
    """Input that fails validation (bad setting value, self-transfer, ...)."""


class DeletedAccount(NotPermitted):
    """A credit to the anonymous account of a member who deleted their data (/privacy)."""


class IdempotencyConflict(GemsError):
    """An idempotency key was reused for a different operation."""


class OutcomeUnknown(GemsError):
    """The store could not confirm whether a money movement committed.

    The operation's idempotency key makes a retry safe; the member is told to check their
    history rather than that it failed.
    """


class AlreadyRecorded(Exception):
    """A write met a record that already exists under a unique key: an idempotency key, one
    rating per rater, one vote per member, a wallet linked once.

    Repositories raise it in place of the store's duplicate-key error, so services never see
    the driver; each service turns it into its own answer (a replay or a friendly refusal).
    Not a GemsError: its message is not meant for the member.
    """

    def __init__(self, message: str = "already recorded",
                 entries: list[dict] | None = None) -> None:
        super().__init__(message)
        #: The ledger legs already recorded under the key, when the repository read them.
        self.entries = entries
