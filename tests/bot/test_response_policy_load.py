"""When the response policy defers on arrival: only when the process falls behind (issue 28).

A steady stream keeps several interactions in flight without being late; deferring them cost
a second HTTP call each. Bursts and a lagging event loop still defer at once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.load_gauge import LoadGauge
from bot.response_policy import BURST_ARRIVALS, LAG_LIMIT, ResponsePolicy
from tests.e2e_fixtures import seed

pytestmark = pytest.mark.timeout(60)


def started_policy() -> ResponsePolicy:
    """A policy whose load gauge runs in this loop (no bot, no acknowledger: the rule only)."""
    policy = ResponsePolicy(bot=None)
    policy.gauge.start()
    return policy


def arrive(policy: ResponsePolicy, key: int, at: float) -> None:
    """What `arrived` records for an interaction arriving at `at`."""
    policy.pending[key] = at
    policy.recent_arrivals = policy.gauge.arrival(at)


async def test_steady_stream_with_many_in_flight_is_not_busy():
    """100/s with ~0.3 s per answer: 30 in flight, more than the old rule's 8, yet on time."""
    policy = started_policy()
    try:
        now = time.monotonic()
        for i in range(30):  # one every 10 ms over the last 0.3 s, none answered yet
            arrive(policy, i, now - 0.3 + i * 0.01)
        assert policy.in_flight == 30 > policy.busy_threshold
        assert policy.busy_reason() is None
    finally:
        policy.gauge.stop()


async def test_burst_is_busy_after_a_few_arrivals():
    policy = started_policy()
    try:
        now = time.monotonic()
        reasons = []
        for i in range(BURST_ARRIVALS + 5):  # all within one millisecond
            arrive(policy, i, now + i * 1e-5)
            reasons.append(policy.busy_reason())
        assert reasons[:BURST_ARRIVALS] == [None] * BURST_ARRIVALS
        assert set(reasons[BURST_ARRIVALS:]) == {"burst"}
    finally:
        policy.gauge.stop()


async def test_many_waiting_is_busy_whatever_the_rate():
    policy = started_policy()
    try:
        now = time.monotonic()
        for i in range(policy.busy_ceiling + 1):  # arrived over the last 10 s, still waiting
            arrive(policy, i, now - 10 + i * 0.1)
        assert policy.busy_reason() == "waiting"
    finally:
        policy.gauge.stop()


@pytest.mark.slow  # wall-clock loop lag
async def test_a_lagging_event_loop_is_busy_while_it_lags_and_after():
    policy = started_policy()
    try:
        await asyncio.sleep(0.12)  # a few probes on time
        assert policy.gauge.lag() < LAG_LIMIT and policy.busy_reason() is None
        time.sleep(LAG_LIMIT + 0.1)  # noqa: ASYNC251 - the loop blocked on purpose: the probe is overdue
        assert policy.busy_reason() == "lag"
        await asyncio.sleep(0)  # the overdue probe runs and records the lateness
        await asyncio.sleep(0.01)
        assert policy.gauge.last_lag > LAG_LIMIT
        await asyncio.sleep(0.15)  # back on time: later probes ran without lag
        assert policy.busy_reason() is None
    finally:
        policy.gauge.stop()


async def test_gauge_window_forgets_old_arrivals():
    gauge = LoadGauge(window=0.1)
    assert [gauge.arrival(t) for t in (1.0, 1.05, 1.09, 1.2, 1.25)] == [1, 2, 3, 1, 2]


@pytest.mark.slow  # wall-clock traffic rate
async def test_steady_traffic_through_the_bot_is_answered_directly(gc):
    """End to end: interactions spaced over time, several in flight, none deferred on arrival
    (the old rule deferred every one once more than 8 waited)."""
    await seed(gc, "alice", 1000)
    policy = gc.bot.response_policy
    assert policy.gauge.running
    await gc.slash("alice", "gems balance")  # teaches the route (a known route may be deferred)
    # The old rule (count > busy_threshold) at its most eager: no longer decides while the
    # gauge runs.
    policy.busy_threshold = -1
    before = (policy.stats.deferred_busy, policy.stats.busy_lag)

    async def one(i: int):
        await asyncio.sleep(i * 0.02)  # 50/s
        return await gc.slash("alice", "gems balance")

    results = await asyncio.gather(*(one(i) for i in range(20)))
    assert all("💎" in r.text for r in results)
    # None deferred as a burst; a loaded host's loop lag may still defer some (and should).
    assert policy.stats.deferred_busy - before[0] == policy.stats.busy_lag - before[1]
