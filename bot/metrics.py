"""Every Prometheus metric the bot exports, in one place, on a registry of its own.

One `Metrics` per bot (its own CollectorRegistry), so two bots in one test process never share
counters. The domain reports through `economy.core.observe.Observer` (implemented here); the Discord
adapter reports commands, DMs and jobs through the small helpers below.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from economy.core.observe import Observer

#: Interaction latency buckets (seconds): Discord wants a first answer within 3 s.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)
_STARTED = "gems_started_monotonic"
#: The Content-Type of `Metrics.render()`.
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics(Observer):
    """The bot's metrics; also the domain's Observer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter(
            "gems_commands", "Slash commands handled, by command and outcome "
            "(ok, refused: a friendly domain error, error: unexpected)",
            ["command", "outcome"], registry=r)
        self.interaction_latency = Histogram(
            "gems_interaction_latency_seconds",
            "Time from receiving a slash command to the end of its handler",
            ["command"], buckets=LATENCY_BUCKETS, registry=r)
        self.ledger_operations = Counter(
            "gems_ledger_operations", "Ledger operations by kind and outcome "
            "(applied, replayed, refused, unknown)", ["kind", "outcome"], registry=r)
        self.transaction_retries = Counter(
            "gems_transaction_retries", "Transaction bodies run again after a transient error",
            registry=r)
        self.store_errors = Counter(
            "gems_store_errors", "Database operations that failed with a driver error",
            ["operation"], registry=r)
        self.job_runs = Counter("gems_job_runs", "Scheduled job runs", ["job"], registry=r)
        self.job_failures = Counter("gems_job_failures", "Scheduled job runs that raised",
                                    ["job"], registry=r)
        self.job_duration = Histogram("gems_job_duration_seconds", "Scheduled job run time",
                                      ["job"], buckets=JOB_BUCKETS, registry=r)
        self.gateway_latency = Gauge(
            "gems_gateway_latency_seconds", "Heartbeat latency of each gateway shard",
            ["shard"], registry=r)
        self.dms = Counter("gems_dms", "Direct messages by outcome (sent, failed, opted_out)",
                           ["outcome"], registry=r)

    # --- economy.core.observe.Observer ------------------------------------------------------------
    def ledger_operation(self, kind: str, outcome: str) -> None:
        """Count one ledger operation."""
        self.ledger_operations.labels(kind, outcome).inc()

    def transaction_retry(self) -> None:
        """Count one retried transaction body."""
        self.transaction_retries.inc()

    def store_error(self, operation: str) -> None:
        """Count one failed database operation."""
        self.store_errors.labels(operation).inc()

    # --- the adapter -------------------------------------------------------------------------
    def command_started(self, interaction: Any) -> None:
        """Remember when a slash command arrived (on the interaction itself)."""
        interaction.extras[_STARTED] = time.monotonic()

    def command_finished(self, interaction: Any, outcome: str) -> None:
        """Count a finished slash command and observe its latency (once per interaction)."""
        started = interaction.extras.pop(_STARTED, None)
        command = getattr(interaction, "command", None)
        if started is None or command is None:
            return  # not a slash command (a button, a modal) or already counted
        name = command.qualified_name
        self.commands.labels(name, outcome).inc()
        self.interaction_latency.labels(name).observe(time.monotonic() - started)

    def timed_job(self, name: str, job: Callable[[], Awaitable[object]]
                  ) -> Callable[[], Awaitable[object]]:
        """`job`, counting its runs and failures and timing it (exceptions pass through)."""

        async def run() -> object:
            self.job_runs.labels(name).inc()
            started = time.monotonic()
            try:
                return await job()
            except Exception:
                self.job_failures.labels(name).inc()
                raise
            finally:
                self.job_duration.labels(name).observe(time.monotonic() - started)

        return run

    def set_gateway_latencies(self, latencies: Iterable[tuple[int, float]]) -> None:
        """Record each shard's heartbeat latency (skipped until a shard has measured one)."""
        for shard_id, seconds in latencies:
            if math.isfinite(seconds):
                self.gateway_latency.labels(str(shard_id)).set(seconds)

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


def metrics_of(client: Any) -> Metrics | None:
    """The Metrics of a bot (None for clients without, e.g. in unit tests)."""
    return getattr(client, "metrics", None)


def record_command_outcome(interaction: Any, outcome: str) -> None:
    """Count a slash command's outcome if its bot keeps metrics."""
    metrics = metrics_of(getattr(interaction, "client", None))
    if metrics is not None:
        metrics.command_finished(interaction, outcome)


def record_dm(bot: Any, outcome: str) -> None:
    """Count one DM attempt (sent, failed, opted_out) if the bot keeps metrics."""
    metrics = metrics_of(bot)
    if metrics is not None:
        metrics.dms.labels(outcome).inc()
