"""The shop's effect seam (economy/shop/effects.py) on its own: the unit and the effect's write
are one transaction, so a refused write keeps the unit, and one unit is applied once."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.errors import InvalidInput
from economy.shop.effects import EffectPlan, EffectRefused

pytestmark = pytest.mark.timeout(60)
G = 7
ADMIN = Actor(1, is_admin=True, guild_id=G)


class Marks:
    """An effect that writes one document per use into `effect_probe` (a collection of the
    test), and refuses when told to after its write (the shop's transaction must undo both)."""

    target_label = "listing"

    def __init__(self, db) -> None:
        self.db, self.refuse = db, False

    async def choices(self, guild_id, user_id, current):
        return [("#1 · thing", 1)]

    async def plan(self, guild_id, user_id, target, settings) -> EffectPlan:
        async def write(session) -> None:
            await self.db["effect_probe"].insert_one({"target": target}, session=session)
            if self.refuse:
                raise EffectRefused("changed just now")

        return EffectPlan(write=write, said=f"Marked #{target}.")


@pytest.fixture
async def marks(services):
    effect = Marks(services.db)
    # Created first: the embedded store cannot create a collection inside a transaction.
    await services.db.raw.create_collection("effect_probe")
    services.shop.use_effect_with("listing_boost", effect)
    yield effect
    await services.db["effect_probe"].delete_many({})


async def _holding(services, units):
    item = await services.shop.add(G, ADMIN, name="Boost", price=10, kind="consumable",
                                   effect="listing_boost")
    await services.ledger.grant(G, Actor.system(), 5, 10 * units, reason="seed", key="seed")
    for nonce in range(units):
        await services.shop.buy(G, 5, item.item_id, expected_price=10, expected_version=1,
                                nonce=nonce)
    return item


async def _left(services, item):
    doc = await services.db["shop_holdings"].find_one({"user_id": 5, "item_id": item.item_id})
    return doc["quantity"]


async def test_a_refused_write_keeps_the_unit_and_writes_nothing(services, marks):
    item = await _holding(services, 1)
    marks.refuse = True
    with pytest.raises(InvalidInput, match="changed just now"):
        await services.shop.use(G, 5, item.item_id, 1)
    assert await _left(services, item) == 1
    assert await services.db["effect_probe"].count_documents({}) == 0
    marks.refuse = False
    assert await services.shop.use(G, 5, item.item_id, 1) == "Marked #1. 0 left."
    assert await services.db["effect_probe"].count_documents({}) == 1


async def test_one_unit_used_twice_at_once_is_applied_once(services, marks):
    item = await _holding(services, 1)
    outcomes = await asyncio.gather(*(services.shop.use(G, 5, item.item_id, 1)
                                      for _ in range(3)), return_exceptions=True)
    assert sum(isinstance(o, str) for o in outcomes) == 1, outcomes
    assert await _left(services, item) == 0
    assert await services.db["effect_probe"].count_documents({}) == 1
    assert await services.shop.effect_choices(G, 5, "listing_boost", "") == [("#1 · thing", 1)]
