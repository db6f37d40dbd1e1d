"""Escrow trades end to end through the sandbox: rooms, buttons, DMs, disputes, timers."""

from __future__ import annotations

import asyncio

import pytest

from economy.marketplace.repo import ListingRepo
from economy.trades.repo import TradeRepo
from tests.e2e_fixtures import balance, db_state, seed

pytestmark = pytest.mark.timeout(60)


def thread_of(gc, trade_id):
    for channel in gc.sb.world.channels.values():
        if channel.is_thread and channel.name.startswith(f"Trade #{trade_id} "):
            return channel
    raise AssertionError(f"no thread for trade {trade_id}")


def card_of(gc, thread):
    return next(m for m in gc.sb.channel_messages(thread) if m.embeds and "Trade #" in m.embeds[0].title)


async def offer_and_accept(gc, price=400, seller="alice", buyer="bob"):
    await seed(gc, buyer, 1000)
    gc.clock.advance(seconds=31)  # past the per-member offer cooldown
    r = await gc.slash(seller, "trades offer", member=gc[buyer], price=price,
                       description="Vintage opal pendant")
    assert not r.ephemeral and "offers you" in r.content and r.message.allowed_mentions == {"parse": []}
    assert [b.label for b in r.buttons] == ["Accept", "Decline"]
    trade_id = int(r.embeds[0].title.split("#")[1].split(" ")[0])
    denied = (await gc.click("carol", r, "Accept")).last
    assert denied.ephemeral and "Only the member this offer was made to" in denied.content
    await gc.click(buyer, r, "Accept")
    return trade_id, r


async def test_direct_trade_happy_path_with_room_buttons_and_dms(gc):
    trade_id, offer = await offer_and_accept(gc)
    assert "GEMS held" in offer.message.text and not offer.message.buttons
    assert (await balance(gc, "bob")) == 600
    thread = thread_of(gc, trade_id)
    assert thread.type == 12 and {gc["alice"].id, gc["bob"].id} <= thread.thread_members
    card = card_of(gc, thread)
    assert "Trade #" in card.text and [b.label for b in card.buttons][:2] == ["Mark delivered", "Confirm received"]
    assert any("is now held" in m.content for m in gc.sb.dms(gc["alice"]))
    assert any("until you confirm delivery" in m.content for m in gc.sb.dms(gc["bob"]))

    intruder = await gc.click("carol", card, "Confirm received")
    assert intruder.ephemeral and "Only the buyer, the seller" in intruder.content
    wrong_side = await gc.click("bob", card, "Mark delivered")
    assert wrong_side.ephemeral and "Only the seller" in wrong_side.content

    opened = await gc.click("alice", card, "Mark delivered")
    assert opened.modal is not None
    await gc.sb.submit_modal(gc["alice"], opened, {"Tracking number or note (optional)": "PostNL 3S123"})
    card = card_of(gc, thread)
    assert "Delivered" in card.text and "PostNL 3S123" in card.text
    assert any("marked the item as delivered" in m.content for m in gc.sb.dms(gc["bob"]))

    # A double click: both clicks reach the bot before the card is redrawn; one settles.
    first, second = await asyncio.gather(gc.click("bob", card, "Confirm received"),
                                         gc.click("bob", card, "Confirm received"))
    refusals = [r.last.content for r in (first, second) if r.last.ephemeral]
    # Which refusal depends on timing: the second click read the trade before or after the
    # first one settled it. Either way nothing moves twice.
    assert len(refusals) == 1 and ("already settled" in refusals[0]
                                   or "can't be confirmed now" in refusals[0]), refusals
    card = card_of(gc, thread)
    assert "Completed" in card.text and not card.buttons
    assert "Fee (seller pays)" in card.text and "💎 10 GEMS (2.5%)" in card.text  # with its unit
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (390, 600)
    assert await gc.services.ledger.treasury_balance(gc.guild.id) == 10

    rated = await gc.slash("bob", "trades rate", trade_id=trade_id, stars=5, review="Lovely, fast")
    assert rated.ephemeral and "★★★★★" in rated.content
    twice = await gc.slash("bob", "trades rate", trade_id=trade_id, stars=1)
    assert "already rated" in twice.content
    profile = await gc.slash("carol", "trades profile", member=gc["alice"])
    assert "★ 5.0 (1 rating, 1 trade)" in profile.text and "Lovely, fast" in profile.text
    treasury = await gc.slash("admin", "gems-admin treasury")
    assert "💎 10 GEMS" in treasury.content
    assert "Only server admins" in (await gc.slash("bob", "gems-admin treasury")).content


