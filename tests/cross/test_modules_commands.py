"""/settings modules: features switched off per server answer every command, button and modal with one
clear ephemeral message and change nothing; jobs skip their guild work; core stays on."""

from __future__ import annotations

import pytest

from bot.app import discover_extensions
from economy.core.actor import Actor
from economy.core.errors import InvalidInput
from economy.core.modules import CORE, FEATURES
from tests.e2e_fixtures import balance, db_state
from tests.events.test_event_commands import _card, _create, _events_state

pytestmark = pytest.mark.timeout(60)


def test_every_feature_package_can_be_switched_and_core_cannot():
    packages = {name.split(".")[1] for name in discover_extensions()}
    assert set(FEATURES) == packages - CORE
    assert {"currency", "settings"} <= packages


async def test_admin_switches_a_feature_off_and_on(gc):
    r = await gc.slash("admin", "settings modules disable", feature="marketplace")
    assert r.ephemeral and "turned **off**" in r.content
    again = await gc.slash("admin", "settings modules disable", feature="marketplace")
    assert "already off" in again.content
    listed = await gc.slash("admin", "settings modules list")
    assert listed.ephemeral and "⛔ off · `marketplace`" in listed.embeds[0].description
    assert "✅ on · `trades`" in listed.embeds[0].description

    before = await db_state(gc)
    for command, options in (("market browse", {}),
                             ("list-item", {"category": "rings", "condition": "new"}),
                             ("market wishlist view", {}), ("market alert list", {})):
        refused = await gc.slash("alice", command, **options)
        assert refused.ephemeral, command
        assert refused.content == "The marketplace is turned off in this server.", command
    assert await db_state(gc) == before
    # Core features keep working, also members' other features.
    assert "claimed their daily" in (await gc.slash("alice", "gems daily")).content

    back = await gc.slash("admin", "settings modules enable", feature="marketplace")
    assert "turned **on**" in back.content
    browse = await gc.slash("alice", "market browse")
    assert "turned off" not in (browse.content or "")


async def test_members_cannot_switch_features_and_core_cannot_be_switched(gc):
    payload = gc.bot.tree.get_command("settings").to_dict(gc.bot.tree)
    assert int(payload["default_member_permissions"]) == 1 << 5  # hidden: Manage Server
    before = await db_state(gc)
    r = await gc.slash("alice", "settings modules disable", feature="trades")
    assert r.ephemeral and "Only server admins" in r.content
    assert await db_state(gc) == before
    with pytest.raises(InvalidInput):
        await gc.services.modules.switch(gc.guild.id, Actor(gc["admin"].id, is_admin=True), "currency", on=False)
    r = await gc.slash("admin", "settings set", key="disabled_features", value="currency")
    assert "core" in r.content and r.ephemeral
    assert await db_state(gc) == before


async def test_buttons_and_modals_of_a_switched_off_feature_are_refused(gc):
    event_id = await _create(gc)
    card = _card(gc)
    opened = await gc.slash("admin", "event-admin create", type="contest", start="2026-01-06 18:00",
                            duration=60)
    assert opened.modal is not None
    await gc.slash("admin", "settings modules disable", feature="events")
    before = await _events_state(gc)
    clicked = await gc.click("alice", card, "Join")
    assert clicked.ephemeral and clicked.content == "Events are turned off in this server."
    submitted = await gc.sb.submit_modal(gc["admin"], opened, {"Title": "Late", "Description": ""})
    assert submitted.ephemeral and "Events are turned off" in submitted.content
    joined = await gc.slash("bob", "event join", event=event_id)
    assert "Events are turned off" in joined.content
    assert await _events_state(gc) == before
    await gc.slash("admin", "settings modules enable", feature="events")
    r = await gc.click("alice", card, "Join")
    assert "You're going" in r.content


async def test_jobs_skip_guild_work_of_a_switched_off_feature(gc, clock):
    await gc.services.settings.set(gc.guild.id, Actor.system(), "announcements_channel_id", str(gc.general.id))
    await gc.slash("admin", "settings modules disable", feature="boosts")
    await gc.services.boosts.windows.add(gc.guild.id, 200, starts_at=clock.now(),
                                      ends_at=clock.now().replace(year=2027), reason="Quiet launch")
    await gc.advance(minutes=1)
    assert not [m for m in gc.sb.channel_messages(gc.general) if "Quiet launch" in (m.content or "")]
    assert gc.bot.guild_work.ran_here == 0
    # Back on: the next boost is announced as usual (the sweep did run before, and skipped).
    await gc.slash("admin", "settings modules enable", feature="boosts")
    await gc.services.boosts.windows.add(gc.guild.id, 300, starts_at=clock.now(),
                                      ends_at=clock.now().replace(year=2027), reason="Loud launch")
    await gc.advance(minutes=1)
    assert [m for m in gc.sb.channel_messages(gc.general) if "Loud launch" in (m.content or "")]
    assert gc.bot.guild_work.ran_here == 1


