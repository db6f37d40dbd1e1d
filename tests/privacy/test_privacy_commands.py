"""/privacy export and /privacy delete end to end through the sandbox."""

from __future__ import annotations

import json

import pytest

from bot.render import grid
from economy.privacy.service import TOMBSTONE_BASE
from tests.e2e_fixtures import balance, db_state, seed
from tests.events import event_form

pytestmark = pytest.mark.timeout(60)


async def test_export_arrives_by_dm_as_a_json_file(gc):
    await seed(gc, "alice", 300)
    await gc.slash("alice", "gems give", member=gc["bob"], amount=40)
    r = await gc.slash("alice", "privacy export")
    assert r.ephemeral and "check your DMs" in r.text
    dm = gc.sb.dms(gc["alice"])[-1]
    (name, data), = dm.files.items()
    assert name == f"gems-data-{gc.guild.id}.json"
    body = json.loads(data)
    assert body["user_id"] == gc["alice"].id
    assert body["collections"]["accounts"][0]["balance"] == 260
    assert len(body["collections"]["ledger"]) == 3  # the seed and both legs of the gift


async def test_export_with_closed_dms_says_so(gc):
    gc.sb.close_dms(gc["bob"])
    r = await gc.slash("bob", "privacy export")
    assert r.ephemeral and "couldn't DM you" in r.text
    assert gc.sb.dms(gc["bob"]) == []


async def test_delete_asks_only_the_member_and_keeps_the_audit_green(gc):
    await seed(gc, "alice", 300)
    await seed(gc, "bob", 100)
    await gc.slash("alice", "gems give", member=gc["bob"], amount=50)
    r = await gc.slash("alice", "privacy delete")
    assert r.ephemeral and "can't be undone" in r.text and "250 GEMS is retired" in r.text

    before = await db_state(gc)
    forged = await gc.click("bob", r, "Delete my data")  # someone else's button: refused
    assert forged.ephemeral and "someone else's" in forged.text
    assert await db_state(gc) == before

    async def rendered() -> bytes:
        return b"jpeg"

    await grid.GRIDS.get((gc.guild.id, ("a-photo",)), rendered)  # a rendered results page
    done = await gc.click("alice", r, "Delete my data")
    assert "anonymised" in done.content and not done.buttons  # the question is replaced
    assert (gc.guild.id, ("a-photo",)) not in grid.GRIDS._grids  # no rendered copy stays
    assert await balance(gc, "alice") == 0 and await balance(gc, "bob") == 150
    accounts = await gc.db["accounts"].find({"guild_id": gc.guild.id}).to_list()
    assert gc["alice"].id not in {a["user_id"] for a in accounts}
    assert any(a["user_id"] < TOMBSTONE_BASE and a["balance"] == 250 for a in accounts)
    board = await gc.slash("bob", "gems leaderboard")
    assert "250" not in board.text
    # (the gc fixture runs the ledger audit when the test ends)


async def test_open_trade_blocks_delete(gc):
    await seed(gc, "bob", 500)
    offer = await gc.services.trades.offer(gc.guild.id, gc["alice"].id, gc["bob"].id, 100,
                                           "A ring")
    await gc.services.trades.accept(gc.guild.id, offer.trade_id, gc["bob"].id)
    before = await db_state(gc)
    r = await gc.slash("alice", "privacy delete")
    assert r.ephemeral and "can't be deleted yet" in r.text and f"#{offer.trade_id}" in r.text
    assert not r.buttons
    assert await db_state(gc) == before


async def test_a_deleted_member_forfeits_pending_rewards(gc):
    """Issue 22: the pending completion reward of a member who deleted their data is not minted
    into their anonymous account, and the question and the confirmation say so."""
    _, done = await event_form.create(gc, "admin", type="social", start="now", duration=60,
                                      reward_attend=10, reward_complete=40, title="Gem swap")
    event_id = int(done.content.split("#")[1].split(":")[0])
    for name in ("alice", "bob"):
        r = await gc.slash(name, "event checkin", event=event_id)
        assert "Checked in" in r.content
    asked = await gc.slash("alice", "privacy delete")
    assert "forfeit every reward not paid yet" in asked.text and "event completion" in asked.text
    deleted = await gc.click("alice", asked, "Delete my data")
    assert "forfeit every reward not paid yet" in deleted.content
    picker = await gc.slash("admin", "event-admin complete", event=event_id)
    completed = await gc.sb.select(gc["admin"], picker, f"ev:win:{event_id}:{gc['admin'].id}", [])
    assert "completed" in completed.text
    assert await balance(gc, "bob") == 50
    tomb = await gc.db["accounts"].find_one({"guild_id": gc.guild.id,
                                             "user_id": {"$lt": TOMBSTONE_BASE}})
    assert tomb["balance"] == 10  # the check-in it had; no completion reward after deletion
    entries = await gc.db["ledger"].find({"user_id": tomb["user_id"]}).to_list()
    assert [e["delta"] for e in entries] == [10], entries
