"""A collectible: a tradeable badge's numbered edition listed on the marketplace and bought
through escrow; ownership moves once, with the GEMS, and its history shows the trade."""

from pathlib import Path

from economy.marketplace.repo import ListingRepo

ORDER = 98.5
TITLE = "A collectible badge sold through escrow (/list-item collectible:)"
OUT = Path("var") / "demo"  # runtime output, git-ignored


def _channel(gc, name):
    return next(c for c in gc.sb.world.channels.values() if c.name == name and not c.is_thread)


def _card(gc, trade_id):
    thread = next(c for c in gc.sb.world.channels.values()
                  if c.is_thread and c.name.startswith(f"Trade #{trade_id} "))
    return next(m for m in gc.sb.channel_messages(thread)
                if m.embeds and "Trade #" in m.embeds[0].title)


async def play(t, gc) -> None:
    """/badge-admin create tradeable; /profile badges; /list-item collectible (refused for a
    non-owner); Buy, delivery, confirmation; /profile collectible."""
    guild = gc.guild.id
    made = await t.slash("admin", "badge-admin create", name="Genesis gem",
                         description="Minted for the launch", emoji="💠", rarity="epic",
                         supply=50, tradeable=True)
    t.check("tradeable, limited to 50" in made.text, "an admin creates a tradeable edition of 50")
    key = next(b.key for b in (await gc.services.badges.catalogue(guild)).values()
               if b.name == "Genesis gem")
    await t.slash("admin", "badge-admin give", badge=key, member=gc["carol"], reason="launch day")
    item = f"{key}#1"
    mine = await t.slash("carol", "profile badges")
    t.check(f"collectible `{item}`" in mine.text, "carol's badge list shows the collectible's id")
    stolen = await t.slash("dave", "list-item", category="other", condition="new",
                           price_gems=250, collectible=item)
    t.check(stolen.ephemeral and "not yours" in stolen.text,
            "dave cannot list a collectible he does not own")
    opened = await t.slash("carol", "list-item", category="other", condition="new",
                           price_gems=250, collectible=item)
    t.act("carol", "fills in the listing form for her collectible")
    preview = await gc.sb.submit_modal(gc["carol"], opened, {
        "Title": "Genesis gem badge #1 of 50",
        "Description": "The first edition of the launch badge.",
        "Specifications (one `key: value` per line)": "edition: 1 of 50"})
    await t.click("carol", preview, "Publish")
    listing = await gc.db["listings"].find_one({"guild_id": guild, "collectible": item})
    if listing["status"] == "pending":  # approval is on: a moderator approves it
        queued = next(m for m in reversed(gc.sb.channel_messages(_channel(gc, "mod-queue")))
                      if m.embeds and "Genesis gem" in m.embeds[0].title)
        await t.click("mod", queued, "Approve")
    again = await t.slash("carol", "list-item", category="other", condition="new",
                          price_gems=300, collectible=item)
    t.check(again.ephemeral and "one listing per collectible" in again.text,
            "the same collectible cannot be listed twice")
    announced = next(m for m in reversed(gc.sb.channel_messages(_channel(gc, "marketplace")))
                     if m.embeds and "Genesis gem" in m.embeds[0].title)
    await t.slash("admin", "gems-admin grant", member=gc["dave"], amount=400,
                  reason="collector's budget")
    quote = await t.click("dave", announced, "Buy")
    await t.click("dave", quote, "Confirm purchase")
    trade = next(tr for tr in await gc.services.trades.for_member(guild, gc["dave"].id)
                 if tr.listing_id == listing["listing_id"])
    opened = await gc.click("carol", _card(gc, trade.trade_id), "Mark delivered")
    await gc.sb.submit_modal(gc["carol"], opened, {})
    await t.click("dave", _card(gc, trade.trade_id), "Confirm received")
    sold = await ListingRepo(gc.services.db).get(guild, listing["listing_id"])
    t.check(sold["status"] == "sold", "the listing is sold")
    history = await t.slash("erin", "profile collectible", item=item)
    t.check(f"owned by <@{gc['dave'].id}>" in history.text and f"trade #{trade.trade_id}"
            in history.text, "the collectible moved to dave once; its history names the trade")
    gallery = await t.slash("erin", "profile collection", member=gc["dave"])
    picture = gallery.files.get("collection.png")
    t.check(bool(picture) and picture.startswith(b"\x89PNG") and "collectible" in gallery.text,
            "dave's collection shows the collectible he bought, as a picture too")
    if picture:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "collection.png").write_bytes(picture)
        t.note(f"The collection gallery is saved as {OUT / 'collection.png'}.")
    # Event and season editions: the quiz's winners get a numbered edition of their own.
    await t.slash("admin", "badge-admin create", name="Quiz champion 2026",
                  description="Won the Gem ID quiz", emoji="🏆", rarity="legendary", supply=3,
                  tradeable=True)
    champion = next(b.key for b in (await gc.services.badges.catalogue(guild)).values()
                    if b.name == "Quiz champion 2026")
    given = await t.slash("admin", "badge-admin give-event", badge=champion, event_id=1,
                          group="winners")
    t.check(given.ephemeral and "Gave" in given.text and "2 members" in given.text,
            "the completed quiz's two winners get editions #1 and #2")
    season = await t.slash("admin", "badge-admin give-season", badge=champion,
                           season="winter-festival")
    t.check(season.ephemeral and "not finished yet" in season.text,
            "a season's top 3 get theirs once it has ended: not yet")