async def test_offer_bad_input_changes_nothing(gc):
    await seed(gc, "bob", 100)
    before = await db_state(gc)
    for options, expected in [
        ({"member": gc["alice"], "price": 5}, "yourself"),
        ({"member": gc["otherbot"], "price": 5}, "Bots don't trade"),
        ({"member": gc["bob"], "price": 0}, "at least 1"),
        ({"member": gc["bob"], "price": 2**63}, "at most"),
        ({"member": gc["bob"], "price": 2.5}, "whole number"),
    ]:
        r = await gc.slash("alice", "trades offer", description="a ring", **options)
        assert r.ephemeral and expected in r.content, (options, r.content)
    assert await db_state(gc) == before
    assert await gc.db["trades"].count_documents({}) == 0
    r = await gc.slash("alice", "trades offer", member=gc["bob"], price=500, description="a ring")
    poor = (await gc.click("bob", r, "Accept")).last
    assert poor.ephemeral and "Not enough GEMS" in poor.content
    assert await balance(gc, "bob") == 100


async def test_dispute_with_evidence_resolved_by_split(gc):
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    trade_id, _ = await offer_and_accept(gc, price=1000)
    photo = gc.sb.attachment("broken.png", b"\x89PNG fake bytes", "image/png")
    r = await gc.slash("bob", "trades dispute", trade_id=trade_id,
                       reason="The pendant arrived broken", evidence=photo)
    assert r.ephemeral and "opened a dispute" in r.content
    posted = gc.sb.channel_messages(queue)
    assert posted and "Dispute on trade" in posted[-1].content and "broken.png" in posted[-1].files

    listed = await gc.slash("mod", "trades-admin dispute list")
    assert f"#{trade_id}" in listed.text
    denied = await gc.slash("bob", "trades-admin dispute resolve", trade_id=trade_id, outcome="refund")
    assert denied.ephemeral and "Only moderators" in denied.content
    viewed = await gc.slash("mod", "trades-admin dispute view", trade_id=trade_id)
    assert "broken.png" in viewed.text and "The pendant arrived broken" in viewed.text
    bad = await gc.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="split")
    assert bad.ephemeral and "percent" in bad.content

    done = await gc.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="split", percent=30,
                          note="Partial damage, seller keeps 30%")
    assert "seller gets 💎 300 GEMS" in done.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (293, 700)
    thread = thread_of(gc, trade_id)
    assert thread.locked and thread.archived
    assert any("resolved this dispute" in m.content for m in gc.sb.dms(gc["alice"]))
    twice = await gc.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="refund")
    assert twice.ephemeral and "no open dispute" in twice.content
    log = await TradeRepo(gc.services.db).audit_entries(gc.guild.id)
    assert log[0]["action"] == "dispute.resolve" and log[0]["actor_id"] == gc["mod"].id


async def test_moderator_party_cannot_resolve(gc):
    trade_id, _ = await offer_and_accept(gc, seller="mod", buyer="bob")
    await gc.slash("bob", "trades dispute", trade_id=trade_id, reason="Never arrived at all")
    r = await gc.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="release")
    assert r.ephemeral and "another moderator" in r.content


