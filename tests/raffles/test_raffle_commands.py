"""/raffle-admin and the members' /shop raffles + /shop tickets end to end through the sandbox:
tickets bought, the cap and bad input refused with nothing changed, the draw by the sweep, the
result posted without pings and the winner told by DM (unless DMs are off), cancel refunds."""

from __future__ import annotations

import pytest

from economy.raffles.models import derive_winners
from tests.e2e_fixtures import balance, db_state, seed

pytestmark = pytest.mark.timeout(90)


async def _state(gc) -> tuple:
    docs = []
    for name in ("raffles", "raffle_tickets"):
        docs += await gc.db[name].find({}, {"_id": 0}).to_list()
    return await db_state(gc), sorted(map(repr, docs))


async def _create(gc, **options):
    options = {"prize": "Signed poster @everyone", "price": 10, "max_per_member": 2,
               "ends": "1h", **options}
    return await gc.sb.slash(gc["admin"], "raffle-admin create", options, in_channel=gc.general)


async def test_a_raffle_from_creation_to_a_verifiable_result(gc):
    await seed(gc, "alice", 100)
    await seed(gc, "bob", 15)
    before = await _state(gc)
    for bad in ({"price": 0}, {"price": -3}, {"max_per_member": 0}, {"ends": "yesterday"}):
        r = await _create(gc, **bad)
        assert r.ephemeral, (bad, r.content)
    r = await gc.sb.slash(gc["bob"], "raffle-admin create",
                          {"prize": "x", "price": 1, "max_per_member": 1, "ends": "1h"})
    assert r.ephemeral and "Only server admins" in r.content
    assert await _state(gc) == before
    created = await _create(gc)
    assert "Raffle #1 is open" in created.content and "SHA-256" in created.content
    assert created.message.allowed_mentions == {"parse": []}
    listed = await gc.slash("carol", "shop raffles")
    assert "#1 Signed poster" in listed.content and listed.ephemeral
    bought = await gc.slash("alice", "shop tickets", raffle=1, count=2)
    assert "2 tickets for raffle #1" in bought.content and "you hold 2" in bought.content
    before = await _state(gc)
    for who, count, why in (("alice", 1, "at most 2"), ("bob", 2, "Not enough GEMS"),
                            ("bob", 0, "number of tickets"), ("bob", 1.5, "")):
        r = await gc.slash(who, "shop tickets", raffle=1, count=count)
        assert r.ephemeral and why in r.content, (who, count, r.content)
    r = await gc.slash("bob", "shop tickets", raffle=7, count=1)
    assert r.ephemeral and "no raffle #7" in r.content
    assert await _state(gc) == before
    await gc.slash("bob", "gems dms", setting="off")
    await gc.slash("bob", "shop tickets", raffle=1, count=1)
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (80, 5)
    await gc.advance(hours=1)
    stored = await gc.db["raffles"].find_one({"raffle_id": 1})
    assert stored["status"] == "drawn" and stored["announced"]
    tickets = [(gc["alice"].id, 2), (gc["bob"].id, 1)]
    [winner] = stored["winners"]
    assert derive_winners(stored["seed"], tickets, 1) == [winner]
    posts = [m for m in gc.sb.channel_messages(gc.general) if "is drawn" in m.content]
    assert len(posts) == 1 and f"<@{winner}>" in posts[0].content
    assert stored["seed"] in posts[0].content and posts[0].allowed_mentions == {"parse": []}
    winner_dms = gc.sb.dms(gc["alice"]) if winner == gc["alice"].id else gc.sb.dms(gc["bob"])
    assert len(winner_dms) == (1 if winner == gc["alice"].id else 0)  # bob turned DMs off
    late = await gc.slash("carol", "shop tickets", raffle=1, count=1)
    assert late.ephemeral and "ended" in late.content
    await gc.advance(minutes=5)  # the sweep again: nothing posted twice
    assert len([m for m in gc.sb.channel_messages(gc.general) if "is drawn" in m.content]) == 1


async def test_cancel_refunds_the_tickets(gc):
    await seed(gc, "alice", 100)
    await _create(gc, price=25, max_per_member=3)
    await gc.slash("alice", "shop tickets", raffle=1, count=3)
    assert await balance(gc, "alice") == 25
    r = await gc.sb.slash(gc["admin"], "raffle-admin cancel", {"raffle": 1})
    assert "75 GEMS refunded to 1 member" in r.content, r.content
    assert await balance(gc, "alice") == 100
    await gc.sb.settle()
    told = [m.text for m in gc.sb.dms(gc["alice"]) if "was cancelled" in m.text]
    assert len(told) == 1 and "75 GEMS" in told[0]  # the ticket holder is told, once
    again = await gc.sb.slash(gc["admin"], "raffle-admin cancel", {"raffle": 1})
    assert again.ephemeral and "cancelled already" in again.content
    await gc.advance(minutes=5)  # the sweep finds nothing left to refund: nobody told twice
    assert len([m for m in gc.sb.dms(gc["alice"]) if "was cancelled" in m.text]) == 1
    listed = await gc.sb.slash(gc["admin"], "raffle-admin list", {})
    assert "cancelled (refunded)" in listed.content
    assert await balance(gc, "alice") == 100
