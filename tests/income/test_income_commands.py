"""/income-admin and /gems collect end to end through the sandbox; the automatic payment job."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from tests.e2e_fixtures import balance, db_state

pytestmark = pytest.mark.timeout(90)


async def test_a_role_earns_income_collected_once_per_period(gc):
    vip = gc.sb.create_role(gc.guild, "VIP")
    gc.sb.give_role(gc["alice"], vip)
    await gc.sb.settle()
    before = await db_state(gc)
    for amount in (0, -5, 2_000_000):
        r = await gc.sb.slash(gc["admin"], "income-admin add",
                              {"role": vip, "amount": amount, "period": "daily"})
        assert r.ephemeral, r.content
    r = await gc.sb.slash(gc["bob"], "income-admin add",
                          {"role": vip, "amount": 5, "period": "daily"})
    assert r.ephemeral and "Only server admins" in r.content
    assert await db_state(gc) == before
    assert await gc.db["income_rules"].count_documents({}) == 0
    r = await gc.sb.slash(gc["admin"], "income-admin add",
                          {"role": vip, "amount": 25, "period": "daily"})
    assert "now earns 💎 25 GEMS daily" in r.content and "/gems collect" in r.content
    got = await gc.slash("alice", "gems collect")
    assert got.ephemeral and "Collected 💎 25 GEMS" in got.content, got.content
    again = await gc.slash("alice", "gems collect")
    assert again.ephemeral and "collected your income" in again.content
    none = await gc.slash("bob", "gems collect")
    assert none.ephemeral and "None of your roles" in none.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (25, 0)
    await gc.advance(hours=24)
    await gc.slash("alice", "gems collect")
    assert await balance(gc, "alice") == 50
    listed = await gc.sb.slash(gc["admin"], "income-admin list", {})
    assert f"<@&{vip.id}>: 💎 25 GEMS daily" in listed.content
    r = await gc.sb.slash(gc["admin"], "income-admin remove", {"role": vip, "period": "daily"})
    assert "no longer earns" in r.content


async def test_automatic_payment_pays_holders_once(gc):
    crew = gc.sb.create_role(gc.guild, "Crew")
    for name in ("alice", "bob"):
        gc.sb.give_role(gc[name], crew)
    await gc.sb.settle()
    await gc.services.settings.set(gc.guild.id, Actor.system(), "income_auto_pay", "on")
    await gc.sb.slash(gc["admin"], "income-admin add",
                      {"role": crew, "amount": 70, "period": "weekly"})
    await gc.advance(minutes=10)
    await gc.advance(minutes=10)  # the job again: nobody paid twice
    assert (await balance(gc, "alice"), await balance(gc, "bob"), await balance(gc, "carol")) \
        == (70, 70, 0)
    r = await gc.slash("alice", "gems collect")
    assert r.ephemeral and "collected your income" in r.content
