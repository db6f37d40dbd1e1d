"""The shop: an admin stocks it, members buy a timed role, a streak freeze, a custom item
staff hand over, a numbered badge and a listing boost."""

ORDER = 97
TITLE = "Spending GEMS: the shop (/shop, /shop-admin)"


async def play(t, gc) -> None:
    """Stock, browse, a quote and its confirmation, a changed price refused, inventory, use."""
    vip = gc.sb.create_role(gc.guild, "VIP lounge")
    await gc.sb.settle()
    await t.slash("admin", "gems-admin grant", member=gc["erin"], amount=200, reason="shop money")
    added = await t.slash("admin", "shop-admin add", name="VIP lounge pass", price=60,
                          kind="role", role=vip, days=7, stock=5,
                          description="A week in the VIP lounge")
    t.check("On sale" in added.text, "an admin puts a 7-day role on sale (5 units)")
    await t.slash("admin", "shop-admin add", name="Streak freeze", price=20, kind="consumable",
                  effect="streak_freeze", per_member_limit=3)
    page = await t.slash("erin", "shop browse")
    t.check("VIP lounge pass" in page.text or any("VIP" in e.description for e in page.embeds
                                                    if e.description), "members see the catalogue")
    quote = await t.click("erin", page, "Buy #1")
    t.check("Buy **VIP lounge pass**" in quote.text, "Buy shows the price to confirm")
    done = await t.click("erin", quote, "Confirm purchase")
    member = gc.sb.member(gc.guild, gc["erin"])
    t.check(vip.id in member.roles and "you now have" in done.text,
            "one confirmation: 60 GEMS paid and the role given at once")
    stale = await t.slash("erin", "shop buy", item=2)
    await t.slash("admin", "shop-admin edit", item=2, price=25)
    refused = await t.click("erin", stale, "Confirm purchase")
    t.check("changed since you were quoted" in refused.text,
            "the price changed after the quote: refused, nothing charged")
    fresh = await t.slash("erin", "shop buy", item=2)
    await t.click("erin", fresh, "Confirm purchase")
    inv = await t.slash("erin", "shop inventory")
    t.check("Streak freeze" in inv.text and "VIP lounge pass" in inv.text,
            "the inventory holds the role and the freeze")
    used = await t.slash("erin", "shop use", item=2)
    kept = await gc.db["shop_holdings"].find_one({"user_id": gc["erin"].id, "item_id": 2})
    t.check("no daily streak" in used.text and kept["quantity"] == 1,
            "with no streak to protect the freeze is refused and stays in the inventory")
    await t.slash("admin", "gems-admin grant", member=gc["alice"], amount=100, reason="gift money")
    gift = await t.slash("alice", "shop gift", member=gc["bob"], item=2)
    sent = await t.click("alice", gift, "Confirm gift")
    t.check("Gift sent" in sent.text, "alice buys bob a streak freeze (bob is told by DM)")
    await t.slash("admin", "shop-admin add", name="Gem appraisal", price=30, kind="custom",
                  description="A moderator appraises one of your stones in a voice call")
    appraisal = await gc.db["shop_items"].find_one({"guild_id": gc.guild.id,
                                                    "name": "Gem appraisal"})
    fresh = await t.slash("alice", "shop buy", item=appraisal["item_id"])
    await t.click("alice", fresh, "Confirm purchase")
    queue = next(c for c in gc.sb.world.channels.values()
                 if c.name == "mod-queue" and not c.is_thread)
    ticket = next(m for m in reversed(gc.sb.channel_messages(queue))
                  if "Shop ticket" in m.content)
    await t.click("mod", ticket, "Fulfil")
    stored = await gc.db["shop_purchases"].find_one({"guild_id": gc.guild.id,
                                                     "item_id": appraisal["item_id"]})
    t.check(stored["status"] == "fulfilled",
            "a custom item is a ticket in the moderators' queue: a moderator fulfils it once")
    await t.slash("admin", "badge-admin create", name="Shop patron", emoji="🛍",
                  description="Bought a badge in the shop", rarity="rare", supply=50)
    await t.slash("admin", "shop-admin add", name="Patron badge", price=40, kind="badge",
                  badge="Shop patron")
    patron = await gc.db["shop_items"].find_one({"guild_id": gc.guild.id, "kind": "badge"})
    quote = await t.slash("erin", "shop buy", item=patron["item_id"])
    bought = await t.click("erin", quote, "Confirm purchase")
    shown = await t.slash("erin", "profile badges")
    t.check("edition #1" in bought.text
            and any("Shop patron" in (e.description or "") for e in shown.embeds),
            "a badge item: erin buys edition #1 of a limited badge, on her profile at once")
    await t.slash("admin", "shop-admin add", name="Listing boost", price=15, kind="consumable",
                  effect="listing_boost")
    boost = await gc.db["shop_items"].find_one({"guild_id": gc.guild.id, "name": "Listing boost"})
    old = await gc.db["listings"].find_one({"guild_id": gc.guild.id, "status": "active"},
                                           sort=[("listed_ts", 1)])
    seller = next((n for n, m in gc.members.items() if old and m.id == old["seller_id"]), None)
    said = shown = ""
    if seller is not None:
        await t.slash("admin", "gems-admin grant", member=gc[seller], amount=15, reason="boost")
        quote = await t.slash(seller, "shop buy", item=boost["item_id"])
        await t.click(seller, quote, "Confirm purchase")
        said = (await t.slash(seller, "shop use", item=boost["item_id"],
                              listing=old["listing_id"])).text
        shown = (await t.slash("dave", "market browse")).text
    t.check("boosted until" in said and f"**1.** 🚀 #{old['listing_id']} ·" in shown,
            "a listing boost: the oldest listing shows first in /market browse for 24 h")
    await t.slash("admin", "shop-admin restock", item=1, amount=5)
    await t.slash("admin", "shop-admin remove", item=2)
    listed = await t.slash("admin", "shop-admin list")
    t.check("off sale" in listed.text, "the staff list shows every item with its sales")
