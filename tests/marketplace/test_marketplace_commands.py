"""The marketplace end to end through the sandbox: create, approve, browse, manage, sweep."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from economy.core.actor import Actor
from tests.core.test_images import photo, png_bomb

pytestmark = pytest.mark.timeout(60)

SPEC = "metal: platinum\nsize: 6"


def jpeg(colour=(200, 40, 40)) -> bytes:
    return photo(800, 600, colour=colour)


async def listing_state(gc) -> tuple:
    """Everything the marketplace stores, to prove that a refusal left nothing behind."""
    db = gc.db
    return tuple([await db[c].count_documents({}) for c in (
        "listings", "listing_images", "listing_quota", "wishlists", "market_alerts")])


async def create(gc, who="alice", *, title="Blue sapphire ring", description="Lovely stone.",
                 specs=SPEC, images=(), tags=None, publish=True, **options):
    """/list-item -> form (text, tags, photos) -> preview (-> Publish).
    Returns (preview result, published result)."""
    options.setdefault("category", "rings")
    options.setdefault("condition", "new")
    options.setdefault("price_gems", 500)
    photos = [gc.sb.attachment(f"photo{i}.jpg", data, "image/jpeg")
              for i, data in enumerate(images, 1)]
    options = {k: v for k, v in options.items() if v is not None}
    opened = await gc.slash(who, "list-item", **options)
    assert opened.modal is not None, opened.content
    preview = await gc.sb.submit_modal(gc[who], opened, {
        "Title": title, "Description": description,
        "Specifications (one `key: value` per line)": specs, "Tags (optional)": tags or "",
        "Photos (up to 10)": photos})
    if publish and preview.buttons:
        published = await gc.click(who, preview, "Publish")
        return preview, published
    return preview, None


async def channels(gc):
    market = gc.sb.create_channel(gc.guild, "marketplace")
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="marketplace_channel_id", value=f"<#{market.id}>")
    await gc.slash("admin", "settings set", key="marketplace_queue_channel_id", value=f"<#{queue.id}>")
    return market, queue


async def test_create_with_images_preview_publish_and_announce(gc):
    market, _ = await channels(gc)
    preview, _ = await create(gc, images=[jpeg(), jpeg((20, 90, 200))], tags="vintage",
                              publish=False)
    assert preview.ephemeral and "preview" in preview.text and "Draft" in preview.text
    assert [b.label for b in preview.buttons] == ["Publish", "Cancel"]
    assert preview.buttons[0].custom_id == "mkt:pub:1"
    image = Image.open(io.BytesIO(preview.files["listing-1-1.jpg"]))
    assert image.format == "JPEG" and not image.getexif()  # EXIF/GPS gone
    published = await gc.click("alice", preview, "Publish")
    assert "is live" in published.message.content and not published.message.buttons
    announced = gc.sb.channel_messages(market)[-1]
    assert "Blue sapphire ring" in announced.text and "listing-1-1.jpg" in announced.files
    labels = [b.label for b in announced.buttons]
    assert labels == ["◀ Image", "Image ▶", "♡ Wishlist", "Buy"]
    assert announced.buttons[-1].custom_id == "trade:buy:1"
    assert announced.allowed_mentions == {"parse": []}
    # The gallery opens a private copy on the second image.
    second = await gc.click("bob", announced, "Image ▶")
    assert second.ephemeral and "listing-1-2.jpg" in second.files and "Image 2/2" in second.text
    again = await gc.click("bob", second, "Image ▶")
    assert "listing-1-1.jpg" in again.message.files  # wraps around, edited in place


async def test_cancel_leaves_nothing_and_only_the_seller_can_publish(gc):
    preview, _ = await create(gc, images=[jpeg()], publish=False)
    assert await listing_state(gc) == (1, 1, 0, 0, 0)
    stranger = await gc.click("bob", preview, "Publish")
    assert stranger.ephemeral and "someone else" in stranger.content
    cancelled = await gc.click("alice", preview, "Cancel")
    assert "discarded" in cancelled.message.content
    assert await listing_state(gc) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("options, fields, expected", [
    ({"price_gems": 0}, {}, "at least 1"),
    ({"price_gems": -3}, {}, "at least 1"),
    ({"price_gems": 10**13}, {}, "at most"),
    ({"price_gems": None}, {}, "Give a price"),
    ({"price_usd": "5.00"}, {}, "USD prices are turned off"),
    ({"category": "spaceships"}, {}, "Pick a category"),
    ({}, {"title": "ab"}, "title must be 3-100"),
    ({}, {"description": "   "}, "description must be 1-2000"),
    ({}, {"specs": "just words"}, "key: value"),
    ({}, {"Tags (optional)": ",".join(f"t{i}" for i in range(30))}, "tags"),
])
async def test_bad_input_is_refused_privately_and_stores_nothing(gc, options, fields, expected):
    before = await listing_state(gc)
    opts = {"category": "rings", "condition": "new", "price_gems": 500, **options}
    opts = {k: v for k, v in opts.items() if v is not None}
    opened = await gc.slash("alice", "list-item", **opts)
    if opened.modal is None:
        result = opened
    else:
        values = {"Title": "Nice ring", "Description": "Lovely.",
                  "Specifications (one `key: value` per line)": ""}
        values.update({{"title": "Title", "description": "Description"}.get(k, k): v
                       for k, v in fields.items()})
        if "specs" in fields:
            values["Specifications (one `key: value` per line)"] = values.pop("specs")
        result = await gc.sb.submit_modal(gc["alice"], opened, values)
    assert result.ephemeral and expected in result.text, result.text
    assert await listing_state(gc) == before


@pytest.mark.parametrize("name, data, content_type, expected", [
    ("ring.png", b"%PDF-1.7 this is a document, not a photo" * 20, "image/png", "not an image"),
    ("notes.txt", b"hello", "text/plain", "not an image"),
    ("bomb.png", png_bomb(), "image/png", "too many pixels"),
])
async def test_bad_images_are_refused_and_store_nothing(gc, name, data, content_type, expected):
    before = await listing_state(gc)
    opened = await gc.slash("alice", "list-item", category="rings", condition="new",
                            price_gems=5)
    result = await gc.sb.submit_modal(gc["alice"], opened, {
        "Title": "Ring", "Description": "x",
        "Photos (up to 10)": [gc.sb.attachment(name, data, content_type)]})
    assert result.ephemeral and expected in result.text, result.text
    assert await listing_state(gc) == before


async def test_images_from_other_hosts_are_refused(gc):
    gc.bot.settings.attachment_hosts = ["cdn.discordapp.com"]  # the sandbox CDN is not on it
    before = await listing_state(gc)
    preview, _ = await create(gc, images=[jpeg()], publish=False)
    assert preview.ephemeral and "uploaded to Discord" in preview.text
    assert await listing_state(gc) == before


async def test_mentions_and_markdown_never_ping_and_render_escaped(gc):
    market, _ = await channels(gc)
    evil = "@everyone <@&1> **FREE** `x` [link](http://evil)"
    await create(gc, title=evil[:100], description=evil, specs=f"note: {evil}", tags="free")
    announced = gc.sb.channel_messages(market)[-1]
    assert announced.allowed_mentions == {"parse": []}
    assert "@\u200beveryone" in announced.text and "\\*\\*FREE\\*\\*" in announced.text
    assert "@everyone" not in announced.text.replace("@\u200beveryone", "")
    mine = await gc.slash("alice", "market mine")
    assert "\\*\\*FREE\\*\\*" in mine.text and mine.message.allowed_mentions == {"parse": []}


async def test_approval_workflow(gc):
    market, queue = await channels(gc)
    await gc.slash("admin", "settings set", key="marketplace_approval", value="on")
    _, published = await create(gc, images=[jpeg()])
    assert "moderators" in published.message.content
    queued = gc.sb.channel_messages(queue)[-1]
    assert [b.label for b in queued.buttons] == ["Approve", "Reject"]
    assert not gc.sb.channel_messages(market)
    denied = await gc.click("bob", queued, "Approve")
    assert denied.ephemeral and "Only moderators" in denied.content
    denied = await gc.click("alice", queued, "Reject")
    assert "Only moderators" in denied.content
    await gc.restart_bot()  # queue buttons are persistent
    approved = await gc.click("mod", queued, "Approve")
    assert "Approved by" in approved.message.content
    assert "approved" in gc.sb.dms(gc["alice"])[-1].content
    assert "Blue sapphire ring" in gc.sb.channel_messages(market)[-1].text
    # A second listing is rejected with a reason through the modal.
    await create(gc, title="Fake gold chain")
    queued = gc.sb.channel_messages(queue)[-1]
    opened = await gc.click("mod", queued, "Reject")
    done = await gc.sb.submit_modal(gc["mod"], opened, {"Reason (sent to the seller)": "looks fake"})
    assert "Rejected by" in done.message.content
    assert "looks fake" in gc.sb.dms(gc["alice"])[-1].content
    assert (await gc.services.marketplace.listings.get(gc.guild.id, 2)).status == "rejected"


async def test_configured_moderator_role_may_approve(gc):
    _, queue = await channels(gc)
    helpers = gc.sb.create_role(gc.guild, "Market helpers")
    helper = gc.add_member("helper", roles=[helpers])
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="moderator_role_id", value=f"<@&{helpers.id}>")
    await gc.slash("admin", "settings set", key="marketplace_approval", value="yes")
    await create(gc)
    approved = await gc.click(helper, gc.sb.channel_messages(queue)[-1], "Approve")
    assert "Approved by" in approved.message.content


async def test_browse_and_search_pages_survive_a_restart(gc):
    for key in ("listings_per_day", "max_active_listings"):
        await gc.services.settings.set(gc.guild.id, Actor.system(), key, "100")
    for i in range(23):
        await gc.services.marketplace.listings.publish(gc.guild.id, gc["alice"].id, (
            await gc.services.marketplace.listings.create_draft(
                gc.guild.id, gc["alice"].id, category="rings" if i % 2 else "necklaces",
                condition="new", title=f"Item {i:02d} sapphire", description="d",
                price_gems=100 + i)).listing_id)
        gc.clock.advance(minutes=1)
    r = await gc.slash("bob", "market browse")
    assert r.ephemeral and "Page 1/3" in r.text and "#23 · Item 22" in r.text
    assert "results.jpg" in r.files
    assert [b.label for b in r.buttons][-2:] == ["◀ Prev", "Next ▶"]
    await gc.restart_bot()
    page2 = await gc.click("bob", r, "Next ▶")
    assert "Page 2/3" in page2.message.text and "#13 · Item 12" in page2.message.text
    s = await gc.slash("bob", "market search", keywords="sapphire", category="rings",
                       sort="price_desc", min_price="105", max_price="200", tags="sapphire")
    assert "Page 1/1" in s.text and "#22 · Item 21" in s.text and "#6 · Item 05" in s.text
    assert "Item 03" not in s.text and "Item 04" not in s.text
    # A long query is saved server-side; its buttons still work after another restart.
    long = await gc.slash("bob", "market search", keywords="item sapphire",
                          min_price="1", max_price="999999", sort="price_asc", tags="sapphire")
    assert any(b.custom_id.startswith("mkt:r:2:next:~") for b in long.buttons)
    await gc.restart_bot()
    nxt = await gc.click("carol", long, "Next ▶")
    assert "Page 2/3" in nxt.message.text
    detail = await gc.click("carol", nxt, "1")
    assert detail.ephemeral and "#11 · Item 10 sapphire" in detail.text
    none = await gc.slash("bob", "market search", keywords="emerald")
    assert "Nothing matches" in none.text


async def test_wishlist_price_drop_and_alerts(gc):
    await gc.slash("carol", "market alert add", keywords="sapphire", max_price=600)
    alerts = await gc.slash("carol", "market alert list")
    assert "#1" in alerts.content and "sapphire" in alerts.content
    await create(gc)
    assert gc.sb.dms(gc["carol"]) == []  # matches wait for the digest window
    await gc.advance(minutes=5)
    assert "matching your alert #1" in gc.sb.dms(gc["carol"])[-1].content
    detail = await gc.slash("bob", "market view", listing=1)
    wished = await gc.click("bob", detail, "♡ Wishlist")
    assert "Added #1" in wished.content
    again = await gc.click("bob", detail, "♡ Wishlist")
    assert "already" in again.content
    view = await gc.slash("bob", "market wishlist view")
    assert "Blue sapphire ring" in view.text
    edited = await gc.slash("alice", "market edit", listing=1, price_gems=450)
    assert edited.ephemeral and "Updated listing #1" in edited.content
    assert "Price drop" in gc.sb.dms(gc["bob"])[-1].content and "450" in gc.sb.dms(gc["bob"])[-1].content
    dms_before = len(gc.sb.dms(gc["bob"]))
    await gc.slash("alice", "market edit", listing=1, price_gems=400)
    assert len(gc.sb.dms(gc["bob"])) == dms_before  # one price-drop DM per 12 h
    await gc.slash("bob", "gems dms", setting="off")
    await gc.advance(hours=13)
    await gc.slash("alice", "market edit", listing=1, price_gems=350)
    assert len(gc.sb.dms(gc["bob"])) == dms_before  # DMs turned off
    await gc.slash("bob", "gems dms", setting="on")
    await gc.slash("bob", "market wishlist remove", listing=1)
    assert "empty" in (await gc.slash("bob", "market wishlist view")).text
    await gc.slash("carol", "market alert remove", alert=1)
    assert "no alerts" in (await gc.slash("carol", "market alert list")).content


async def test_manage_someone_elses_listing_is_refused(gc):
    await create(gc)
    before = await listing_state(gc)
    for command, extra in (("market edit", {"price_gems": 1}), ("market withdraw", {}),
                           ("market relist", {})):
        r = await gc.slash("bob", command, listing=1, **extra)
        assert r.ephemeral and "someone else" in r.content, r.content
    assert await listing_state(gc) == before
    assert (await gc.services.marketplace.listings.get(gc.guild.id, 1)).price_gems == 500
    choices = await gc.sb.autocomplete(gc["alice"], "market withdraw", "listing", "sapph")
    assert choices == [{"name": "#1 Blue sapphire ring (active)", "value": 1}]
    assert await gc.sb.autocomplete(gc["bob"], "market withdraw", "listing", "") == []
    done = await gc.slash("alice", "market withdraw", listing=1)
    assert "Withdrew listing #1" in done.content
    mine = await gc.slash("alice", "market mine")
    assert "Withdrawn" in mine.text
    back = await gc.slash("alice", "market relist", listing=1)
    assert "live again" in back.content


async def test_caps_are_enforced_with_friendly_errors(gc):
    await gc.slash("admin", "settings set", key="max_active_listings", value="1")
    await create(gc)
    before = await listing_state(gc)
    r = await gc.slash("alice", "list-item", category="rings", condition="new", price_gems=5)
    assert r.ephemeral and "1 open listings" in r.content
    assert await listing_state(gc) == before
    await gc.slash("admin", "settings set", key="max_active_listings", value="5")
    await gc.slash("admin", "settings set", key="listings_per_day", value="2")
    await create(gc)
    _, published = await create(gc)
    assert published.ephemeral and "per day" in published.content and "<t:" in published.content


async def test_expiry_sweep_after_a_restart(gc):
    await create(gc)
    detail = await gc.slash("bob", "market view", listing=1)
    await gc.click("bob", detail, "♡ Wishlist")
    await gc.restart_bot()
    await gc.advance(days=28, minutes=1)
    assert "expires" in gc.sb.dms(gc["alice"])[-1].content
    assert "expires soon" in gc.sb.dms(gc["bob"])[-1].content
    await gc.restart_bot()
    await gc.advance(days=2)
    assert "expired" in gc.sb.dms(gc["alice"])[-1].content
    dm_count = len(gc.sb.dms(gc["alice"]))
    await gc.advance(minutes=10)  # the sweep runs again: nothing new
    assert len(gc.sb.dms(gc["alice"])) == dm_count
    assert (await gc.services.marketplace.listings.get(gc.guild.id, 1)).status == "expired"
    r = await gc.slash("bob", "market browse")
    assert "Nothing matches" in r.text


async def test_usd_prices_when_enabled(gc):
    await gc.slash("admin", "settings set", key="marketplace_usd", value="on")
    await create(gc, price_gems=None, price_usd="12.50")
    r = await gc.slash("bob", "market search", currency="usd", max_price="20")
    assert "$12.50" in r.text
    detail = await gc.slash("bob", "market view", listing=1)
    assert "Buy" not in [b.label for b in detail.buttons]  # GEMS-only escrow


async def test_moderators_review_from_the_queue_command(gc):
    await gc.slash("admin", "settings set", key="marketplace_approval", value="on")
    await create(gc, "alice", title="Pink tourmaline")
    await create(gc, "bob", title="Onyx cufflinks")
    denied = await gc.slash("carol", "market-admin queue")
    assert denied.ephemeral and "Only moderators" in denied.content
    queue = await gc.slash("mod", "market-admin queue")
    assert queue.ephemeral and "2 listings waiting" in queue.content and "#2" in queue.content
    assert "Pink tourmaline" in queue.text and [b.label for b in queue.buttons] == ["Approve", "Reject"]
    await gc.click("mod", queue, "Approve")
    again = await gc.slash("mod", "market-admin queue")
    assert "1 listing waiting" in again.content and "Onyx cufflinks" in again.text
    found = await gc.slash("dave", "market search", keywords="tourmaline")
    assert "Pink tourmaline" in found.text
