"""/gems commands end to end through the sandbox."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from tests.e2e_fixtures import balance, db_state, seed, seed_ranked_members

pytestmark = pytest.mark.timeout(60)


async def test_balance_is_private_and_shows_rank(gc):
    await seed(gc, "alice", 500)
    r = await gc.slash("alice", "gems balance")
    assert r.ephemeral
    assert "💎 500 GEMS" in r.text and "#1" in r.text
    other = await gc.slash("bob", "gems balance", member=gc["alice"])
    assert "alice's wallet" in other.text and other.ephemeral


async def test_give_moves_gems_publicly_without_pinging(gc):
    await seed(gc, "alice", 100)
    r = await gc.slash("alice", "gems give", member=gc["bob"], amount=40,
                       note="thanks @everyone <@&1> **bold**")
    assert not r.ephemeral
    assert f"<@{gc['alice'].id}> gave <@{gc['bob'].id}> 💎 40 GEMS" in r.content
    assert "@\u200beveryone" in r.content and "\\*\\*bold\\*\\*" in r.content
    assert r.message.allowed_mentions == {"parse": []}
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (60, 40)


@pytest.mark.parametrize("amount", [0, -5, 1.5, 2**63, 10**13])
async def test_give_rejects_bad_amounts_without_change(gc, amount):
    await seed(gc, "alice", 100)
    before = await db_state(gc)
    r = await gc.slash("alice", "gems give", member=gc["bob"], amount=amount)
    assert r.ephemeral and ("amount" in r.content.lower() or "whole number" in r.content.lower()), r.content
    assert await db_state(gc) == before


async def test_give_refusals_are_friendly_and_change_nothing(gc):
    await seed(gc, "alice", 100)
    before = await db_state(gc)
    cases = [
        (gc["alice"], "yourself"),
        (gc["otherbot"], "Bots don't hold GEMS"),
    ]
    for target, expected in cases:
        r = await gc.slash("alice", "gems give", member=target, amount=5)
        assert r.ephemeral and expected in r.content, r.content
    r = await gc.slash("alice", "gems give", member=gc["bob"], amount=101)
    assert r.ephemeral and "Not enough GEMS" in r.content and "100" in r.content
    r = await gc.slash("carol", "gems give", member=gc["bob"], amount=1)
    assert r.ephemeral and "Not enough GEMS" in r.content
    assert await db_state(gc) == before


async def test_give_to_someone_who_left(gc):
    await seed(gc, "alice", 100)
    gone = gc["erin"]
    gc.sb.remove_member(gc.guild, gone)
    await gc.sb.settle()
    before = await db_state(gc)
    r = await gc.slash("alice", "gems give", member=gone.user, amount=5)
    assert r.ephemeral and "isn't a member of this server" in r.content, r.content
    assert await db_state(gc) == before


async def test_daily_streak_and_cooldown(gc):
    r = await gc.slash("alice", "gems daily")
    assert not r.ephemeral and "💎 100 GEMS" in r.content and "streak **1**" in r.content
    again = await gc.slash("alice", "gems daily")
    assert again.ephemeral and "already claimed" in again.content and "<t:" in again.content
    await gc.advance(hours=24)
    r = await gc.slash("alice", "gems daily")
    assert "💎 110 GEMS" in r.content and "streak **2**" in r.content
    assert await balance(gc, "alice") == 210


async def test_leaderboard_pages_survive_a_restart(gc):
    await seed_ranked_members(gc, 23)
    r = await gc.slash("bob", "gems leaderboard")
    assert not r.ephemeral and "Page 1/3" in r.text and f"<@{gc['m00'].id}> — 1,000" in r.text
    labels = [b.label for b in r.buttons]
    assert labels == ["◀ Prev", "Next ▶"] and r.buttons[0].disabled
    await gc.restart_bot()
    page2 = await gc.click("carol", r, "Next ▶")
    assert "Page 2/3" in page2.message.text and "**#11**" in page2.message.text
    r3 = await gc.slash("bob", "gems leaderboard", page=99)  # clamped to the last page
    assert "Page 3/3" in r3.text


async def test_history_is_private_and_paged_for_its_owner_only(gc):
    await seed(gc, "alice", 1000)
    for i in range(12):
        await gc.slash("alice", "gems give", member=gc["bob"], amount=i + 1, note=f"gift {i}")
    r = await gc.slash("alice", "gems history")
    assert r.ephemeral and "Page 1/2" in r.text and "gift 11" in r.text
    stranger = await gc.click("bob", r, "Next ▶")
    assert "someone else's" in stranger.content and stranger.ephemeral
    page2 = await gc.click("alice", r, "Next ▶")
    assert "Page 2/2" in page2.message.text and "Admin grant" in page2.message.text


async def test_grant_and_take_need_admin(gc):
    before = await db_state(gc)
    for who in ("bob", "mod"):
        r = await gc.slash(who, "gems-admin grant", member=gc["carol"], amount=50, reason="prize")
        assert r.ephemeral and "Only server admins" in r.content
        r = await gc.slash(who, "gems-admin take", member=gc["carol"], amount=1, reason="oops")
        assert r.ephemeral and "Only server admins" in r.content
    assert await db_state(gc) == before
    r = await gc.slash("admin", "gems-admin grant", member=gc["carol"], amount=50, reason="event prize")
    assert "Granted 💎 50 GEMS" in r.content and "New balance: 50" in r.content
    r = await gc.slash("admin", "gems-admin take", member=gc["carol"], amount=80, reason="too much")
    assert r.ephemeral and "Not enough GEMS" in r.content
    r = await gc.slash("admin", "gems-admin take", member=gc["carol"], amount=20, reason="correction")
    assert "New balance: 30" in r.content
    history = await gc.services.ledger.history(gc.guild.id, gc["carol"].id)
    assert [(e.kind, e.note, e.actor_id) for e in history.rows] == [
        ("take", "correction", gc["admin"].id), ("grant", "event prize", gc["admin"].id)]


async def test_configured_admin_role_may_grant(gc):
    helpers = gc.sb.create_role(gc.guild, "Economy helpers")
    helper = gc.add_member("helper", roles=[helpers])
    await gc.sb.settle()
    shown = await gc.slash("admin", "settings set", key="admin_role_id", value=f"<@&{helpers.id}>")
    assert f"→ **<@&{helpers.id}>**" in shown.content and shown.message.allowed_mentions == {"parse": []}
    r = await gc.slash(helper, "gems-admin grant", member=gc["bob"], amount=5, reason="helping out")
    assert "Granted" in r.content


async def test_currency_name_and_emoji_are_used_in_replies(gc):
    await gc.slash("admin", "settings set", key="currency_name", value="Shards")
    await gc.slash("admin", "settings set", key="currency_emoji", value="🔷")
    r = await gc.slash("alice", "gems daily")
    assert "🔷 100 Shards" in r.content
    before = await db_state(gc)
    refused = await gc.slash("admin", "settings set", key="currency_emoji", value="[x](https://a.b)")
    assert refused.ephemeral and "must be one emoji" in refused.content
    assert await db_state(gc) == before


async def test_unexpected_errors_get_an_apology_with_an_id(gc, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(gc.services.ledger, "claim_daily", broken)
    r = await gc.slash("alice", "gems daily", timeout=10)
    assert r.ephemeral and "Sorry, something went wrong" in r.content and "error id" in r.content
    assert "database on fire" in caplog.text


async def test_activity_earnings_survive_a_clean_restart(gc):
    await gc.say("alice", "hello everyone, how are the gems?")
    await gc.say("bob", "great, just polished a sapphire")
    await gc.say("bob", "great, just polished a sapphire")  # repeat: nothing
    await gc.say("otherbot", "beep boop I am a bot")
    assert gc.services.activity.pending_total() == 10
    await gc.restart_bot()  # a clean stop flushes
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (5, 5)
    await gc.advance(seconds=61)
    await gc.say("alice", "another thoughtful message")
    await gc.advance(seconds=1)  # the flush job runs
    assert await balance(gc, "alice") == 10


async def test_new_accounts_and_new_members_are_refused_politely(gc):
    from datetime import timedelta
    now = gc.clock.now()
    alt = gc.add_member("alt", created_at=now - timedelta(days=1))
    newbie = gc.add_member("newbie", joined_at=now - timedelta(hours=2))
    await gc.sb.settle()
    await seed(gc, "alt", 100)
    before = await db_state(gc)
    for who in (alt, newbie):
        r = await gc.slash(who, "gems daily")
        assert r.ephemeral and "New members can't claim daily GEMS yet" in r.content, r.content
    r = await gc.slash(alt, "gems give", member=gc["bob"], amount=10)
    assert r.ephemeral and "account must be at least 7 days old" in r.content
    await gc.say(alt, "hello from a brand new account")
    await gc.bot.services.activity.flush()
    assert await db_state(gc) == before


async def test_dms_off_stops_offers_and_dms(gc):
    r = await gc.slash("bob", "gems dms", setting="off")
    assert r.ephemeral and "no more DMs" in r.content
    offer = await gc.slash("alice", "trades offer", member=gc["bob"], price=10,
                           description="A loupe")
    assert offer.ephemeral and "turned off trade offers" in offer.content
    assert gc.sb.dms(gc["bob"]) == []
    await gc.slash("bob", "gems dms", setting="on")
    offer = await gc.slash("alice", "trades offer", member=gc["bob"], price=10,
                           description="A loupe")
    assert not offer.ephemeral and "offers you" in offer.content
    assert "offered you a trade" in gc.sb.dms(gc["bob"])[-1].content


async def test_holder_perk_role_multiplies_the_daily(gc):
    holder = gc.sb.create_role(gc.guild, "NFT Holder")
    gc.sb.give_role(gc["bob"], holder)
    await gc.sb.settle()
    r = await gc.slash("admin", "settings set", key="holder_perks", value=f"<@&{holder.id}>:1.5")
    assert r.ephemeral and "1.5" in r.content
    bob = await gc.slash("bob", "gems daily")
    carol = await gc.slash("carol", "gems daily")
    assert "💎 150 GEMS" in bob.content and "💎 100 GEMS" in carol.content


async def test_admins_cannot_grant_gems_to_a_bot(gc):
    """Issue 22: a grant to a bot (another one, or GEMS itself) is refused and changes nothing."""
    me = gc.sb.member(gc.guild, gc.sb.bot_user)
    before = await db_state(gc)
    for target in (gc["otherbot"], me):
        r = await gc.slash("admin", "gems-admin grant", member=target, amount=1_000_000,
                           reason="prize")
        assert r.ephemeral and "Bots don't hold GEMS" in r.content, r.content
    assert await db_state(gc) == before


async def test_daily_is_private_when_the_server_turns_daily_public_off(gc):
    await gc.services.settings.set(gc.guild.id, Actor.system(), "daily_public", "off")
    r = await gc.slash("alice", "gems daily")
    assert r.ephemeral and r.content.startswith("You claimed your daily 💎 100 GEMS"), r.content
    assert await balance(gc, "alice") == 100
    await gc.services.settings.set(gc.guild.id, Actor.system(), "daily_public", "on")
    await gc.advance(hours=24)
    r = await gc.slash("alice", "gems daily")
    assert not r.ephemeral and f"<@{gc['alice'].id}> claimed their daily" in r.content
