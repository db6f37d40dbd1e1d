"""`/gems-admin member`: staff see a member's records privately; members are refused."""

from __future__ import annotations

import pytest

from economy.core.clock import to_ms
from tests.e2e_fixtures import db_state, seed

pytestmark = pytest.mark.timeout(60)

WALLET = "0x" + "ab" * 20


async def _records(gc):
    """alice: GEMS, a gift, a disputed trade with bob, a stored flag and a linked wallet."""
    g = gc.guild.id
    await seed(gc, "alice", 1000)
    await seed(gc, "bob", 500)
    await gc.slash("alice", "gems give", member=gc["carol"], amount=30, note="for @everyone")
    trades = gc.services.trades
    trade = await trades.offer(g, gc["bob"].id, gc["alice"].id, 200, "Blue sapphire ring")
    await trades.accept(g, trade.trade_id, gc["alice"].id)
    await trades.mark_delivered(g, trade.trade_id, gc["bob"].id)
    await gc.services.disputes.open(g, trade.trade_id, gc["alice"].id, "It never arrived **at all**")
    await gc.services.members.repo.claim_interval(g, gc["alice"].id, "flag:fan-in",
                                                  to_ms(gc.clock.now()), 1)
    await gc.services.wallets._repo.insert_many([{
        "guild_id": g, "user_id": gc["alice"].id, "address": WALLET, "linked_ms": 0}])
    return trade


async def test_staff_see_a_members_records_privately(gc):
    trade = await _records(gc)
    for who in ("admin", "mod"):
        r = await gc.slash(who, "gems-admin member", member=gc["alice"])
        assert r.ephemeral, r.content
        text = r.text
        assert "alice: member records" in text and "Balance 💎 770 GEMS" in text
        assert "held in escrow 200" in text and "`200` Held in escrow" in text
        assert f"to <@{gc['carol'].id}>" in text and "for @everyone" in text  # ledger entry
        assert f"#{trade.trade_id} Blue sapphire ring" in text and "buyer with" in text
        assert "disputed" in text and "It never arrived \\*\\*at all\\*\\*" in text
        assert "🚩 Received GEMS from several young accounts" in text
        assert WALLET in text
        assert r.message.allowed_mentions == {"parse": []}


async def test_a_member_with_nothing_yet(gc):
    r = await gc.slash("admin", "gems-admin member", member=gc["erin"])
    assert r.ephemeral and "Balance 💎 0 GEMS" in r.text and "No movements yet." in r.text
    assert "None linked." in r.text


async def test_members_are_refused_and_see_nothing(gc):
    await _records(gc)
    before = await db_state(gc)
    for who in ("bob", "carol"):
        r = await gc.slash(who, "gems-admin member", member=gc["alice"])
        assert r.ephemeral and "Only moderators and admins" in r.content, r.content
        assert "sapphire" not in r.text and WALLET not in r.text
    assert await db_state(gc) == before


async def test_bad_input_is_friendly_and_private(gc):
    r = await gc.slash("admin", "gems-admin member", member=gc["otherbot"])
    assert r.ephemeral and "Bots don't hold GEMS" in r.content
    gone = gc["erin"]
    gc.sb.remove_member(gc.guild, gone)
    await gc.sb.settle()
    r = await gc.slash("admin", "gems-admin member", member=gone.user)
    assert r.ephemeral and "isn't a member of this server" in r.content, r.content