async def test_auto_release_after_restart_announces_once(gc):
    trade_id, _ = await offer_and_accept(gc)
    thread = thread_of(gc, trade_id)
    opened = await gc.click("alice", card_of(gc, thread), "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {})
    await gc.restart_bot()
    await gc.advance(days=2, hours=1)
    assert any("Reminder" in m.content for m in gc.sb.dms(gc["bob"]))
    await gc.advance(days=1)
    assert await balance(gc, "alice") == 390
    notes = [m.content for m in gc.sb.channel_messages(thread) if "released to the seller" in m.content]
    assert len(notes) == 1
    await gc.advance(days=1)
    assert len([m for m in gc.sb.channel_messages(thread) if "released to the seller" in m.content]) == 1
    assert "Completed" in card_of(gc, thread).text


async def test_mutual_cancel_and_export(gc):
    trade_id, _ = await offer_and_accept(gc)
    card = card_of(gc, thread_of(gc, trade_id))
    await gc.click("bob", card, "Mutual cancel")
    assert "Disputed" not in card_of(gc, thread_of(gc, trade_id)).text
    assert await balance(gc, "bob") == 600
    await gc.restart_bot()  # the card's buttons are persistent
    await gc.click("alice", card, "Mutual cancel")
    assert await balance(gc, "bob") == 1000
    assert "Cancelled" in card_of(gc, thread_of(gc, trade_id)).text
    r = await gc.slash("admin", "trades-admin export")
    csv_bytes = next(iter(r.files.values()))
    assert b"trade_id" in csv_bytes and b"cancelled" in csv_bytes
    assert "Only server admins" in (await gc.slash("bob", "trades-admin export")).content
    mine = await gc.slash("bob", "trades list", which="all")
    assert f"#{trade_id}" in mine.text
    assert "Only the buyer, the seller" in (await gc.slash("carol", "trades view", trade_id=trade_id)).content


async def test_buying_a_listing_from_the_marketplace(gc):
    from tests.marketplace.test_marketplace_commands import channels, create

    market, _ = await channels(gc)
    await create(gc, "alice", title="Blue sapphire ring", price_gems=500)
    announced = gc.sb.channel_messages(market)[-1]
    assert "no ratings yet" in announced.text  # the seller's reputation shows on the listing
    await seed(gc, "bob", 800)
    await seed(gc, "carol", 800)
    own = await gc.click("alice", announced, "Buy")
    assert own.ephemeral and "your own listing" in own.content
    quote = await gc.click("bob", announced, "Buy")
    assert quote.ephemeral and "💎 500 GEMS" in quote.content and "held by the bot" in quote.content
    assert await balance(gc, "bob") == 800  # nothing reserved by looking
    done = await gc.click("bob", quote, "Confirm purchase")
    assert done.last.ephemeral and "Reserved!" in done.last.content
    assert (await gc.services.ledger.account(gc.guild.id, gc["bob"].id)).held == 500
    late = await gc.click("carol", announced, "Buy")  # the old announcement still shows Buy
    assert late.ephemeral and "no longer available" in late.content
    assert await balance(gc, "carol") == 800

    trade = (await gc.services.trades.for_member(gc.guild.id, gc["bob"].id))[0]
    thread = thread_of(gc, trade.trade_id)
    opened = await gc.click("alice", card_of(gc, thread), "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {})
    await gc.click("bob", card_of(gc, thread), "Confirm received")
    listing = await ListingRepo(gc.services.db).get(gc.guild.id, trade.listing_id)
    assert listing["status"] == "sold" and listing["buyer_id"] == gc["bob"].id
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (488, 300)
    view = await gc.slash("carol", "market browse")
    assert "Blue sapphire ring" not in view.text


@pytest.mark.slow  # a burst
async def test_twenty_members_press_buy_at_once(gc):
    from tests.marketplace.test_marketplace_commands import channels, create

    market, _ = await channels(gc)
    await create(gc, "alice", title="Rare tanzanite", price_gems=300)
    announced = gc.sb.channel_messages(market)[-1]
    buyers = [gc.add_member(f"buyer{i}") for i in range(20)]
    await gc.sb.settle()
    quotes = []
    for i, member in enumerate(buyers):
        await seed(gc, f"buyer{i}", 500)
        quotes.append(await gc.sb.click(member, announced, "Buy"))
    results = await asyncio.gather(*[gc.sb.click(m, q, "Confirm purchase")
                                     for m, q in zip(buyers, quotes, strict=True)])
    texts = [r.last.content for r in results]
    assert sum("Reserved!" in t for t in texts) == 1, texts
    assert sum("no longer available" in t or "just bought" in t for t in texts) == 19
    held = [(await gc.services.ledger.account(gc.guild.id, m.id)).held for m in buyers]
    assert sorted(held) == [0] * 19 + [300]


async def test_repeated_pair_is_flagged_to_moderators(gc):
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    await gc.slash("admin", "settings set", key="escrow_wash_trade_count", value="2")
    for _ in range(2):
        trade_id, _ = await offer_and_accept(gc, price=50)
        await gc.click("bob", card_of(gc, thread_of(gc, trade_id)), "Confirm received")
    flags = [m for m in gc.sb.channel_messages(queue) if m.content.startswith("🚩")]
    assert len(flags) == 1 and "possible wash trading" in flags[0].content


async def test_price_changed_between_buy_and_confirm_is_refused(gc):
    from tests.marketplace.test_marketplace_commands import channels, create

    market, _ = await channels(gc)
    await create(gc, "alice", title="Green tourmaline", price_gems=500)
    announced = gc.sb.channel_messages(market)[-1]
    await seed(gc, "bob", 5_000)
    quote = await gc.click("bob", announced, "Buy")
    assert "💎 500 GEMS" in quote.content
    edited = await gc.slash("alice", "market edit", listing=1, price_gems=900)
    assert edited.ephemeral
    before = await db_state(gc)
    refused = await gc.click("bob", quote, "Confirm purchase")
    text = refused.last.content
    assert refused.last.ephemeral and "changed from 500 to 900" in text and "Buy" in text, text
    assert await db_state(gc) == before
    # After a restart the same (persistent) button is still checked against the listing.
    await gc.restart_bot()
    refused = await gc.click("bob", quote, "Confirm purchase")
    assert "changed from 500 to 900" in refused.last.content
    assert await db_state(gc) == before
    # Buy again: the new quote shows 900 and confirming it holds 900.
    quote = await gc.click("bob", announced, "Buy")
    assert "💎 900 GEMS" in quote.content
    done = await gc.click("bob", quote, "Confirm purchase")
    assert "Reserved!" in done.last.content
    account = await gc.services.ledger.account(gc.guild.id, gc["bob"].id)
    assert (account.balance, account.held) == (4_100, 900)
