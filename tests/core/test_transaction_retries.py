"""Retries proven, not assumed: transient transaction errors and ambiguous commits.

Each test drives a real service over a FaultyDatabase (tests/faults.py) and checks that money
moved exactly once and the caller got the right answer.
"""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import OutcomeUnknown
from economy.repos.ledger_repo import LedgerRepo
from economy.services import build_services
from tests.conftest import relax_offer_limits
from tests.faults import FaultyDatabase

pytestmark = pytest.mark.timeout(60)

G = 7


@pytest.fixture
def faulty(store, clock):
    db = FaultyDatabase(store.db)
    return db, build_services(db, clock)


@pytest.fixture(autouse=True)
async def _many_offers(faulty):
    await relax_offer_limits(faulty[1], G)


async def _ok(services):
    report = await audit(services.db)
    assert report.ok, report.render()


async def _entries(services, key):
    return await LedgerRepo(services.db).entries_for_key(G, key)


async def test_transient_error_retries_the_callback_once_and_moves_once(faulty):
    db, services = faulty
    await services.ledger.grant(G, Actor(1, is_admin=True), 10, 100, reason="seed", key="seed")
    db.plan = ["transient"]
    calls_before = db.callback_calls
    movement = await services.ledger.transfer(G, 10, 11, 30, key="t1")
    assert db.callback_calls - calls_before == 2  # the first attempt was rolled back and re-run
    assert not movement.replayed
    assert await services.ledger.balance(G, 10) == 70
    assert await services.ledger.balance(G, 11) == 30
    assert len(await _entries(services, "t1")) == 2
    await _ok(services)


async def test_commit_reply_lost_after_commit_answers_success_without_second_movement(faulty):
    db, services = faulty
    await services.ledger.grant(G, Actor(1, is_admin=True), 10, 100, reason="seed", key="seed")
    db.plan = ["unknown_after_commit"]
    before = db.transactions
    movement = await services.ledger.transfer(G, 10, 11, 30, key="t2")
    assert not movement.replayed and movement.idempotency_key == "t2"
    assert db.plan == [] and db.transactions == before + 1  # no second attempt
    assert await services.ledger.balance(G, 10) == 70
    assert len(await _entries(services, "t2")) == 2
    await _ok(services)


async def test_commit_reply_lost_before_commit_retries_under_the_same_key(faulty):
    db, services = faulty
    await services.ledger.grant(G, Actor(1, is_admin=True), 10, 100, reason="seed", key="seed")
    db.plan = ["unknown_before_commit"]
    movement = await services.ledger.transfer(G, 10, 11, 30, key="t3")
    assert not movement.replayed
    assert await services.ledger.balance(G, 10) == 70
    assert len(await _entries(services, "t3")) == 2
    await _ok(services)


async def test_outcome_that_stays_unknown_tells_the_member_to_check_history(faulty):
    db, services = faulty
    await services.ledger.grant(G, Actor(1, is_admin=True), 10, 100, reason="seed", key="seed")
    db.plan = ["unknown_before_commit", "unknown_before_commit"]
    with pytest.raises(OutcomeUnknown) as info:
        await services.ledger.transfer(G, 10, 11, 30, key="t4")
    assert "may have gone through" in info.value.message and "/gems history" in info.value.message
    assert await services.ledger.balance(G, 10) == 100  # in this case it really did not
    # The member retries the same request: it moves exactly once.
    await services.ledger.transfer(G, 10, 11, 30, key="t4")
    await services.ledger.transfer(G, 10, 11, 30, key="t4")
    assert await services.ledger.balance(G, 10) == 70
    await _ok(services)


async def test_escrow_purchase_and_settlement_survive_retries(faulty, clock):
    db, services = faulty
    await services.ledger.grant(G, Actor(1, is_admin=True), 20, 1_000, reason="seed", key="seed")
    trade = await services.trades.offer(G, seller_id=21, buyer_id=20, price=400,
                                        description="a loupe")
    db.plan = ["transient"]
    accepted = await services.trades.accept(G, trade.trade_id, 20)
    assert accepted.trade.status == "reserved"
    account = await services.ledger.account(G, 20)
    assert (account.balance, account.held) == (600, 400)
    db.plan = ["transient"]  # the delivery transition (no money) is retried too
    await services.trades.mark_delivered(G, trade.trade_id, 21)
    db.plan = ["unknown_after_commit"]
    confirmed = await services.trades.confirm(G, trade.trade_id, 20)
    assert confirmed.changed and confirmed.trade.status == "completed"
    fee = 400 * 250 // 10_000
    assert await services.ledger.balance(G, 21) == 400 - fee
    assert len(await _entries(services, f"trade:{trade.trade_id}:settle")) >= 2
    events = [e.event for e in confirmed.trade.timeline]
    assert events.count("confirmed") == 1 and events.count("delivered") == 1
    await _ok(services)


async def test_activity_flush_with_transient_error_credits_once(faulty, clock):
    db, services = faulty
    from economy.currency.activity import ChatMessage
    settings = await services.settings.get(G)
    for i in range(3):
        clock.advance(seconds=settings.activity_cooldown_seconds + 1)
        await services.activity.record(ChatMessage(
            guild_id=G, user_id=30, channel_id=1, role_ids=frozenset(),
            content=f"hello there number {i}", author_is_bot=False, at=clock.now()))
    db.plan = ["transient"]
    assert await services.activity.flush() == 3 * settings.activity_amount
    assert await services.ledger.balance(G, 30) == 3 * settings.activity_amount
    await _ok(services)


async def test_member_is_told_to_check_history_when_the_outcome_stays_unknown(store, clock):
    from bot.demo.community import GemsCommunity

    db = FaultyDatabase(store.db)
    async with GemsCommunity.open(db, clock=clock) as gc:
        await gc.services.ledger.grant(gc.guild.id, Actor.system(), gc["alice"].id, 100, reason="seed",
                                       key="seed")
        db.plan = ["unknown_after_commit"]  # applied, reply lost: the member sees success
        r = await gc.slash("alice", "gems give", member=gc["bob"], amount=10)
        assert not r.ephemeral and "gave" in r.content, r.content
        db.plan = ["unknown_before_commit", "unknown_before_commit"]
        r = await gc.slash("alice", "gems give", member=gc["bob"], amount=10)
        assert r.ephemeral and "may have gone through" in r.content, r.content
        assert "something went wrong" not in r.content.lower()
        assert await gc.services.ledger.balance(gc.guild.id, gc["bob"].id) == 10
        assert not gc.sb.deadline_violations
    report = await audit(gc.services.db)
    assert report.ok, report.render()
