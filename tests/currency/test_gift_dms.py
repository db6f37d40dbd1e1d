"""A gift's recipient is told by DM: coalesced, honouring `/gems dms off`, never pinging."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import balance, seed

pytestmark = pytest.mark.timeout(60)


async def test_three_quick_gifts_arrive_as_one_dm(gc):
    for name in ("alice", "bob", "carol"):
        await seed(gc, name, 500)
    await gc.slash("alice", "gems give", member=gc["dave"], amount=100, note="thanks @everyone")
    await gc.slash("bob", "gems give", member=gc["dave"], amount=150)
    await gc.slash("carol", "gems give", member=gc["dave"], amount=50)
    await gc.slash("alice", "gems give", member=gc["dave"], amount=25)
    assert gc.sb.dms(gc["dave"]) == []  # gifts wait for the coalescing window
    await gc.advance(minutes=2)
    dms = gc.sb.dms(gc["dave"])
    assert len(dms) == 1, [m.content for m in dms]
    text = dms[0].content
    assert text.startswith("🎁 You received 💎 325 GEMS in **") and "from 3 members" in text
    assert "alice: 💎 125 GEMS (2 gifts)" in text and "bob: 💎 150 GEMS" in text
    assert "@\u200beveryone" in text  # a note never pings
    assert dms[0].allowed_mentions == {"parse": []}
    await gc.advance(minutes=10)
    assert len(gc.sb.dms(gc["dave"])) == 1  # told once
    assert gc.sb.dms(gc["alice"]) == []  # the givers are not DMed
    await gc.slash("bob", "gems give", member=gc["dave"], amount=7, note="one more")
    await gc.advance(minutes=2)
    last = gc.sb.dms(gc["dave"])[-1].content
    assert last.startswith("🎁 bob gave you 💎 7 GEMS in **") and last.endswith(": “one more”")
    assert await balance(gc, "dave") == 332
    assert await gc.services.db["gift_notices"].count_documents({}) == 0


async def test_no_gift_dm_when_the_recipient_turned_dms_off(gc):
    await seed(gc, "alice", 500)
    await gc.slash("dave", "gems dms", setting="off")
    r = await gc.slash("alice", "gems give", member=gc["dave"], amount=40)
    assert not r.ephemeral and await balance(gc, "dave") == 40
    await gc.advance(minutes=5)
    assert gc.sb.dms(gc["dave"]) == []
    assert await gc.services.db["gift_notices"].count_documents({}) == 0  # dropped, not kept


async def test_a_refused_gift_tells_nobody(gc):
    await seed(gc, "alice", 10)
    r = await gc.slash("alice", "gems give", member=gc["dave"], amount=50)
    assert r.ephemeral and "Not enough GEMS" in r.content
    await gc.advance(minutes=5)
    assert gc.sb.dms(gc["dave"]) == []
    assert await gc.services.db["gift_notices"].count_documents({}) == 0
