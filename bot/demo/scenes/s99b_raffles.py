"""Raffles: an admin opens one, members buy tickets under /shop, the sweep draws it."""

ORDER = 99.5
TITLE = "Raffles (/raffle-admin, /shop raffles, /shop tickets)"


async def play(t, gc) -> None:
    """Create (seed hash shown), buy, the cap refused, the draw re-derived, a cancel refunded,
    a shop item won (its unit set aside at creation, its role given at the draw)."""
    import hashlib

    from economy.core.actor import Actor
    from economy.raffles.models import commitment, derive_winners

    # Fixed seeds, so the transcript is the same on every run (the bot draws 256 random bits).
    counter = iter(range(1, 1_000))
    gc.services.raffles.seeds = lambda: hashlib.sha256(f"demo-{next(counter)}".encode()).hexdigest()
    for name in ("alice", "bob", "carol"):
        await gc.services.ledger.grant(gc.guild.id, Actor.system(), gc[name].id, 100, reason="raffle money",
                                       key=f"demo:raffle-money:{name}")
    made = await t.slash("admin", "raffle-admin create", prize="Hand-cut amethyst", price=10,
                         max_per_member=3, ends="1h", in_channel=gc.general)
    t.check("SHA-256" in made.text, "the raffle opens with the hash of its draw seed")
    await t.slash("alice", "shop raffles")
    await t.slash("alice", "shop tickets", raffle=1, count=3)
    over = await t.slash("alice", "shop tickets", raffle=1, count=1)
    t.check("at most 3" in over.text, "over the cap: refused, nothing charged")
    await t.slash("bob", "shop tickets", raffle=1, count=1)
    await t.advance(hours=1)
    doc = await gc.db["raffles"].find_one({"guild_id": gc.guild.id, "raffle_id": 1})
    again = derive_winners(doc["seed"], [(gc["alice"].id, 3), (gc["bob"].id, 1)], 1)
    t.check(doc["status"] == "drawn" and again == doc["winners"]
            and commitment(doc["seed"]) == doc["seed_hash"],
            "drawn by the sweep; anyone can re-derive the winner from the revealed seed")
    await t.slash("admin", "raffle-admin create", prize="Polishing kit", price=5,
                  max_per_member=2, ends="2d", in_channel=gc.general)
    await t.slash("carol", "shop tickets", raffle=2, count=2)
    cancelled = await t.slash("admin", "raffle-admin cancel", raffle=2)
    t.check("refunded to 1 member" in cancelled.text, "a cancelled raffle refunds every ticket")
    await t.slash("admin", "raffle-admin list")
    champion = gc.sb.create_role(gc.guild, "Raffle champion")
    await gc.sb.settle()
    await t.slash("admin", "shop-admin add", name="Raffle champion", price=500, kind="role",
                  role=champion, stock=1)
    item = await gc.db["shop_items"].find_one({"guild_id": gc.guild.id, "name": "Raffle champion"})
    won = await t.slash("admin", "raffle-admin create", item=item["item_id"], price=5,
                        max_per_member=2, ends="1h", in_channel=gc.general)
    t.check("1 set aside" in won.text, "a shop item as the prize: its one unit is set aside")
    sold_out = await t.slash("erin", "shop buy", item=item["item_id"])
    t.check("sold out" in sold_out.text, "the unit set aside for the winner is not for sale")
    await t.slash("carol", "shop tickets", raffle=3, count=2)
    await t.advance(hours=1)
    t.check(champion.id in gc.sb.member(gc.guild, gc["carol"]).roles,
            "the winner gets the item as if bought (the role, no GEMS charged for it)")
