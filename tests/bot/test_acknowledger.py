"""Defers sent by the acknowledger thread: exactly one initial response per interaction.

Through the Discord sandbox, which refuses a second initial response as Discord does (40060).
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from bot.acknowledger import Acknowledger, AckOutcome, Claim, defer_body
from discord_sandbox.interactions import DEFERRED_CHANNEL_MESSAGE
from tests.e2e_fixtures import balance, seed

pytestmark = pytest.mark.timeout(60)


def callbacks(gc, interaction_id: int) -> list:
    """The initial-response requests the bot made for one interaction."""
    return [r for r in gc.sb.requests
            if r.method == "POST" and r.path.startswith(f"/interactions/{interaction_id}/")]


def ack_thread(gc) -> Acknowledger:
    ack = gc.bot.response_policy.acknowledger
    assert ack is not None and ack.running  # started at login
    return ack


async def test_sandbox_refuses_a_second_initial_response(gc):
    """The stand-in must refuse what Discord refuses, or the tests below prove nothing."""
    await seed(gc, "alice", 10)
    r = await gc.slash("alice", "gems balance")
    url = f"{gc.sb.base_url}/api/v10/interactions/{r.id}/{gc.sb.server.interactions[r.id].token}/callback"
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as response:
        assert response.status == 400 and (await response.json())["code"] == 40060


@pytest.mark.slow  # a burst
async def test_burst_through_the_acknowledger_sends_one_initial_response_each(gc):
    await seed(gc, "alice", 1000)
    ack = ack_thread(gc)
    policy = gc.bot.response_policy
    # every interaction deferred on arrival, by the thread
    policy.busy_threshold = policy.busy_ceiling = -1
    await gc.slash("bob", "gems balance")  # teach the route its visibility
    sent_before = ack.sent
    results = await asyncio.gather(
        *(gc.slash("alice", "gems give", member=gc["bob"], amount=1, note=f"b{i}") for i in range(25)),
        *(gc.slash("bob", "gems balance") for _ in range(25)),
    )
    for r in results:
        sent = callbacks(gc, r.id)
        assert len(sent) == 1 and sent[0].status == 200, sent
        assert r.response_type == DEFERRED_CHANNEL_MESSAGE and r.errors == []
    assert ack.sent - sent_before == 50  # every defer left from the thread
    assert all("💎 1 GEMS" in g.content for g in results[:25])
    assert all("💎" in b.text for b in results[25:])
    assert await balance(gc, "alice") == 975


async def test_handler_racing_the_acknowledger_never_answers_twice(gc):
    """The thread's watchdog fires at once and races every handler: one claim decides."""
    await seed(gc, "alice", 1000)
    ack = ack_thread(gc)
    policy = gc.bot.response_policy
    policy.busy_threshold, policy.watchdog_seconds = 10**6, 0.0
    policy.busy_ceiling = policy.burst_arrivals = 10**6  # never busy: the watchdog is the subject
    policy.lag_limit = float("inf")
    before = (ack.sent, ack.skipped)
    results = await asyncio.gather(
        *(gc.slash("alice", "gems give", member=gc["bob"], amount=1, note=f"r{i}") for i in range(20)),
        *(gc.slash("bob", "gems balance") for _ in range(20)),
    )
    for r in results:
        sent = callbacks(gc, r.id)
        assert len(sent) == 1 and sent[0].status == 200, sent
        assert r.errors == []
    assert all(any("💎 1 GEMS" in m.content for m in g.messages if not m.deleted)
               for g in results[:20])
    assert await balance(gc, "alice") == 980
    # Each of the 40 went one way or the other, never both.
    assert (ack.sent - before[0]) + (ack.skipped - before[1]) == 40


async def test_acknowledger_failing_leaves_the_answer_to_the_handler(gc):
    """Defers that cannot be sent (Discord unreachable from the thread): each handler still
    sends exactly one initial response, its own."""
    await seed(gc, "alice", 100)
    policy = gc.bot.response_policy
    policy.stop()
    broken = Acknowledger(base_url=lambda: "http://127.0.0.1:9/api/v10", timeout=1.0)
    policy.acknowledger = broken
    broken.start()
    try:
        policy.busy_threshold = policy.busy_ceiling = -1
        await gc.slash("bob", "gems balance")
        results = await asyncio.gather(
            *(gc.slash("alice", "gems give", member=gc["bob"], amount=2, note=f"f{i}")
              for i in range(5)))
        for r in results:
            sent = callbacks(gc, r.id)
            assert len(sent) == 1 and sent[0].status == 200, sent
            assert "💎 2 GEMS" in r.content and r.errors == []
        assert broken.failed >= 5 and policy.stats.ack_failures >= 5
        assert await balance(gc, "bob") == 10
    finally:
        broken.stop()


