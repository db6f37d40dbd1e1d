"""Domain errors. Each carries a message that is safe and friendly to show the member.

One tree: every failure a member can cause derives from `GemsError` through one of these
branches (features subclass a branch, never `GemsError` itself; tests/core/test_error_tree.py
checks it). bot/error_handler.py shows the message ephemerally; a Cooldown also says when.

- InvalidInput: the request itself is wrong (InvalidAmount, a bad setting, a bad webhook...).
- NotFound: what was asked for does not exist in this guild.
- NotPermitted: this member may not do this (DeletedAccount).
- InsufficientFunds: not enough GEMS for the debit.
- Cooldown: not again until `retry_at`.
- Conflict: the thing changed meanwhile or is no longer in a state that allows this (a double
  click, a race, already decided: TradeUnavailable, QuoteChanged, MentorshipUnavailable,
  GuideUnavailable, a badge SoldOut or AlreadyHeld, IdempotencyConflict...).
- Unavailable: the feature is switched off or not set up (FeatureOff, PaymentsUnavailable).
- NeedsConfirmation: allowed only after the member confirms (WinnersNeedConfirmation).
- OutcomeUnknown: the store could not confirm a money movement (retry is safe).

Storage errors never reach a service: repositories translate them (AlreadyRecorded below, or a
branch of this tree).
"""

from __future__ import annotations

from datetime import datetime


class GemsError(Exception):
    """Base of every expected, user-facing failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(GemsError):
    """Input that fails validation (bad setting value, self-transfer, ...)."""


class InvalidAmount(InvalidInput):
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


class DeletedAccount(NotPermitted):
    """A credit to the anonymous account of a member who deleted their data (/privacy)."""


class Conflict(GemsError):
    """The thing changed meanwhile, or is no longer in a state that allows this action."""


class Unavailable(GemsError):
    """The feature is switched off in this guild or not set up on this bot."""


class NeedsConfirmation(GemsError):
    """The action is allowed only after the member confirms it (a button says so)."""


class IdempotencyConflict(Conflict):
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
