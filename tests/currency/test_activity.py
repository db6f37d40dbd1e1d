"""Activity earning: rules, coalesced writes, concurrency with transfers, restart safety."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.currency.activity import ChatMessage
from economy.services import build_services

G = 9


def msg(clock, user=1, content="hello there friends", channel=10, roles=(), bot=False):
    return ChatMessage(guild_id=G, user_id=user, channel_id=channel, role_ids=frozenset(roles),
                       content=content, author_is_bot=bot, at=clock.now())


async def test_rules(services, clock):
    await services.settings.set(G, Actor(1, is_admin=True), "activity_excluded_channels", "99")
    await services.settings.set(G, Actor(1, is_admin=True), "activity_excluded_roles", "55")
    act = services.activity
    assert await act.record(msg(clock)) == 5
    assert await act.record(msg(clock, content="another message")) == 0  # cooldown
    clock.advance(seconds=61)
    assert await act.record(msg(clock, content="a third message")) == 5
    clock.advance(seconds=61)
    assert await act.record(msg(clock, content="A   THIRD message")) == 0  # identical repeat
    assert await act.record(msg(clock, content="hi")) == 0  # too short
    assert await act.record(msg(clock, user=2, bot=True)) == 0
    assert await act.record(msg(clock, user=3, channel=99)) == 0
    assert await act.record(msg(clock, user=4, roles=(55,))) == 0
    assert act.pending_total() == 10
    assert await services.ledger.balance(G, 1) == 0  # nothing written until the flush
    assert await act.flush() == 10
    assert await services.ledger.balance(G, 1) == 10
    assert act.pending_total() == 0
    assert await act.flush() == 0


async def test_flush_uses_multiplier_and_keeps_ledger_whole(services, clock):
    await services.boosts.windows.add(G, 200, starts_at=clock.now(), ends_at=clock.now() + timedelta(days=2),
                                   reason="double weekend")
    for user in range(1, 51):
        await services.activity.record(msg(clock, user=user))
    assert await services.activity.flush() == 50 * 10
    report = await audit(services.db)
    assert report.ok, report.render()


@pytest.mark.slow  # 560 earnings racing transfers
async def test_earning_and_transfers_interleave_safely(services, clock):
    await services.ledger.grant(G, Actor(1, is_admin=True), 1, 10_000, reason="seed", key="seed")

    async def chatter():
        for round_ in range(20):
            for user in range(2, 30):
                await services.activity.record(msg(clock, user=user, content=f"msg {round_} {user}"))
            clock.advance(seconds=61)
            await services.activity.flush()

    async def payer():
        for i in range(200):
            await services.ledger.transfer(G, 1, 2 + i % 28, 3, key=f"pay:{i}")

    await asyncio.gather(chatter(), payer())
    await services.activity.flush()
    report = await audit(services.db)
    assert report.ok, report.render()
    total = sum([await services.ledger.balance(G, u) for u in range(1, 30)])
    assert total == 10_000 + 20 * 28 * 5


async def test_failed_flush_keeps_earnings_and_retries_without_double_credit(services, clock, monkeypatch):
    await services.activity.record(msg(clock))
    calls = {"n": 0}
    real = services.ledger.earn_batch

    async def flaky(guild_id, amounts, *, batch_key):
        calls["n"] += 1
        result = await real(guild_id, amounts, batch_key=batch_key)
        if calls["n"] == 1:
            raise ConnectionError("lost the reply after the commit")
        return result

    monkeypatch.setattr(services.ledger, "earn_batch", flaky)
    assert await services.activity.flush() == 0
    assert services.activity.pending_total() == 5
    await services.activity.flush()  # same batch key: recognised, not credited again
    assert await services.ledger.balance(G, 1) == 5
    assert services.activity.pending_total() == 0


async def test_clean_stop_and_restart_lose_nothing(store, clock):
    first = build_services(store.db, clock)
    for user in range(1, 11):
        await first.activity.record(msg(clock, user=user))
    await first.activity.flush()  # what the bot's close() does
    second = build_services(store.db, clock)  # a new process over the same database
    assert [await second.ledger.balance(G, u) for u in range(1, 11)] == [5] * 10
