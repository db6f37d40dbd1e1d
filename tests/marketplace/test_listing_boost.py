"""The listing boost (a shop consumable the marketplace applies) against the embedded store:
one unit boosts one listing once, in one transaction; boosted listings sort first in browse and
search until the boost ends; every refusal keeps the unit and the listing as they were."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.clock import span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound, NotPermitted, Unavailable
from economy.marketplace.models import ListingQuery
from economy.shop.effects import EffectPlan
from tests.marketplace.test_marketplace import ALICE, BOB, CAROL, G, live, setting

pytestmark = pytest.mark.timeout(120)
ADMIN = Actor(1, is_admin=True, guild_id=G)
DAY_MS = span_ms(timedelta(hours=24))


async def boost_item(services):
    return await services.shop.add(G, ADMIN, name="Listing boost", price=20, kind="consumable",
                                   effect="listing_boost")


async def hold(services, user, item, units=1):
    """`user` buys `units` boosts."""
    await services.ledger.grant(G, Actor.system(), user, 20 * units, reason="seed",
                                key=f"seed:{user}:{units}:{item.item_id}")
    for nonce in range(units):
        await services.shop.buy(G, user, item.item_id, expected_price=item.price,
                                expected_version=item.version, nonce=1000 + nonce)


async def left(services, user, item) -> int:
    doc = await services.db["shop_holdings"].find_one({"user_id": user, "item_id": item.item_id})
    return doc["quantity"] if doc else 0


async def listing_doc(services, listing_id):
    return await services.db["listings"].find_one({"guild_id": G, "listing_id": listing_id},
                                                   {"_id": 0})


async def ids(services, query=None, page=1, page_size=10):
    found = await services.marketplace.search.search(G, query or ListingQuery(), page=page,
                                                     page_size=page_size)
    return [r.listing_id for r in found.rows]


async def market(services, clock, n=3):
    """`n` live listings by ALICE, BOB, CAROL in turn, one minute apart (newest last)."""
    made = []
    for i in range(n):
        seller = (ALICE, BOB, CAROL)[i % 3]
        made.append((await live(services, seller, title=f"Blue sapphire ring {i}")).listing_id)
        clock.advance(minutes=1)
    return made


async def test_boost_sorts_first_consumes_one_and_ends_after_its_hours(services, clock):
    a, b, c = await market(services, clock)
    item = await boost_item(services)
    await hold(services, ALICE, item, units=2)
    assert await ids(services) == [c, b, a]
    said = await services.shop.use(G, ALICE, item.item_id, a)
    assert "boosted until" in said and "1 left" in said, said
    assert await left(services, ALICE, item) == 1
    start = to_ms(clock.now())
    doc = await listing_doc(services, a)
    assert (doc["boosted_until_ms"], doc["boosted_at_ms"]) == (start + DAY_MS, start)
    assert doc["version"] == 1  # a boost never changes what a buyer's quote guards on
    assert await ids(services) == [a, c, b]
    # Every ordering and filter puts it first: category, keywords, price sort, one seller.
    for query in (ListingQuery(category="rings"), ListingQuery(keywords=("sapphire",)),
                  ListingQuery(keywords=("sapphire", "ring")), ListingQuery(sort="price_desc"),
                  ListingQuery(sort="popular"), ListingQuery(price_min=1, price_max=900)):
        assert (await ids(services, query))[0] == a, query
    assert await ids(services, ListingQuery(seller_id=ALICE)) == [a]
    assert await ids(services, ListingQuery(category="necklaces")) == []  # filters still apply
    listing = await services.marketplace.listings.get(G, a)
    assert listing.boost_end(clock.now()) is not None
    # A second use extends it from the current end, not from now.
    clock.advance(hours=10)
    said = await services.shop.use(G, ALICE, item.item_id, a)
    assert "stays boosted" in said and "0 left" in said, said
    assert (await listing_doc(services, a))["boosted_until_ms"] == start + 2 * DAY_MS
    # Expiry: compared with the clock on every read, no job.
    clock.advance(hours=37, minutes=59)
    assert await ids(services) == [a, c, b]
    clock.advance(minutes=2)
    assert await ids(services) == [c, b, a]
    assert (await services.marketplace.listings.get(G, a)).boost_end(clock.now()) is None
    with pytest.raises(InvalidInput, match="no \\*\\*Listing boost\\*\\* left"):
        await services.shop.use(G, ALICE, item.item_id, a)


async def test_boost_hours_are_a_shop_setting(services, clock):
    [a] = await market(services, clock, n=1)
    item = await boost_item(services)
    await hold(services, ALICE, item)
    await setting(services, "listing_boost_hours", "2")
    await services.shop.use(G, ALICE, item.item_id, a)
    assert (await listing_doc(services, a))["boosted_until_ms"] == \
        to_ms(clock.now()) + span_ms(timedelta(hours=2))


async def test_most_recently_boosted_first_and_pages_stay_exact(services, clock):
    made = await market(services, clock, n=12)
    item = await boost_item(services)
    for user in (ALICE, BOB, CAROL):
        await hold(services, user, item)
    usual = list(reversed(made))
    first, second, third = made[0], made[4], made[8]  # ALICE's, BOB's, CAROL's oldest
    await services.shop.use(G, ALICE, item.item_id, first)
    clock.advance(minutes=1)
    await services.shop.use(G, BOB, item.item_id, second)
    clock.advance(minutes=1)
    await services.shop.use(G, CAROL, item.item_id, third)
    expected = [third, second, first] + [i for i in usual if i not in (first, second, third)]
    for size in (2, 3, 5, 12):
        pages = [await ids(services, page=p, page_size=size)
                 for p in range(1, -(-12 // size) + 1)]
        assert [i for rows in pages for i in rows] == expected, size
        found = await services.marketplace.search.search(G, ListingQuery(), page_size=size)
        assert found.total == 12
    # The same with a keyword search (postings walk) and a multi-word one.
    for query in (ListingQuery(keywords=("sapphire",)), ListingQuery(keywords=("sapphire", "ring"))):
        pages = [await ids(services, query, page=p, page_size=5) for p in (1, 2, 3)]
        assert [i for rows in pages for i in rows] == expected, query


async def test_one_unit_double_clicked_boosts_once(services, clock):
    [a] = await market(services, clock, n=1)
    item = await boost_item(services)
    await hold(services, ALICE, item)
    outcomes = await asyncio.gather(*(services.shop.use(G, ALICE, item.item_id, a)
                                      for _ in range(2)), return_exceptions=True)
    done = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(done) == 1 and len(refused) == 1 and isinstance(refused[0], InvalidInput), outcomes
    assert await left(services, ALICE, item) == 0
    assert (await listing_doc(services, a))["boosted_until_ms"] == to_ms(clock.now()) + DAY_MS


async def test_many_uses_at_once_extend_exactly_by_what_was_consumed(services, clock):
    [a] = await market(services, clock, n=1)
    item = await boost_item(services)
    await hold(services, ALICE, item, units=4)
    outcomes = await asyncio.gather(*(services.shop.use(G, ALICE, item.item_id, a)
                                      for _ in range(4)), return_exceptions=True)
    used = 4 - await left(services, ALICE, item)
    assert used == sum(isinstance(o, str) for o in outcomes) >= 1, outcomes
    assert (await listing_doc(services, a))["boosted_until_ms"] == \
        to_ms(clock.now()) + used * DAY_MS


@pytest.mark.parametrize("rival", ["withdraw", "buy"])
async def test_use_racing_a_withdrawal_or_a_purchase_never_consumes_without_effect(
        services, clock, rival):
    item = await boost_item(services)
    await hold(services, ALICE, item, units=6)
    await services.ledger.grant(G, Actor.system(), BOB, 6 * 500, reason="seed", key="seed:bob")
    outcomes = set()
    for round_ in range(6):
        [a] = await market(services, clock, n=1)
        before = await left(services, ALICE, item)
        other = (services.marketplace.listings.withdraw(G, ALICE, a) if rival == "withdraw"
                 else services.trades.buy_listing(G, BOB, a))
        use = services.shop.use(G, ALICE, item.item_id, a)
        pair = (use, other) if round_ % 2 else (other, use)
        results = await asyncio.gather(*pair, return_exceptions=True)
        consumed = before - await left(services, ALICE, item)
        doc = await listing_doc(services, a)
        boosted = doc.get("boosted_until_ms") is not None
        assert consumed == int(boosted), (results, doc)
        assert doc["status"] == ("withdrawn" if rival == "withdraw" else "reserved"), results
        outcomes.add(boosted)
    assert outcomes  # both orders ran; each outcome, when seen, was consistent


class _Meanwhile:
    """The boost effect with something happening between its checks and its write."""

    def __init__(self, effect, meanwhile):
        self.target_label = effect.target_label
        self._effect, self._meanwhile = effect, [meanwhile]

    async def choices(self, *args):
        return await self._effect.choices(*args)

    async def plan(self, *args) -> EffectPlan:
        planned = await self._effect.plan(*args)
        if self._meanwhile:  # once (a use meanwhile passes here too)
            await self._meanwhile.pop()()
        return planned


@pytest.mark.parametrize("meanwhile", ["withdraw", "buy", "edit", "boost", "other_boost"])
async def test_listing_changed_between_check_and_write_keeps_the_unit(services, clock,
                                                                      meanwhile):
    [a] = await market(services, clock, n=1)
    item = await boost_item(services)
    await hold(services, ALICE, item, units=2)
    await services.ledger.grant(G, Actor.system(), BOB, 500, reason="seed", key="seed:bob")
    other = await services.shop.add(G, ADMIN, name="Big boost", price=20, kind="consumable",
                                    effect="listing_boost")
    await hold(services, ALICE, other)
    real = services.marketplace.boost
    actions = {
        # Another holding: only the guard on the boost end read stops a stale extension.
        "other_boost": lambda: services.shop.use(G, ALICE, other.item_id, a),
        "withdraw": lambda: services.marketplace.listings.withdraw(G, ALICE, a),
        "buy": lambda: services.trades.buy_listing(G, BOB, a),
        "edit": lambda: services.marketplace.listings.edit(G, ALICE, a, title="Ruby ring now"),
        "boost": lambda: services.shop.use(G, ALICE, item.item_id, a),
    }
    services.shop.use_effect_with("listing_boost", _Meanwhile(real, actions[meanwhile]))
    try:
        # (A use meanwhile: the unit count moved too, whichever guard refuses first.)
        with pytest.raises(InvalidInput, match=r"changed just now|inventory just changed"):
            await services.shop.use(G, ALICE, item.item_id, a)
    finally:
        services.shop.use_effect_with("listing_boost", real)

    # Only what happened meanwhile counts: the interrupted use kept its unit.
    expected_left = 1 if meanwhile == "boost" else 2
    assert await left(services, ALICE, item) == expected_left
    assert await left(services, ALICE, other) == (0 if meanwhile == "other_boost" else 1)
    doc = await listing_doc(services, a)
    if meanwhile in ("boost", "other_boost"):
        assert doc["boosted_until_ms"] == to_ms(clock.now()) + DAY_MS
    else:
        assert doc.get("boosted_until_ms") is None


async def test_refusals_keep_the_unit_and_the_listing(services, clock):
    a, b, _ = await market(services, clock)
    item = await boost_item(services)
    await hold(services, ALICE, item)
    freeze = await services.shop.add(G, ADMIN, name="Freeze", price=5, kind="consumable",
                                     effect="streak_freeze")
    await services.ledger.grant(G, Actor.system(), ALICE, 5, reason="seed", key="seed:f")
    await services.shop.buy(G, ALICE, freeze.item_id, expected_price=5, expected_version=1,
                            nonce=1)
    withdrawn = (await live(services, ALICE, title="Withdrawn ring")).listing_id
    await services.marketplace.listings.withdraw(G, ALICE, withdrawn)
    await setting(services, "marketplace_approval", "yes")
    pending = (await live(services, ALICE, title="Pending ring")).listing_id
    await setting(services, "marketplace_approval", "no")
    await services.ledger.grant(G, Actor.system(), BOB, 500, reason="seed", key="seed:bob")
    reserved = (await live(services, ALICE, title="Reserved ring")).listing_id
    await services.trades.buy_listing(G, BOB, reserved)

    async def snapshot():
        docs = await services.db["listings"].find({}, {"_id": 0}).sort("listing_id").to_list()
        return await left(services, ALICE, item), await left(services, ALICE, freeze), docs

    before = await snapshot()
    cases = [
        (b, NotPermitted, "not yours"),
        (999, NotFound, "no listing #999"),
        (withdrawn, InvalidInput, "withdrawn"),
        (pending, InvalidInput, "waiting for moderator approval"),
        (reserved, InvalidInput, "reserved for a trade"),
        (None, InvalidInput, "Pick the listing"),
    ]
    for target, error, message in cases:
        with pytest.raises(error, match=message):
            await services.shop.use(G, ALICE, item.item_id, target)
    with pytest.raises(InvalidInput, match="not used on anything"):
        await services.shop.use(G, ALICE, freeze.item_id, a)
    with pytest.raises(InvalidInput, match="no \\*\\*Listing boost\\*\\* left"):
        await services.shop.use(G, BOB, item.item_id, reserved)
    await setting(services, "disabled_features", "marketplace")
    with pytest.raises(Unavailable, match="marketplace"):
        await services.shop.use(G, ALICE, item.item_id, a)
    await setting(services, "disabled_features", "shop")
    with pytest.raises(Unavailable, match="shop"):
        await services.shop.use(G, ALICE, item.item_id, a)
    await setting(services, "disabled_features", "none")
    assert await snapshot() == before
    # Past its expiry date (before the sweep marks it expired) and once expired: refused.
    clock.advance(days=31)
    with pytest.raises(InvalidInput, match="expired"):
        await services.shop.use(G, ALICE, item.item_id, a)
    await services.marketplace.sweeps.sweep()
    with pytest.raises(InvalidInput, match="expired"):
        await services.shop.use(G, ALICE, item.item_id, a)
    assert await left(services, ALICE, item) == 1


async def test_choices_are_the_members_active_listings(services, clock):
    a, _, _ = await market(services, clock)
    gone = (await live(services, ALICE, title="Gone ring")).listing_id
    await services.marketplace.listings.withdraw(G, ALICE, gone)
    found = await services.shop.effect_choices(G, ALICE, "listing_boost", "")
    assert [ref for _, ref in found] == [a]
    assert await services.shop.effect_choices(G, ALICE, "listing_boost", "ruby") == []
    assert await services.shop.effect_choices(G, ALICE, "nothing", "") == []


async def test_the_effect_can_only_be_sold_when_the_marketplace_provides_it(services):
    services.shop._effects.pop("listing_boost")
    with pytest.raises(InvalidInput, match="not part of this bot"):
        await boost_item(services)
