"""Badge items in the shop, against the embedded store: buying awards the badge (a limited one's
next numbered edition) in the payment's own transaction; 100 members race for the last 10
editions; a held badge, a sold-out edition and bad staff input charge and store nothing; gifts
and raffle prizes go through the same grant; a bought collectible trades like any other."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidAmount, InvalidInput, NotFound
from economy.services import build_services
from economy.shop.kinds import KindRefused

pytestmark = pytest.mark.timeout(120)
G = 311
ADMIN = Actor(1, is_admin=True, guild_id=G)


async def _seed(services, user: int, amount: int) -> None:
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}")


async def _buy(services, user, item, *, nonce=1, to=None):
    return await services.shop.buy(G, user, item.item_id, expected_price=item.price,
                                   expected_version=item.version, nonce=nonce, recipient_id=to)


async def _badge(services, *, name="Founder", supply=None, tradeable=False, rule=None):
    return await services.badges.create(G, ADMIN, name=name, description="Backed us early",
                                        emoji="🏅", rarity="rare", supply=supply,
                                        tradeable=tradeable, rule=rule,
                                        at_least=1 if rule else None)


async def _item(services, badge_key: str, *, price=50, **more):
    return await services.shop.add(G, ADMIN, name="Founder badge", price=price, kind="badge",
                                   target=badge_key, **more)


async def _ok_audit(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_buying_awards_the_badge_with_the_payment(services):
    badge = await _badge(services)
    item = await _item(services, badge.key)
    assert item.target == badge.key and "Founder" in item.what_you_get()
    await _seed(services, 5, 100)
    bought = await _buy(services, 5, item)
    assert (bought.status, bought.target, bought.serial) == ("done", badge.key, None)
    [award] = await services.badges.awards(G, 5)
    assert award.badge.key == badge.key and "shop" in (award.reason or "")
    assert await services.ledger.balance(G, 5) == 50
    entries = await services.db["ledger"].count_documents({"idempotency_key": bought.key})
    assert entries >= 1  # one ledger operation under the purchase's key
    # Already held: refused before paying, by the quote and by the purchase.
    with pytest.raises(KindRefused, match="already have this badge"):
        await services.shop.quote(G, 5, item.item_id)
    with pytest.raises(KindRefused, match="already have this badge"):
        await _buy(services, 5, item, nonce=2)
    assert await services.ledger.balance(G, 5) == 50
    # Not refundable once awarded (`done` is never undone).
    assert await services.shop.refund(G, bought.key, "try") is None
    assert await services.ledger.balance(G, 5) == 50
    await _ok_audit(services)


@pytest.mark.slow  # 100 members at once
async def test_100_members_race_for_the_last_10_editions(services, store, clock):
    """100 members on four bot processes buy the last 10 editions at once. Within a process the
    buyers of one item take turns; across processes they race, and the unique place of each
    edition decides (a lost one is planned again, with the payment undone)."""
    badge = await _badge(services, supply=10)
    item = await _item(services, badge.key, price=30)
    buyers = range(1000, 1100)
    await asyncio.gather(*(_seed(services, user, 100) for user in buyers))
    processes = [services] + [build_services(store.db, clock) for _ in range(3)]
    results = await asyncio.gather(*(_buy(processes[u % 4], u, item) for u in buyers),
                                   return_exceptions=True)
    sold = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(sold) == 10, refused[:3]
    assert all(isinstance(r, InvalidInput) for r in refused), refused[:3]
    assert sorted(p.serial for p in sold) == list(range(1, 11))
    balances = [await services.ledger.balance(G, u) for u in buyers]
    assert sorted(balances) == [70] * 10 + [100] * 90
    awards = await services.db["badge_awards"].find({"badge": badge.key}).to_list()
    assert sorted(a["serial"] for a in awards) == list(range(1, 11))
    assert sorted(a["user_id"] for a in awards) == sorted(p.user_id for p in sold)
    assert await services.db["shop_purchases"].count_documents({}) == 10
    await _ok_audit(services)


async def test_sold_out_edition_refuses_with_nothing_charged(services):
    badge = await _badge(services, supply=1)
    item = await _item(services, badge.key)
    await _seed(services, 5, 100)
    await _seed(services, 6, 100)
    first = await _buy(services, 5, item)
    assert first.serial == 1
    with pytest.raises(KindRefused, match="sold out"):
        await _buy(services, 6, item)
    assert await services.ledger.balance(G, 6) == 100
    assert await services.db["shop_purchases"].count_documents({"user_id": 6}) == 0
    stored = await services.db["shop_items"].find_one({"item_id": item.item_id})
    assert stored["sold"] == 1
    await _ok_audit(services)


async def test_a_collector_buys_several_editions_and_one_trades(services):
    badge = await _badge(services, name="Gold coin", supply=5, tradeable=True)
    item = await _item(services, badge.key)
    await _seed(services, 5, 500)
    one = await _buy(services, 5, item, nonce=1)
    two = await _buy(services, 5, item, nonce=2)
    assert (one.serial, two.serial) == (1, 2)
    awards = await services.badges.awards(G, 5)
    assert sorted(a.edition_id for a in awards) == [f"{badge.key}#1", f"{badge.key}#2"]
    assert all(a.collectible for a in awards)
    doc, moves = await services.collectibles.history(G, f"{badge.key}#2")
    assert doc["user_id"] == 5 and moves == []
    # A bought edition is listed and sold through escrow like a given one; it moves once.
    draft = await services.marketplace.listings.create_draft(
        G, 5, category="rings", condition="new", title="Gold coin number two",
        description="The second edition of the gold coin.", price_gems=200,
        collectible=f"{badge.key}#2")
    await services.marketplace.listings.publish(G, 5, draft.listing_id)
    await _seed(services, 8, 500)
    trade = (await services.trades.buy_listing(G, 8, draft.listing_id)).trade
    await services.trades.confirm(G, trade.trade_id, 8)
    doc, moves = await services.collectibles.history(G, f"{badge.key}#2")
    assert doc["user_id"] == 8 and [(m.from_id, m.to_id) for m in moves] == [(5, 8)]
    assert [a.edition_id for a in await services.badges.awards(G, 5)
            if a.badge.key == badge.key] == [f"{badge.key}#1"]
    await _ok_audit(services)


async def test_a_gift_goes_to_the_recipient(services):
    badge = await _badge(services, name="Gold coin", supply=5, tradeable=True)
    item = await _item(services, badge.key)
    await _seed(services, 5, 100)
    gift = await _buy(services, 5, item, to=9)
    assert gift.holder_id == 9 and gift.serial == 1
    assert [a.edition_id for a in await services.badges.awards(G, 9)] == [f"{badge.key}#1"]
    assert await services.badges.awards(G, 5) == []
    assert await services.ledger.balance(G, 5) == 50
    soulbound = await _badge(services, name="Friend")
    other = await _item(services, soulbound.key)
    await _buy(services, 5, other, to=9, nonce=2)
    with pytest.raises(KindRefused, match="That member already has"):
        await _buy(services, 5, other, to=9, nonce=3)
    assert await services.ledger.balance(G, 5) == 0
    await _ok_audit(services)


async def test_bad_staff_input_stores_nothing(services):
    with pytest.raises(NotFound):
        await _item(services, "c99")
    rule_badge = await _badge(services, name="Trader", rule="trades")
    with pytest.raises(InvalidInput, match="earned"):
        await _item(services, rule_badge.key)
    with pytest.raises(InvalidInput, match="earned"):
        await _item(services, "first_sale")  # a shipped badge
    with pytest.raises(InvalidInput, match="needs the badge"):
        await services.shop.add(G, ADMIN, name="x", price=5, kind="badge")
    badge = await _badge(services)
    for price in (0, -5):
        with pytest.raises(InvalidAmount):
            await _item(services, badge.key, price=price)
    # Another guild's badge is not this guild's.
    other = Actor(1, is_admin=True, guild_id=G + 1)
    with pytest.raises(NotFound):
        await services.shop.add(G + 1, other, name="x", price=5, kind="badge", target=badge.key)
    assert await services.db["shop_items"].count_documents({}) == 0
    # By its name too (what staff type when they skip the autocomplete).
    item = await _item(services, "founder")
    assert item.target == badge.key
    choices = await services.shop.kind_choices(G, "badge", "")
    assert [ref for _, ref in choices] == [badge.key]


async def test_a_raffle_prize_awards_editions_to_each_winner(services, clock):
    from datetime import timedelta

    badge = await _badge(services, name="Lucky", supply=3)
    item = await _item(services, badge.key)
    with pytest.raises(InvalidInput, match="editions left"):
        await services.raffles.create(G, ADMIN, prize=None, price=10, item_id=item.item_id,
                                      winners=4, ends="1h", max_per_member=1)
    raffle = await services.raffles.create(G, ADMIN, prize=None, price=10,
                                           item_id=item.item_id, winners=3, ends="1h",
                                           max_per_member=1)
    for user in (21, 22, 23):
        await _seed(services, user, 100)
        await services.raffles.buy(G, user, raffle.raffle_id, 1, key=f"t{user}")
    await services.badges.give(G, ADMIN, badge.key, 22, reason="held already")
    clock.advance(timedelta(hours=2))
    draw = await services.raffles.draw(G, raffle.raffle_id)
    assert draw is not None and sorted(draw.raffle.winners) == [21, 22, 23]
    prizes = await services.db["shop_purchases"].find({"prize": {"$exists": True}}).to_list()
    by_user = {p["user_id"]: p for p in prizes}
    assert by_user[22]["status"] == "undelivered"  # held already: nothing awarded twice
    given = sorted(by_user[u]["serial"] for u in (21, 23))
    awards = await services.db["badge_awards"].find({"badge": badge.key}).to_list()
    assert len(awards) == 3 and sorted(a["serial"] for a in awards) == [1, *given]
    assert len(set(given)) == 2
    await _ok_audit(services)


async def test_badges_switched_off_refuse_the_sale_before_paying(services):
    badge = await _badge(services)
    item = await _item(services, badge.key)
    await _seed(services, 5, 100)
    await services.settings.set(G, ADMIN, "disabled_features", "badges")
    with pytest.raises(KindRefused, match="switched off"):
        await services.shop.quote(G, 5, item.item_id)
    with pytest.raises(KindRefused, match="switched off"):
        await _buy(services, 5, item)
    assert await services.ledger.balance(G, 5) == 100
    assert await services.db["badge_awards"].count_documents({}) == 0


async def test_staff_gives_and_sales_share_the_numbering(services):
    badge = await _badge(services, supply=3)
    await services.badges.give(G, ADMIN, badge.key, 2, reason="launch")  # edition #1
    item = await _item(services, badge.key)
    await _seed(services, 5, 100)
    assert (await _buy(services, 5, item)).serial == 2
    given = await services.badges.give(G, ADMIN, badge.key, 3, reason="next")
    assert given.serial == 3 and await services.badges.supply_left(G, badge) == 0
    await _ok_audit(services)


async def test_privacy_delete_of_a_buyer_frees_their_editions(services):
    coin = await _badge(services, name="Gold coin", supply=3, tradeable=True)
    patron = await _badge(services, name="Patron", supply=3)
    coins, patrons = await _item(services, coin.key), await _item(services, patron.key)
    buyer = 311_000_000_000_000_005
    await _seed(services, buyer, 500)
    for nonce in (1, 2):
        await _buy(services, buyer, coins, nonce=nonce)
    await _buy(services, buyer, patrons, nonce=3)
    assert await services.db["cap_slots"].count_documents({"kind": "badge_edition"}) == 3
    await services.privacy.delete(G, buyer)
    assert await services.db["badge_awards"].count_documents({"guild_id": G}) == 0
    assert await services.db["cap_slots"].count_documents({"kind": "badge_edition"}) == 0
    assert await services.badges.supply_left(G, coin) == 3
    await _ok_audit(services)
