"""Members list, approve, browse, search and wishlist items in the marketplace."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

ORDER = 30
TITLE = "The marketplace: list, approve, browse, search, wishlist"
OUT = Path("var") / "demo"  # runtime output, git-ignored


def gem_photo(colour: tuple[int, int, int], label: str) -> bytes:
    """A generated 'photo' of a gem (with EXIF that the bot must strip)."""
    image = Image.new("RGB", (900, 700), (235, 232, 225))
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 150, 650, 550), fill=colour, outline=(60, 60, 60), width=8)
    draw.polygon([(450, 170), (600, 350), (450, 530), (300, 350)], fill=tuple(
        min(255, c + 60) for c in colour))
    draw.text((30, 30), label, fill=(40, 40, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def play(t, gc) -> None:
    """Approval on, two listings, a moderator approves, members browse, search and wishlist."""
    market = gc.sb.create_channel(gc.guild, "marketplace")
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await t.slash("admin", "settings set", key="marketplace_channel_id", value=f"<#{market.id}>")
    await t.slash("admin", "settings set", key="marketplace_queue_channel_id", value=f"<#{queue.id}>")
    await t.slash("admin", "settings set", key="marketplace_approval", value="on")
    await t.slash("carol", "market alert add", keywords="sapphire", max_price=2000)

    items = [("alice", "Art deco sapphire ring", (30, 60, 200), 1500, "vintage, art-deco"),
             ("bob", "Ruby pendant on gold chain", (190, 20, 40), 900, "ruby")]
    for who, title, colour, price, tags in items:
        photo = gc.sb.attachment("gem.jpg", gem_photo(colour, title), "image/jpeg")
        opened = await t.slash(who, "list-item", category="rings" if "ring" in title else "necklaces",
                               condition="like_new", price_gems=price)
        t.act(who, "fills in the listing form (title, description, specifications, tags, a photo)")
        preview = await gc.sb.submit_modal(gc[who], opened, {
            "Title": title, "Description": f"{title}, photographed in daylight. **No** flaws.",
            "Specifications (one `key: value` per line)": "metal: 18k gold\nweight: 3.1 g",
            "Tags (optional)": tags, "Photos (up to 10)": [photo]})
        t.answer(preview)
        t.check("preview" in preview.text and bool(preview.files), "a private preview with the photo")
        await t.click(who, preview, "Publish")

    queued = gc.sb.channel_messages(queue)
    t.note(f"#mod-queue has {len(queued)} listings waiting for review.")
    denied = await t.click("dave", queued[0], "Approve")
    t.check("Only moderators" in denied.content, "members cannot approve listings")
    await t.click("mod", queued[0], "Approve")
    await t.click("mod", queued[1], "Approve")
    t.check(len(gc.sb.channel_messages(market)) == 2, "approved listings are announced")
    t.note("Saved-search matches arrive as one digest DM a few minutes later (no DM spam).")
    await t.advance(minutes=5)
    t.check(any("alert" in m.content for m in gc.sb.dms(gc["carol"])), "carol's alert fired")

    browse = await t.slash("dave", "market browse")
    grid = browse.files.get("results.jpg")
    if grid:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "marketplace_grid.jpg").write_bytes(grid)
        t.note(f"The result page carries a thumbnail grid image ({OUT / 'marketplace_grid.jpg'}).")
    found = await t.slash("erin", "market search", keywords="sapphire", sort="price_asc")
    t.check("Art deco sapphire ring" in found.text, "search finds the sapphire ring")
    detail = await t.click("erin", found, "1")
    await t.click("erin", detail, "♡ Wishlist")
    await t.slash("alice", "market edit", listing=1, price_gems=1200)
    t.check(any("Price drop" in m.content for m in gc.sb.dms(gc["erin"])),
            "erin hears about the price drop")
    await t.slash("erin", "market wishlist view")
    await t.slash("alice", "market mine")