async def _daily_entry(gc, name: str) -> tuple[int, int, list]:
    entry = await gc.db["ledger"].find_one({"guild_id": gc.guild.id, "user_id": gc[name].id,
                                            "kind": "daily"})
    return entry["delta"], entry["multiplier_bps"], entry["boost_ids"]


async def test_boosts_switched_off_during_a_x10_boost_pay_the_base_daily_then_resume(gc):
    """docs/features.md modules table, boosts row: the switch reaches the ledger's multiplier set."""
    r = await gc.slash("admin", "boost-admin schedule", factor="10", start="now", end="2d",
                       reason="Launch")
    assert "Scheduled boost `b1`" in r.content
    assert "1,000 GEMS" in (await gc.slash("alice", "gems daily")).content
    assert await _daily_entry(gc, "alice") == (1000, 100_000, ["b1"])
    off = await gc.slash("admin", "settings modules disable", feature="boosts")
    assert "turned **off**" in off.content
    r = await gc.slash("bob", "gems daily")
    assert "💎 100 GEMS" in r.content and "1,000" not in r.content
    assert await _daily_entry(gc, "bob") == (100, 10_000, [])  # recorded unmultiplied
    listed = await gc.slash("admin", "boost-admin list")
    assert listed.content == "Boosts are turned off in this server."
    await gc.slash("admin", "settings modules enable", feature="boosts")
    assert "1,000 GEMS" in (await gc.slash("carol", "gems daily")).content  # b1 still open
    assert await _daily_entry(gc, "carol") == (1000, 100_000, ["b1"])


async def test_an_open_trade_still_settles_while_trades_are_off(gc):
    """docs/features.md modules table, trades row: the card's buttons settle held GEMS; new offers stop."""
    from tests.trades.test_trade_commands import card_of, offer_and_accept, thread_of
    trade_id, _ = await offer_and_accept(gc)
    await gc.slash("admin", "settings modules disable", feature="trades")
    refused = await gc.slash("alice", "trades offer", member=gc["carol"], price=5,
                             description="A silver pin")
    assert refused.content == "Trades are turned off in this server."
    card = card_of(gc, thread_of(gc, trade_id))
    opened = await gc.click("alice", card, "Mark delivered")
    assert opened.modal is not None
    await gc.sb.submit_modal(gc["alice"], opened, {"Tracking number or note (optional)": ""})
    await gc.click("bob", card_of(gc, thread_of(gc, trade_id)), "Confirm received")
    assert "Completed" in card_of(gc, thread_of(gc, trade_id)).text
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (390, 600)


async def test_moderators_settle_disputes_while_trades_are_off(gc):
    """The settling commands (economy/trades `settling_commands`) follow the grammar: the
    moderators' `/trades-admin dispute ...` still runs while trades are off; the rest does not."""
    await gc.slash("admin", "settings modules disable", feature="trades")
    listed = await gc.slash("mod", "trades-admin dispute list")
    assert listed.ephemeral and "turned off" not in (listed.content or "")
    assert listed.embeds and "disputes" in listed.embeds[0].title.lower()
    export = await gc.slash("admin", "trades-admin export")
    assert export.content == "Trades are turned off in this server."


async def test_profile_off_moves_no_money_and_keeps_the_time_zone(gc):
    """docs/features.md modules table, profile row: `/profile` is refused; the stored zone still counts."""
    r = await gc.slash("alice", "profile timezone", zone="Asia/Tokyo")
    assert "Asia/Tokyo" in r.content
    await gc.slash("admin", "settings modules disable", feature="profile")
    before = await db_state(gc)
    refused = await gc.slash("alice", "profile timezone", zone="Europe/Paris")
    assert refused.ephemeral and refused.content == "Profiles are turned off in this server."
    assert await db_state(gc) == before
    zone = await gc.services.member_prefs.member_zone(gc.guild.id, gc["alice"].id)
    assert str(zone) == "Asia/Tokyo"  # streak days still follow it
    assert "100 GEMS" in (await gc.slash("alice", "gems daily")).content
