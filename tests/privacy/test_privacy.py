"""PrivacyService against the embedded store: export, anonymisation, blockers, races, audit."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InsufficientFunds, NotPermitted
from economy.privacy.service import TOMBSTONE_BASE, _mentions, _token
from tests.conftest import relax_offer_limits

pytestmark = pytest.mark.timeout(60)

G = 1001
# Realistic snowflakes: the id also appears inside strings (idempotency keys).
ALICE, BOB = 310_000_000_000_000_001, 310_000_000_000_000_002


async def _history(services, clock) -> None:
    await relax_offer_limits(services, G)
    ledger = services.ledger
    for user in (ALICE, BOB):
        await ledger.grant(G, Actor(1, is_admin=True), user, 5_000, reason="seed", key=f"seed:{user}")
    await ledger.transfer(G, ALICE, BOB, 300, key="gift:1", note=f"thanks <@{BOB}>")
    await ledger.transfer(G, BOB, ALICE, 120, key="gift:2")
    await ledger.claim_daily(G, ALICE, await services.settings.get(G))
    offer = await services.trades.offer(G, ALICE, BOB, 1_000, "A sapphire ring")
    await services.trades.accept(G, offer.trade_id, BOB)
    await services.trades.mark_delivered(G, offer.trade_id, ALICE, "sent")
    await services.trades.confirm(G, offer.trade_id, BOB)
    listing = await services.marketplace.listings.create_draft(
        G, ALICE, category="rings", condition="new", title="Blue ring", description="Lovely",
        specs="", tags="", price_gems=500)
    await services.marketplace.listings.publish(G, ALICE, listing.listing_id)
    await services.member_prefs.set_dms(G, ALICE, False)
    await services.wallets._repo.insert_many(  # with its cap place, as a linked wallet has
        [{"guild_id": G, "user_id": ALICE, "address": "0x" + "ab" * 20, "linked_ms": 1}])
    clock.advance(days=1)


async def _everything(services) -> list[dict]:
    db = services.db
    docs = []
    for name in await db.raw.list_collection_names():
        docs += await db[name].find({"guild_id": G}).to_list()
    return docs


async def _ok(services):
    report = await audit(services.db)
    assert report.ok, report.render()
    return report


async def test_export_holds_the_members_documents(services, clock):
    await _history(services, clock)
    body = json.loads(await services.privacy.export(G, ALICE))
    assert body["user_id"] == ALICE
    cols = body["collections"]
    assert {"accounts", "ledger", "trades", "listings", "wallets", "member_prefs"} <= set(cols)
    assert cols["accounts"][0]["balance"] == await services.ledger.balance(G, ALICE)
    assert "carol" not in json.dumps(cols)


async def test_delete_anonymises_keeps_the_ledger_exact_and_withdraws_listings(services, clock):
    await _history(services, clock)
    before = await _ok(services)
    bob_before = await services.ledger.account(G, BOB)
    bob_entries = await services.ledger.history(G, BOB, page_size=50)
    treasury = await services.ledger.treasury_balance(G)
    alice_balance = await services.ledger.balance(G, ALICE)

    preview = await services.privacy.preview(G, ALICE)
    assert preview.blockers == () and len(preview.listings_to_withdraw) == 1
    assert preview.balance == alice_balance
    result = await services.privacy.delete(G, ALICE)
    assert result.tombstone < TOMBSTONE_BASE and result.forfeited == alice_balance
    assert result.listings_withdrawn == list(preview.listings_to_withdraw)

    after = await _ok(services)
    assert (after.accounts, after.entries_total) == (before.accounts, before.entries_total)
    token = _token(ALICE)
    leftovers = [d for d in await _everything(services) if _mentions(d, ALICE, token)]
    assert leftovers == []
    # Bob's side of every operation is untouched, apart from pointing at the tombstone.
    assert await services.ledger.account(G, BOB) == bob_before
    bob_after = await services.ledger.history(G, BOB, page_size=50)
    assert [(e.delta, e.kind) for e in bob_after.rows] == \
        [(e.delta, e.kind) for e in bob_entries.rows]
    assert result.tombstone in {e.counterparty_id for e in bob_after.rows}
    assert await services.ledger.treasury_balance(G) == treasury
    # The tombstone keeps the balance out of circulation and off the leaderboard.
    assert await services.ledger.balance(G, result.tombstone) == alice_balance
    board = await services.ledger.leaderboard(G)
    assert {row[1] for row in board.rows} == {BOB}
    db = services.db
    assert await db["wallets"].count_documents({"guild_id": G}) == 0
    assert await db["member_prefs"].count_documents({"guild_id": G}) == 0
    listing = await db["listings"].find_one({"guild_id": G})
    assert listing["status"] == "withdrawn" and listing["seller_id"] == result.tombstone
    assert await db["privacy_deletions"].count_documents({"guild_id": G}) == 1

    # The member is still here and starts afresh; a second deletion finds nothing of the old.
    await services.ledger.transfer(G, BOB, ALICE, 10, key="after")
    again = await services.privacy.delete(G, ALICE)
    assert again.forfeited == 10 and again.tombstone != result.tombstone
    await _ok(services)


async def test_open_trades_block_deletion_and_change_nothing(services, clock):
    await _history(services, clock)
    offer = await services.trades.offer(G, ALICE, BOB, 200, "Another ring")
    await services.trades.accept(G, offer.trade_id, BOB)
    before = sorted(map(repr, await _everything(services)))
    preview = await services.privacy.preview(G, ALICE)
    assert any(f"#{offer.trade_id}" in b for b in preview.blockers)
    for who in (ALICE, BOB):
        with pytest.raises(NotPermitted, match="open trades"):
            await services.privacy.delete(G, who)
    assert sorted(map(repr, await _everything(services))) == before


async def test_deletion_racing_transfers_keeps_the_audit_green(services, clock):
    await _history(services, clock)

    async def transfer(i: int) -> None:
        sender, recipient = (ALICE, BOB) if i % 2 else (BOB, ALICE)
        # Alice's balance may have moved to the tombstone first: her debit then finds nothing.
        with contextlib.suppress(InsufficientFunds):
            await services.ledger.transfer(G, sender, recipient, 7, key=f"race:{i}")

    async def delete() -> None:
        await services.privacy.delete(G, ALICE)

    await asyncio.gather(*(transfer(i) for i in range(30)), delete(), delete())
    await _ok(services)
    tombstones = await services.db["accounts"].find(
        {"guild_id": G, "user_id": {"$lt": TOMBSTONE_BASE}}).to_list()
    assert tombstones and all(acc["system"] for acc in tombstones)


async def test_live_mentorship_blocks_then_profiles_are_deleted(services, clock):
    db = services.db
    await db.write(lambda: db["mentors"].insert_one(
        {"guild_id": G, "user_id": ALICE, "bio": "I polish gems", "status": "active",
         "skills": [], "zone": "UTC", "availability": [], "languages": ["en"], "capacity": 2}))
    await db.write(lambda: db["mentorships"].insert_one(
        {"guild_id": G, "mentorship_id": 1, "mentor_id": ALICE, "mentee_id": BOB,
         "status": "active", "score": 1.0, "explanation": "skills match"}))
    preview = await services.privacy.preview(G, ALICE)
    assert preview.blockers == ("a live mentorship (as mentor): end it first",)
    with pytest.raises(NotPermitted, match="live mentorship"):
        await services.privacy.delete(G, ALICE)

    await db.write(lambda: db["mentorships"].update_one(
        {"guild_id": G, "mentorship_id": 1}, {"$set": {"status": "ended"}}))
    result = await services.privacy.delete(G, ALICE)
    assert await db["mentors"].count_documents({"guild_id": G}) == 0  # the profile text is gone
    pair = await db["mentorships"].find_one({"guild_id": G})
    assert pair["mentor_id"] == result.tombstone and pair["mentee_id"] == BOB
    await _ok(services)
