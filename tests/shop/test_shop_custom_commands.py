"""Custom shop items end to end through the sandbox: bought like any item, a staff ticket in the
moderators' queue (posted by the sweep when the queue was missing at purchase time), Fulfil or
Refund by moderators only and once, the member told by DM; a custom raffle prize is a ticket
with Fulfil only."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import balance, seed
from tests.shop.test_shop_commands import _forge, _shop_state

pytestmark = pytest.mark.timeout(90)


async def _portrait(gc, **more):
    r = await gc.sb.slash(gc["admin"], "shop-admin add",
                          {"name": "Portrait", "price": 40, "kind": "custom",
                           "description": "A hand-drawn portrait of your avatar", **more})
    assert "On sale" in r.content and "staff hand you" in r.content, r.content


async def _buy(gc, who, item=1):
    quote = await gc.slash(who, "shop buy", item=item)
    return (await gc.click(who, quote, "Confirm purchase")).last


def _tickets(gc, queue):
    return [m for m in gc.sb.channel_messages(queue) if "Shop ticket" in m.content]


async def test_a_custom_item_is_a_ticket_staff_fulfil_or_refund_once(gc):
    r = await gc.sb.slash(gc["admin"], "shop-admin add",
                          {"name": "Nothing said", "price": 5, "kind": "custom"})
    assert r.ephemeral and "needs a description" in r.content
    await _portrait(gc, stock=5)
    await seed(gc, "alice", 100)
    done = await _buy(gc, "alice")
    assert "Staff hand this one over themselves: they will get a ticket" in done.content, \
        done.content
    assert await balance(gc, "alice") == 60
    # No moderators' queue yet: the ticket waits; the sweep posts it once there is one.
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    await gc.advance(minutes=1)
    await gc.advance(minutes=1)
    [ticket] = _tickets(gc, queue)
    key = ticket.components[0].custom_id.removeprefix("shop:ful:")
    assert f"<@{gc['alice'].id}>" in ticket.content and "hand-drawn" in ticket.content
    assert ticket.allowed_mentions == {"parse": []}
    before = await _shop_state(gc)
    refused = await gc.click("bob", ticket, "Fulfil")
    assert refused.last.ephemeral and "Only moderators" in refused.last.content
    assert await _shop_state(gc) == before
    fulfilled = await gc.click("mod", ticket, "Fulfil")
    assert not fulfilled.errors
    [ticket] = _tickets(gc, queue)
    assert f"Fulfilled by <@{gc['mod'].id}>" in ticket.content and not ticket.components
    assert any("handed you **Portrait**" in m.text for m in gc.sb.dms(gc["alice"]))
    forged = await _forge(gc, "mod", ticket, f"shop:rfd:{key}")
    assert forged.last.ephemeral and "settled already" in forged.last.content
    assert await balance(gc, "alice") == 60
    inventory = await gc.slash("alice", "shop inventory")
    assert "Portrait** × 1 (handed over by staff)" in inventory.content, inventory.content
    # A second one, refunded instead: GEMS back, the unit back on sale.
    await _buy(gc, "alice")
    tickets = _tickets(gc, queue)
    assert len(tickets) == 2
    refunded = await gc.click("mod", tickets[-1], "Refund")
    assert not refunded.errors
    assert "Refunded by" in _tickets(gc, queue)[-1].content
    assert await balance(gc, "alice") == 60
    assert (await gc.db["shop_items"].find_one({"item_id": 1}))["stock"] == 4
    assert any("are back in your wallet" in m.text for m in gc.sb.dms(gc["alice"]))
    await gc.advance(minutes=2)  # the sweep posts nothing twice
    assert len(_tickets(gc, queue)) == 2


async def test_a_custom_raffle_prize_is_a_ticket_with_fulfil_only(gc):
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    await _portrait(gc, stock=1)
    await gc.sb.slash(gc["admin"], "raffle-admin create",
                      {"item": 1, "price": 10, "max_per_member": 1, "ends": "1h"},
                      in_channel=gc.general)
    await seed(gc, "bob", 50)
    await gc.slash("bob", "shop tickets", raffle=1, count=1)
    await gc.advance(hours=1)
    [ticket] = _tickets(gc, queue)
    assert "won in raffle #1" in ticket.content and f"<@{gc['bob'].id}>" in ticket.content
    assert [c.label for c in ticket.components] == ["Fulfil"]
    [dm] = [m.text for m in gc.sb.dms(gc["bob"]) if "You won raffle #1" in m.text]
    assert "they have a ticket" in dm, dm
    await gc.click("mod", ticket, "Fulfil")
    stored = await gc.db["shop_purchases"].find_one({"prize": "raffle #1"})
    assert (stored["status"], stored["price"]) == ("fulfilled", 0)
    assert await balance(gc, "bob") == 40
