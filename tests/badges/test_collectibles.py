"""Collectibles against the embedded store: a tradeable badge's numbered edition is listed on
the marketplace by its owner only, once; escrow completion moves it once in the settlement's
transaction (10 buyers race, two settlements race); a refund, a dispute refund or a split leave
it with the seller; bad input changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from economy.badges.collectibles import CollectibleOutOfStep
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from economy.marketplace.repo import ListingRepo
from economy.trades.models import TradeUnavailable

pytestmark = pytest.mark.timeout(120)
G = 253
ADMIN, SELLER, OTHER = 1, 2, 3
STAFF = Actor(ADMIN, is_admin=True, guild_id=G)
FIELDS = {"category": "rings", "condition": "new", "title": "Gold badge number one",
          "description": "The first edition of the gold badge.", "price_gems": 300}
MOD = Actor(ADMIN, is_admin=True, is_moderator=True, guild_id=G)


async def ok_audit(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def fund(services, user: int, amount: int) -> None:
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed",
                                key=f"seed:{user}")


async def minted(services, *, tradeable: bool = True, to: int = SELLER, name: str = "Gold") -> str:
    """A limited badge given to `to`; its edition id ("c1#1")."""
    badge = await services.badges.create(G, STAFF, name=f"{name} {tradeable}",
                                         description="A numbered edition", emoji="🥇",
                                         rarity="epic", supply=100, tradeable=tradeable)
    award = await services.badges.give(G, STAFF, badge.key, to, reason="launch")
    return award.edition_id


async def listed(services, item: str, *, seller: int = SELLER, price: int = 300) -> int:
    draft = await services.marketplace.listings.create_draft(
        G, seller, category="rings", condition="new", title="Gold badge number one",
        description="The first edition of the gold badge.", price_gems=price, collectible=item)
    await services.marketplace.listings.publish(G, seller, draft.listing_id)
    return draft.listing_id


async def owner(services, item: str) -> int:
    doc, _ = await services.collectibles.history(G, item)
    return int(doc["user_id"])


async def snapshot(services) -> dict:
    """What bad input must not change: awards, listings, cap places, ledger."""
    out = {}
    for name in ("badge_awards", "listings", "cap_slots", "ledger", "badge_transfers"):
        out[name] = sorted(str(d) for d in await services.db[name].find({"guild_id": G})
                           .to_list())
    return out


async def test_ten_buyers_race_one_wins_and_the_collectible_moves_once(services):
    item = await minted(services)
    listing_id = await listed(services, item)
    buyers = list(range(100, 110))
    for buyer in buyers:
        await fund(services, buyer, 1000)
    outcomes = await asyncio.gather(*[services.trades.buy_listing(G, b, listing_id)
                                      for b in buyers], return_exceptions=True)
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, TradeUnavailable) for o in outcomes if isinstance(o, BaseException))
    trade = winners[0].trade
    for buyer in buyers:
        account = await services.ledger.account(G, buyer)
        assert (account.balance, account.held) == ((700, 300) if buyer == trade.buyer_id
                                                   else (1000, 0))
    assert await owner(services, item) == SELLER  # reserved: still the seller's
    await services.trades.confirm(G, trade.trade_id, trade.buyer_id)
    doc, moves = await services.collectibles.history(G, item)
    assert doc["user_id"] == trade.buyer_id and doc["_id"] == f"{G}:{item}"
    assert [(m.from_id, m.to_id, m.trade_id) for m in moves] == [
        (SELLER, trade.buyer_id, trade.trade_id)]
    assert await services.db["badge_transfers"].count_documents({"guild_id": G}) == 1
    assert await services.ledger.balance(G, SELLER) == 300 - 7
    held = [a for a in await services.badges.awards(G, trade.buyer_id) if a.serial]
    assert [(a.edition_id, a.collectible) for a in held] == [(item, True)]
    assert [a for a in await services.badges.awards(G, SELLER) if a.serial] == []
    await ok_audit(services)


async def test_two_concurrent_settlements_move_it_once(services):
    item = await minted(services)
    listing_id = await listed(services, item)
    await fund(services, 50, 1000)
    trade = (await services.trades.buy_listing(G, 50, listing_id)).trade
    outcomes = await asyncio.gather(
        services.trades.confirm(G, trade.trade_id, 50),
        services.trades.confirm(G, trade.trade_id, 50),
        return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) >= 1
    assert await owner(services, item) == 50
    assert await services.db["badge_transfers"].count_documents({"guild_id": G}) == 1
    assert await services.ledger.balance(G, SELLER) == 300 - 7
    # A settlement replayed by hand finds the trade settled and moves nothing again.
    with pytest.raises(TradeUnavailable):
        await services.trades.confirm(G, trade.trade_id, 50)
    assert await services.db["badge_transfers"].count_documents({"guild_id": G}) == 1
    await ok_audit(services)


async def test_the_new_owner_resells_it_and_the_history_grows(services):
    item = await minted(services)
    await fund(services, 60, 1000)
    await fund(services, 61, 1000)
    trade = (await services.trades.buy_listing(G, 60, await listed(services, item))).trade
    await services.trades.confirm(G, trade.trade_id, 60)
    with pytest.raises(NotPermitted):  # the first owner sold it
        await listed(services, item)
    second = (await services.trades.buy_listing(G, 61, await listed(services, item, seller=60,
                                                                     price=400))).trade
    await services.trades.confirm(G, second.trade_id, 61)
    _, moves = await services.collectibles.history(G, item)
    assert [(m.from_id, m.to_id) for m in moves] == [(SELLER, 60), (60, 61)]
    await ok_audit(services)


@pytest.mark.parametrize("outcome", ["refund", "split"])
async def test_a_dispute_refund_or_split_leaves_it_with_the_seller(services, outcome):
    item = await minted(services)
    listing_id = await listed(services, item)
    await fund(services, 70, 1000)
    trade = (await services.trades.buy_listing(G, 70, listing_id)).trade
    await services.disputes.open(G, trade.trade_id, 70, "It never arrived in my profile")
    await services.disputes.resolve(G, trade.trade_id, MOD, outcome,
                                    percent=50 if outcome == "split" else None,
                                    note="checked the logs")
    assert await owner(services, item) == SELLER
    assert await services.db["badge_transfers"].count_documents({"guild_id": G}) == 0
    status = (await ListingRepo(services.db).get(G, listing_id))["status"]
    if outcome == "refund":  # back on the market, still claiming it
        assert status == "active"
        with pytest.raises(Conflict):
            await listed(services, item)
    else:  # the listing is closed: the seller may list it again
        assert status == "sold"
        await listed(services, item)
    await ok_audit(services)


async def test_a_cancelled_trade_leaves_it_listed_with_the_seller(services):
    item = await minted(services)
    listing_id = await listed(services, item)
    await fund(services, 80, 1000)
    trade = (await services.trades.buy_listing(G, 80, listing_id)).trade
    await services.trades.cancel(G, trade.trade_id, SELLER)
    assert await owner(services, item) == SELLER
    assert await services.collectibles.listed(G, SELLER) == {item: listing_id}
    await ok_audit(services)


async def test_bad_input_is_refused_and_changes_nothing(services):
    soulbound = await minted(services, tradeable=False)
    item = await minted(services)
    listing_id = await listed(services, item)
    before = await snapshot(services)
    create = services.marketplace.listings.create_draft
    fields = FIELDS
    with pytest.raises(InvalidInput, match="soulbound"):  # trading a soulbound badge
        await create(G, SELLER, collectible=soulbound, **fields)
    for forged in ("c2#99", "nope#1", "c9#1"):  # a forged collectible id
        with pytest.raises(NotFound):
            await create(G, SELLER, collectible=forged, **fields)
    for garbage in ("c2", "#1", "c2#-1", "'; drop"):
        with pytest.raises(InvalidInput):
            await create(G, SELLER, collectible=garbage, **fields)
    with pytest.raises(Conflict, match="one listing per collectible"):  # listed twice
        await create(G, SELLER, collectible=item, **fields)
    with pytest.raises(NotPermitted):  # listing one you don't own
        await create(G, OTHER, collectible=item, **fields)
    with pytest.raises(Conflict, match="listing"):  # revoked while listed, even by staff
        await services.badges.revoke(G, MOD, item.split("#")[0], SELLER, reason="testing it")
    with pytest.raises(InvalidInput, match="tradeable"):  # tradeable needs a supply, no rule
        await services.badges.create(G, STAFF, name="Loose", description="No supply",
                                     emoji="🥈", rarity="rare", tradeable=True)
    assert await snapshot(services) == before
    assert (await ListingRepo(services.db).get(G, listing_id))["status"] == "active"


async def test_two_drafts_racing_for_one_collectible_one_wins(services):
    item = await minted(services)
    create = services.marketplace.listings.create_draft
    fields = FIELDS
    outcomes = await asyncio.gather(*[create(G, SELLER, collectible=item, **fields)
                                      for _ in range(5)], return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException))
    assert await services.db["listings"].count_documents({"guild_id": G}) == 1
    await ok_audit(services)


async def test_a_withdrawn_listing_frees_the_collectible(services):
    item = await minted(services)
    listing_id = await listed(services, item)
    await services.marketplace.listings.withdraw(G, SELLER, listing_id)
    assert await services.collectibles.listed(G, SELLER) == {}
    again = await listed(services, item)
    with pytest.raises(Conflict):  # the old one cannot come back while the new one is up
        await services.marketplace.listings.relist(G, SELLER, listing_id)
    assert await services.collectibles.listed(G, SELLER) == {item: again}
    await ok_audit(services)


async def test_a_settlement_whose_collectible_was_moved_settles_nothing(services):
    """The move's guard: if the edition is not the seller's any more when the trade
    completes, the whole settlement aborts (the GEMS stay held)."""
    item = await minted(services)
    listing_id = await listed(services, item)
    await fund(services, 90, 1000)
    trade = (await services.trades.buy_listing(G, 90, listing_id)).trade
    # Corrupt it behind the service's back (what a bug or a manual edit would do).
    await services.db["badge_awards"].update_one({"guild_id": G, "serial": 1,
                                                  "badge": item.split("#")[0]},
                                                 {"$set": {"user_id": OTHER}})
    with pytest.raises(CollectibleOutOfStep):
        await services.trades.confirm(G, trade.trade_id, 90)
    account = await services.ledger.account(G, 90)
    assert (account.balance, account.held) == (700, 300)
    assert (await services.db["trades"].find_one({"guild_id": G}))["status"] == "reserved"


async def test_privacy_export_covers_collectibles_and_delete_keeps_the_buyers(services):
    """Export: the member's collectibles and their moves. Delete of the first owner: the
    edition they still own is removed (its place freed), the one they sold stays the buyer's,
    the move names a tombstone; delete of the buyer removes theirs. The audit holds."""
    import json

    from economy.privacy.service import _mentions, _token
    from economy.registry import feature

    alice, bob = 310_000_000_000_000_001, 310_000_000_000_000_002
    item = await minted(services, to=alice)
    kept = (await services.badges.give(G, STAFF, item.split("#")[0], bob, reason="launch"))
    # bob holds #2; alice sells #1 to bob (a collector may own several editions)
    await fund(services, bob, 1000)
    trade = (await services.trades.buy_listing(G, bob, await listed(services, item,
                                                                    seller=alice))).trade
    await services.trades.confirm(G, trade.trade_id, bob)
    second = await minted(services, to=alice, name="Silver")  # another design, still alice's
    assert "badge_awards" in feature("badges").personal_collections

    body = json.loads(await services.privacy.export(G, bob))["collections"]
    assert {d["serial"] for d in body["badge_awards"] if d["serial"]} == {1, 2}
    assert [d["trade_id"] for d in body["badge_transfers"]] == [trade.trade_id]
    body = json.loads(await services.privacy.export(G, alice))["collections"]
    assert [(d["badge"], d["serial"]) for d in body["badge_awards"] if d["serial"]] == [
        (second.split("#")[0], 1)]
    assert [d["from_id"] for d in body["badge_transfers"]] == [alice]

    result = await services.privacy.delete(G, alice)
    doc, moves = await services.collectibles.history(G, item)
    assert doc["user_id"] == bob and moves[0].from_id == result.tombstone
    with pytest.raises(NotFound):  # alice's own edition went with her data
        await services.collectibles.history(G, second)
    token = _token(alice)
    for name in ("badge_awards", "badge_transfers", "cap_slots"):
        assert not [d for d in await services.db[name].find({"guild_id": G}).to_list()
                    if _mentions(d, alice, token)]
    await ok_audit(services)
    await services.privacy.delete(G, bob)
    assert await services.db["badge_awards"].count_documents(
        {"guild_id": G, "badge": item.split("#")[0]}) == 0
    assert kept.serial == 2
    await ok_audit(services)


async def test_collectibles_are_found_under_their_category(services):
    item = await minted(services)
    listing_id = await listed(services, item)
    settings = await services.settings.get(G)
    search = services.marketplace.search
    query = search.build_query(settings, category="Collectibles")
    page = await search.search(G, query)
    assert [r.listing_id for r in page.rows] == [listing_id]
    with pytest.raises(InvalidInput):  # a member cannot pick it for an ordinary listing
        await services.marketplace.listings.create_draft(G, SELLER, **{**FIELDS,
                                                                     "category": "collectibles"})


async def test_confirm_racing_two_auto_release_sweeps_moves_it_once(services, clock):
    """The buyer confirms while two bot processes' sweeps auto-release the same trade: one
    settlement wins, the collectible moves once, the ledger holds."""
    item = await minted(services)
    await fund(services, 95, 1000)
    trade = (await services.trades.buy_listing(G, 95, await listed(services, item))).trade
    await services.trades.mark_delivered(G, trade.trade_id, SELLER, "in your profile")
    clock.advance(days=4)  # past escrow_auto_release_days
    outcomes = await asyncio.gather(services.trades.confirm(G, trade.trade_id, 95),
                                    services.trades.sweep(), services.trades.sweep(),
                                    return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)
                and not isinstance(o, TradeUnavailable)], outcomes
    assert await owner(services, item) == 95
    assert await services.db["badge_transfers"].count_documents({"guild_id": G}) == 1
    assert await services.ledger.balance(G, SELLER) == 300 - 7
    await ok_audit(services)
