"""Abuse limits (issue 8): alt farming, giving caps, fan-in flags, offer limits, wash trading."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.eligibility import DISCORD_EPOCH_MS, account_created_at
from economy.core.errors import Cooldown, NotPermitted
from economy.currency.activity import ChatMessage
from economy.trades.repo import TradeRepo

pytestmark = pytest.mark.timeout(60)

G = 61
_seq = itertools.count(1)


def account(clock, days_old: float) -> int:
    """A user id (snowflake) for an account created `days_old` days before the clock's now."""
    created = clock.now() - timedelta(days=days_old)
    return ((int(created.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) | next(_seq)


async def seed(services, user, amount):
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}:{next(_seq)}")


async def assert_audit_ok(services):
    report = await audit(services.db)
    assert report.ok, report.render()


def test_account_age_comes_from_the_snowflake(clock):
    uid = account(clock, 3)
    assert abs(account_created_at(uid) - (clock.now() - timedelta(days=3))) < timedelta(seconds=1)


# --- alt farming ----------------------------------------------------------------------------------
async def test_young_accounts_and_new_members_neither_claim_nor_give(services, clock):
    settings = await services.settings.get(G)
    young, old = account(clock, 2), account(clock, 400)
    await seed(services, young, 100)
    with pytest.raises(NotPermitted, match="at least 7 day"):
        await services.ledger.claim_daily(G, young, settings)
    with pytest.raises(NotPermitted, match="at least 7 day"):
        await services.gifts.give(G, young, old, 10, key="g1")
    just_joined = clock.now() - timedelta(hours=3)
    with pytest.raises(NotPermitted, match="in this server for at least 1 day"):
        await services.ledger.claim_daily(G, old, settings, joined_at=just_joined)
    assert await services.ledger.balance(G, young) == 100
    assert await services.ledger.balance(G, old) == 0
    clock.advance(days=6)  # the young account is now 8 days old
    await services.gifts.give(G, young, old, 10, key="g2")
    claim = await services.ledger.claim_daily(G, old, settings,
                                              joined_at=clock.now() - timedelta(days=2))
    assert claim.amount == settings.daily_amount
    await services.settings.set(G, Actor.system(), "min_account_age_days", "0")
    fresh = account(clock, 0)
    assert (await services.ledger.claim_daily(G, fresh, await services.settings.get(G))).amount


async def test_young_accounts_do_not_earn_from_chat(services, clock):
    def said(user, text, joined=None):
        return ChatMessage(guild_id=G, user_id=user, channel_id=1, role_ids=frozenset(),
                           content=text, author_is_bot=False, at=clock.now(), joined_at=joined)

    young, old = account(clock, 1), account(clock, 100)
    assert await services.activity.record(said(young, "hello everyone here")) == 0
    assert await services.activity.record(
        said(old, "hello everyone here", joined=clock.now() - timedelta(minutes=5))) == 0
    assert await services.activity.record(
        said(old, "hello everyone again", joined=clock.now() - timedelta(days=3))) == 5


async def test_repeat_guard_remembers_the_last_k_messages(services, clock):
    act = services.activity

    def said(text):
        clock.advance(seconds=61)
        return ChatMessage(guild_id=G, user_id=7, channel_id=1, role_ids=frozenset(),
                           content=text, author_is_bot=False, at=clock.now())

    texts = ["first macro text", "second macro text", "third macro text"]
    assert [await act.record(said(t)) for t in texts] == [5, 5, 5]
    assert [await act.record(said(t)) for t in texts] == [0, 0, 0]  # cycling 3 texts earns nothing
    await services.settings.set(G, Actor.system(), "activity_repeat_memory", "2")
    assert await act.record(said("first macro text")) == 5  # older than the last 2


# --- giving caps and fan-in -----------------------------------------------------------------------
async def test_daily_giving_cap_holds_under_concurrency(services, clock):
    await services.settings.set(G, Actor.system(), "give_daily_cap", "1000")
    await seed(services, 1, 10_000)
    results = await asyncio.gather(
        *[services.gifts.give(G, 1, 2, 300, key=f"cap:{i}") for i in range(8)],
        return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert len(ok) == 3
    assert all(isinstance(r, Cooldown) for r in results if isinstance(r, BaseException))
    assert await services.ledger.balance(G, 2) == 900
    with pytest.raises(Cooldown, match="given 900 today"):
        await services.gifts.give(G, 1, 2, 200, key="cap:more")
    await services.gifts.give(G, 1, 2, 100, key="cap:fits")  # exactly up to the cap
    clock.advance(days=1)
    await services.gifts.give(G, 1, 2, 1000, key="cap:tomorrow")
    assert await services.ledger.balance(G, 2) == 2000
    await assert_audit_ok(services)


async def test_a_replayed_give_does_not_count_twice_against_the_cap(services):
    await services.settings.set(G, Actor.system(), "give_daily_cap", "500")
    await seed(services, 1, 10_000)
    for _ in range(3):
        await services.gifts.give(G, 1, 2, 400, key="same-click")
    assert await services.ledger.balance(G, 2) == 400
    await services.gifts.give(G, 1, 2, 100, key="second")


async def test_fan_in_from_young_accounts_is_flagged_once(services, clock):
    clock.advance(days=1)
    target = account(clock, 900)
    alts = [account(clock, 10) for _ in range(4)]  # old enough to give, young enough to flag
    for alt in alts:
        await seed(services, alt, 50)
    flags = []
    for alt in alts:
        flags += (await services.gifts.give(G, alt, target, 50, key=f"fan:{alt}")).flags
    assert len(flags) == 1 and "3 young accounts" in flags[0] and f"<@{target}>" in flags[0]
    veteran = account(clock, 900)
    await seed(services, veteran, 50)
    assert (await services.gifts.give(G, veteran, target, 50, key="vet")).flags == ()


# --- trade offers -----------------------------------------------------------------------------------
async def test_offer_cooldown_and_cap_per_recipient(services, clock):
    await services.settings.set(G, Actor.system(), "offer_max_open_to_member", "2")
    await services.trades.offer(G, 1, 9, 10, "first thing")
    with pytest.raises(Cooldown, match="wait a little"):
        await services.trades.offer(G, 1, 9, 10, "second thing")
    clock.advance(seconds=31)
    await services.trades.offer(G, 1, 9, 10, "second thing")
    clock.advance(seconds=31)
    with pytest.raises(NotPermitted, match="already has 2 open offers"):
        await services.trades.offer(G, 2, 9, 10, "third thing")
    assert await services.db["trades"].count_documents({"guild_id": G}) == 2
    # Concurrent offers from many members cannot get past the cap either.
    results = await asyncio.gather(
        *[services.trades.offer(G, 100 + i, 8, 10, f"thing {i}") for i in range(6)],
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 2
    assert await TradeRepo(services.db).open_offers_to(G, 8) == 2


async def test_members_with_dms_off_get_no_offers(services):
    await services.member_prefs.set_dms(G, 9, False)
    with pytest.raises(NotPermitted, match="turned off trade offers"):
        await services.trades.offer(G, 1, 9, 10, "a thing")
    await services.member_prefs.set_dms(G, 9, True)
    await services.trades.offer(G, 1, 9, 10, "a thing")


async def test_wash_trade_block_refuses_a_flagged_pair(services, clock):
    await services.settings.set(G, Actor.system(), "escrow_wash_trade_count", "2")
    await services.settings.set(G, Actor.system(), "offer_cooldown_seconds", "0")
    await seed(services, 2, 1000)
    for i in range(2):
        trade = await services.trades.offer(G, 1, 2, 10, f"lot {i}")
        await services.trades.accept(G, trade.trade_id, 2)
        await services.trades.confirm(G, trade.trade_id, 2)
    await services.trades.offer(G, 1, 2, 10, "lot 3")  # reported only (default)
    await services.settings.set(G, Actor.system(), "escrow_wash_trade_block", "on")
    with pytest.raises(NotPermitted, match="repeated"):
        await services.trades.offer(G, 1, 2, 10, "lot 4")
    with pytest.raises(NotPermitted, match="repeated"):
        await services.trades.offer(G, 2, 1, 10, "reverse")
    await services.trades.offer(G, 1, 3, 10, "someone else")
