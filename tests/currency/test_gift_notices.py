"""Gift DMs in the domain: queued in the gift's transaction, coalesced per recipient, told once."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from economy.core.actor import Actor
from economy.core.errors import Cooldown, InsufficientFunds

pytestmark = pytest.mark.timeout(60)

G = 62
_seq = itertools.count(1)


async def seed(services, user, amount):
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}:{next(_seq)}")


async def test_concurrent_gifts_are_told_exactly_once_in_one_digest(services, clock):
    await services.settings.set(G, Actor.system(), "give_daily_cap", "1000")
    for sender in (1, 2, 3):
        await seed(services, sender, 10_000)
    gives = [services.gifts.give(G, sender, 9, 300, key=f"g:{sender}:{i}", note=f"n{i}")
             for sender in (1, 2, 3) for i in range(5)]
    results = await asyncio.gather(*gives, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, Cooldown) for r in refused)
    received = await services.ledger.balance(G, 9)
    assert received == 3 * 900  # three gifts per sender fit under the cap
    assert await services.gifts.due_digests() == []  # not due yet
    clock.advance(minutes=2)
    digests = (await asyncio.gather(services.gifts.due_digests(),
                                    services.gifts.due_digests()))
    told = [d for batch in digests for d in batch]
    assert len(told) == 1  # two sweeps at once: the recipient is told once
    digest = told[0]
    assert (digest.guild_id, digest.user_id, digest.total) == (G, 9, received)
    assert sorted((line.sender_id, line.amount, line.count) for line in digest.lines) == [
        (1, 900, 3), (2, 900, 3), (3, 900, 3)]
    assert await services.gifts.due_digests() == []


async def test_replays_and_refusals_queue_nothing_more(services, clock):
    await seed(services, 1, 100)
    for _ in range(3):
        await services.gifts.give(G, 1, 9, 40, key="same-click")
    with pytest.raises(InsufficientFunds):
        await services.gifts.give(G, 1, 9, 500, key="too-much")
    clock.advance(minutes=2)
    [digest] = await services.gifts.due_digests()
    assert [(line.sender_id, line.amount, line.count) for line in digest.lines] == [(1, 40, 1)]


async def test_a_gift_within_the_window_joins_the_waiting_digest(services, clock):
    await services.settings.set(G, Actor.system(), "gift_dm_minutes", "5")
    await seed(services, 1, 100)
    await services.gifts.give(G, 1, 9, 10, key="a")
    clock.advance(minutes=4)
    await services.gifts.give(G, 1, 9, 20, key="b", note="late")
    assert await services.gifts.due_digests() == []
    clock.advance(minutes=1)
    [digest] = await services.gifts.due_digests()  # the oldest is due: both go together
    assert [(line.amount, line.count, line.note) for line in digest.lines] == [(30, 2, "late")]


async def test_a_double_click_at_once_moves_and_tells_once(services, clock):
    await seed(services, 1, 100)
    results = await asyncio.gather(
        *[services.gifts.give(G, 1, 9, 30, key="double-click") for _ in range(4)])
    assert {r.movement.entries[0].delta for r in results} == {-30}
    assert await services.ledger.balance(G, 9) == 30
    clock.advance(minutes=2)
    [digest] = await services.gifts.due_digests()
    assert [(line.amount, line.count) for line in digest.lines] == [(30, 1)]


def test_a_digest_survives_the_hand_over_to_another_process():
    from bot.guild_work import decode, encode
    from economy.currency.gifts import GiftDigest, GiftLine

    digest = GiftDigest(guild_id=G, user_id=9, lines=(GiftLine(1, 30, 2, "hi"), GiftLine(2, 5)))
    assert decode(GiftDigest, encode(digest)) == digest
