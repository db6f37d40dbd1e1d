"""A direct escrow trade, and a dispute a moderator settles."""

from economy.marketplace.repo import ListingRepo

ORDER = 40
TITLE = "Escrow trades and a dispute"


def _thread(gc, trade_id):
    return next(c for c in gc.sb.world.channels.values()
                if c.is_thread and c.name.startswith(f"Trade #{trade_id} "))


def _card(gc, thread):
    return next(m for m in gc.sb.channel_messages(thread) if m.embeds and "Trade #" in m.embeds[0].title)


def _trade_id(result) -> int:
    return int(result.embeds[0].title.split("#")[1].split(" ")[0])


def _channel(gc, name):
    return next(c for c in gc.sb.world.channels.values() if c.name == name and not c.is_thread)


async def play(t, gc) -> None:
    """Buy a listing through escrow; a direct offer; a dispute resolved by a split."""
    queue = _channel(gc, "mod-queue")
    await t.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")

    await t.slash("admin", "gems-admin grant", member=gc["erin"], amount=1000, reason="contest winner")
    pendant = next(m for m in gc.sb.channel_messages(_channel(gc, "marketplace"))
                   if m.embeds and "Ruby pendant" in m.embeds[0].title)
    quote = await t.click("erin", pendant, "Buy")
    listing_id = int(pendant.embeds[0].title.split("#")[1].split()[0])
    t.note("While erin looks at the quote, bob raises the price; erin's confirmation is refused.")
    await t.slash("bob", "market edit", listing=listing_id, price_gems=950)
    refused = await t.click("erin", quote, "Confirm purchase")
    t.check("changed from 900 to 950" in refused.last.content,
            "a changed price is never charged: the buyer presses Buy again")
    await t.slash("bob", "market edit", listing=listing_id, price_gems=900)
    quote = await t.click("erin", pendant, "Buy")
    await t.click("erin", quote, "Confirm purchase")
    trade = (await gc.services.trades.for_member(gc.guild.id, gc["erin"].id))[0]
    thread = _thread(gc, trade.trade_id)
    t.note(f"erin's 900 GEMS are held; the listing is reserved; room '{thread.name}' is open.")
    late = await t.click("dave", pendant, "Buy")
    t.check("no longer available" in late.content, "a reserved listing cannot be bought again")
    opened = await gc.click("bob", _card(gc, thread), "Mark delivered")
    await gc.sb.submit_modal(gc["bob"], opened, {"Tracking number or note (optional)": "DHL 00340"})
    await t.click("erin", _card(gc, thread), "Confirm received")
    listing = await ListingRepo(gc.services.db).get(gc.guild.id, trade.listing_id)
    t.check(listing["status"] == "sold", "the listing is sold")

    offer = await t.slash("carol", "trades offer", member=gc["dave"], price=120,
                          description="Hand-cut garnet, 2 ct")
    trade_id = _trade_id(offer)
    await t.click("dave", offer, "Accept")
    thread = _thread(gc, trade_id)
    t.note(f"A private thread '{thread.name}' opened for carol and dave; dave's 120 GEMS are held.")
    card = _card(gc, thread)
    nosy = await gc.click("erin", card, "Confirm received")
    t.note(f"erin tries to press Confirm on someone else's trade: \"{nosy.content}\"")
    t.check(nosy.ephemeral, "a third member cannot use trade buttons")
    opened = await gc.click("carol", card, "Mark delivered")
    await gc.sb.submit_modal(gc["carol"], opened, {"Tracking number or note (optional)": "handed over at the meetup"})
    t.note("carol marks it delivered (with a note); dave confirms receipt:")
    await gc.click("dave", _card(gc, thread), "Confirm received")
    t.message(_card(gc, thread))
    await t.slash("dave", "trades rate", trade_id=trade_id, stars=5, review="Beautiful stone!")
    await t.slash("alice", "trades profile", member=gc["carol"])

    offer = await t.slash("alice", "trades offer", member=gc["bob"], price=100,
                          description="Silver chain, 45 cm")
    trade_id = _trade_id(offer)
    await t.click("bob", offer, "Accept")
    opened = await gc.click("alice", _card(gc, _thread(gc, trade_id)), "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {})
    await t.slash("bob", "trades dispute", trade_id=trade_id, reason="The clasp is broken",
                  evidence=gc.sb.attachment("clasp.jpg", b"(photo bytes)", "image/jpeg"))
    t.check(any("Dispute on trade" in m.content for m in gc.sb.channel_messages(queue)),
            "the dispute reached the moderators' queue with its evidence")
    await t.slash("mod", "trades-admin dispute list")
    await t.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="split", percent=60,
                  note="Chain fine, clasp needs repair")
    t.check(_thread(gc, trade_id).locked, "the trade room is locked after the resolution")
    await t.slash("admin", "gems-admin treasury")
