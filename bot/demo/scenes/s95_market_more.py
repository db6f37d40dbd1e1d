"""More of the marketplace and of trades: the alert digest, the approval queue, withdraw and
relist, trade records, the moderators' and admins' tools."""

from __future__ import annotations

import re

ORDER = 95
TITLE = "Alert digests, the approval queue, relisting and trade records"


def _channel(gc, name):
    return next(c for c in gc.sb.world.channels.values() if c.name == name and not c.is_thread)


async def _list(t, gc, who: str, title: str, price: int) -> int:
    opened = await t.slash(who, "list-item", category="rings", condition="good", price_gems=price)
    t.act(who, f"fills in the listing form: {title}")
    preview = await gc.sb.submit_modal(gc[who], opened, {
        "Title": title, "Description": f"{title}, with a play of colour.",
        "Specifications (one `key: value` per line)": "metal: silver",
        "Tags (optional)": "opal"})
    listing_id = int(re.search(r"#(\d+) · ", preview.text).group(1))
    await t.click(who, preview, "Publish")
    return listing_id


async def play(t, gc) -> None:
    """Two matches within minutes reach dave as ONE digest DM; one of them waits for approval."""
    await t.slash("admin", "settings set", key="marketplace_approval", value="off")
    made = await t.slash("dave", "market alert add", keywords="opal", max_price=800)
    alert = int(re.search(r"Alert #(\d+)", made.content).group(1)) if "Alert #" in made.content else 0
    first = await _list(t, gc, "alice", "Ethiopian opal ring", 600)
    t.note("Approval is switched on for the next listing: it waits in the moderators' queue.")
    await t.slash("admin", "settings set", key="marketplace_approval", value="on")
    second = await _list(t, gc, "bob", "Boulder opal ring", 450)
    await t.slash("mod", "market-admin queue")
    queued = [m for m in gc.sb.channel_messages(_channel(gc, "mod-queue"))
              if m.embeds and f"#{second} " in (m.embeds[0].title or "")]
    if queued:
        await t.click("mod", queued[-1], "Approve")
    await t.slash("admin", "settings set", key="marketplace_approval", value="off")
    before = len(gc.sb.dms(gc["dave"]))
    t.note("Both rings match dave's alert; five minutes later he gets one digest DM.")
    await t.advance(minutes=6)
    digests = [m for m in gc.sb.dms(gc["dave"])[before:] if "alert" in m.content.lower()]
    t.check(len(digests) == 1 and "Ethiopian opal" in digests[0].text and "Boulder opal" in
            digests[0].text, "two matches arrive as one digest DM")
    await t.slash("dave", "market alert list")
    await t.slash("dave", "market alert remove", alert=alert)
    await t.slash("erin", "market wishlist remove", listing=1)
    await t.slash("alice", "market withdraw", listing=first)
    await t.slash("alice", "market relist", listing=first)

    t.note("Trade records: members see their own, moderators a dispute's file, admins export all.")
    await t.slash("bob", "trades list", which="all")
    await t.slash("erin", "trades view", trade_id=1)
    await t.slash("mod", "trades-admin dispute view", trade_id=3)
    export = await t.slash("admin", "trades-admin export")
    t.check(any(name.endswith(".csv") for name in export.files), "the export is a CSV file")
    await t.slash("admin", "gems-admin take", member=gc["dave"], amount=10,
                  reason="duplicate welcome bonus")
    await t.slash("admin", "settings view", search="weekend")
