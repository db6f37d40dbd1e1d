"""What the domain reports to whoever watches it (metrics), without knowing who that is.

The process (bot.metrics.Metrics) implements `Observer`; the domain calls it through the
database handle (`Database.observer`), so economy/ never imports Prometheus or Discord.
The default observer does nothing.
"""

from __future__ import annotations


class Observer:
    """No-op observer; subclasses count what they care about. Methods must never raise."""

    def ledger_operation(self, kind: str, outcome: str) -> None:
        """A ledger operation finished: outcome is `applied`, `replayed` or `refused`."""

    def transaction_retry(self) -> None:
        """A transaction body ran again (a transient error was retried)."""

    def store_error(self, operation: str) -> None:
        """A database operation failed with a driver error (`transaction`, `write`, `ping`)."""


NULL_OBSERVER = Observer()