async def test_claim_is_taken_once_across_threads():
    claim = Claim()
    results: list[bool] = []

    def take(who: str) -> None:
        results.append(claim.take(who))

    threads = [asyncio.to_thread(take, f"t{i % 2}") for i in range(50)]
    await asyncio.gather(*threads)
    owner = claim.owner
    assert owner in ("t0", "t1")
    assert results.count(True) == 25 and not claim.take("t1" if owner == "t0" else "t0")


async def test_acknowledger_skips_an_interaction_the_handler_claimed():
    ack = Acknowledger(base_url=lambda: "http://127.0.0.1:9/api/v10")
    ack.start()
    try:
        claim = Claim()
        assert claim.take("handler")
        outcome = await ack.acknowledge(claim, 1, "t", defer_body(update=True, ephemeral=False))
        assert outcome is AckOutcome.SKIPPED and ack.skipped == 1
    finally:
        ack.stop()
    assert defer_body(update=False, ephemeral=True) == {
        "type": discord.InteractionResponseType.deferred_channel_message.value,
        "data": {"flags": 64}}


async def test_busy_handlers_are_capped_while_defers_are_in_flight(gc, monkeypatch):
    """While defers of a burst are still out, only a few handlers run at once (the loop must
    keep reading the burst); every interaction is still answered once, nothing deadlocks."""
    from bot import response_policy
    monkeypatch.setattr(response_policy, "HANDLERS_WHILE_ACKING", 2)
    await seed(gc, "alice", 100)
    policy = gc.bot.response_policy
    policy.busy_threshold = policy.busy_ceiling = -1
    await gc.slash("bob", "gems balance")
    seen: list[int] = []
    sampling = True

    async def sample() -> None:
        while sampling:
            if policy.acks_pending > 0:
                seen.append(policy.handlers_running)
            await asyncio.sleep(0)

    sampler = asyncio.create_task(sample())
    try:
        results = await asyncio.gather(*(gc.slash("bob", "gems balance") for _ in range(30)))
    finally:
        sampling = False
        await sampler
    for r in results:
        assert len(callbacks(gc, r.id)) == 1 and "💎" in r.text
    assert seen and max(seen) <= 2
    assert policy.acks_pending == 0 and policy.handlers_running == 0


async def test_a_defer_whose_answer_was_lost_is_adopted_not_repeated(gc):
    """The defer reaches Discord but its reply is lost (the connection drops): the handler
    answers itself, Discord says 40060, and the answer then edits the thread's defer. Exactly
    one initial response is accepted and the member gets the answer."""
    from aiohttp import web

    async def forward_then_drop(request: web.Request) -> web.Response:
        body = await request.read()
        async with aiohttp.ClientSession() as http, http.post(
                gc.sb.base_url + request.path_qs, data=body,
                headers={"Content-Type": "application/json"}) as reply:
            await reply.read()
        assert request.transport is not None
        request.transport.close()  # Discord took the defer; its reply never arrives
        return web.Response()

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward_then_drop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await seed(gc, "alice", 100)
    policy = gc.bot.response_policy
    policy.stop()
    lossy = Acknowledger(base_url=lambda: f"http://127.0.0.1:{port}/api/v10")
    policy.acknowledger = lossy
    lossy.start()
    try:
        policy.busy_threshold = policy.busy_ceiling = -1
        await gc.slash("bob", "gems balance")
        results = await asyncio.gather(
            *(gc.slash("alice", "gems give", member=gc["bob"], amount=1, note=f"u{i}")
              for i in range(5)))
        for r in results:
            statuses = [c.status for c in callbacks(gc, r.id)]
            assert statuses == [200, 400], statuses  # the thread's defer, the handler's 40060
            assert r.response_type == DEFERRED_CHANNEL_MESSAGE and r.errors == []
            assert "💎 1 GEMS" in r.content
        assert await balance(gc, "bob") == 5 and lossy.failed >= 5
    finally:
        lossy.stop()
        await runner.cleanup()
