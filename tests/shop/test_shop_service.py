"""The shop's rules against the embedded store: purchases as one ledger transaction, guarded
stock and limits under concurrency, quotes, refunds, timed roles and the streak freeze."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import (
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from economy.core.ledger import TREASURY_IDS
from economy.shop.models import QuoteChanged

pytestmark = pytest.mark.timeout(120)
G = 7
ADMIN = Actor(1, is_admin=True, guild_id=G)
ROLE = 900


async def _seed(services, user: int, amount: int) -> None:
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}")


async def _buy(services, user, item, *, nonce=1, price=None, version=None, roles=frozenset()):
    return await services.shop.buy(G, user, item.item_id,
                                   expected_price=item.price if price is None else price,
                                   expected_version=item.version if version is None else version,
                                   nonce=nonce, role_ids=roles)


@pytest.mark.slow  # 100 members at once
async def test_100_members_race_for_the_last_10_units(services):
    item = await services.shop.add(G, ADMIN, name="Golden ticket", price=30, kind="consumable",
                                   effect="streak_freeze", stock=10)
    buyers = range(1000, 1100)
    for user in buyers:
        await _seed(services, user, 100)
    results = await asyncio.gather(*(_buy(services, u, item) for u in buyers),
                                   return_exceptions=True)
    sold = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(sold) == 10 and all(isinstance(r, QuoteChanged) for r in refused), refused[:3]
    balances = [await services.ledger.balance(G, u) for u in buyers]
    assert sorted(balances) == [70] * 10 + [100] * 90
    stored = await services.db["shop_items"].find_one({"item_id": item.item_id})
    assert (stored["stock"], stored["sold"]) == (0, 10)
    assert await services.db["shop_purchases"].count_documents({}) == 10
    assert await services.ledger.treasury_balance(G) == 300
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_double_confirm_buys_once_and_replays(services):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=25, kind="consumable",
                                   effect="streak_freeze")
    await _seed(services, 5, 100)
    first, second = await asyncio.gather(_buy(services, 5, item, nonce=42),
                                         _buy(services, 5, item, nonce=42))
    assert {first.replayed, second.replayed} == {False, True}
    again = await _buy(services, 5, item, nonce=42)
    assert again.replayed and again.key == first.key
    assert await services.ledger.balance(G, 5) == 75
    [(_, holding)] = await services.shop.inventory(G, 5)
    assert (holding.bought, holding.quantity) == (1, 1)


async def test_changed_quote_refused_and_nothing_charged(services):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=25, kind="consumable",
                                   effect="streak_freeze")
    await _seed(services, 5, 100)
    edited = await services.shop.edit(G, ADMIN, item.item_id, price=40)
    assert edited.version == item.version + 1
    with pytest.raises(QuoteChanged, match="40"):
        await _buy(services, 5, item)  # the old quote: old price and version
    with pytest.raises(QuoteChanged):
        await _buy(services, 5, item, price=40)  # the new price with the old version
    assert await services.ledger.balance(G, 5) == 100
    assert await services.db["shop_purchases"].count_documents({}) == 0
    done = await _buy(services, 5, edited)
    assert done.price == 40 and await services.ledger.balance(G, 5) == 60


async def test_refusals_change_nothing(services, clock):
    await _seed(services, 5, 20)
    limited = await services.shop.add(G, ADMIN, name="One each", price=10, kind="consumable",
                                      effect="streak_freeze", per_member_limit=1)
    vip = await services.shop.add(G, ADMIN, name="VIP only", price=5, kind="consumable",
                                  effect="streak_freeze", required_role_id=77)
    later = await services.shop.add(G, ADMIN, name="Next week", price=5, kind="consumable",
                                    effect="streak_freeze", available_from="3d")
    pricey = await services.shop.add(G, ADMIN, name="Pricey", price=500, kind="consumable",
                                     effect="streak_freeze")
    await _buy(services, 5, limited)
    before = await services.ledger.balance(G, 5)
    cases = [(limited, {"nonce": 2}, InvalidInput, "most allowed"),
             (vip, {}, NotPermitted, "Only members with"),
             (later, {}, InvalidInput, "not on sale yet"),
             (pricey, {}, InsufficientFunds, "Not enough GEMS")]
    for item, extra, error, text in cases:
        with pytest.raises(error, match=text):
            await _buy(services, 5, item, **extra)
    assert await services.ledger.balance(G, 5) == before
    assert await services.db["shop_purchases"].count_documents({}) == 1
    with pytest.raises(NotFound):
        await services.shop.quote(G, 5, 999)
    assert (await _buy(services, 5, vip, roles=frozenset({77}))).price == 5
    clock.advance(days=3, minutes=1)
    assert (await _buy(services, 5, later)).price == 5


@pytest.mark.parametrize(("options", "expected"), [
    ({"price": 0}, "at least 1"), ({"price": -5}, "at least 1"), ({"stock": 0}, "stock"),
    ({"stock": -3}, "stock"), ({"name": "   "}, "name"), ({"kind": "spell"}, "kind"),
    ({"kind": "badge"}, "needs the badge"),
    ({"effect": "flying"}, "effect"), ({"per_member_limit": 0}, "per-member"),
    ({"available_from": "whenever"}, "not a date"),
    ({"available_from": "2d", "available_until": "tomorrow 00:00"}, "after its start"),
    ({"kind": "custom"}, "needs a description"),
])
async def test_bad_items_refused(services, options, expected):
    args = {"name": "Thing", "price": 10, "kind": "consumable", "effect": "streak_freeze",
            **options}
    with pytest.raises((InvalidInput, InvalidAmount), match=expected):
        await services.shop.add(G, ADMIN, **args)
    assert await services.db["shop_items"].count_documents({}) == 0


async def test_role_refund_gives_everything_back_once(services):
    item = await services.shop.add(G, ADMIN, name="Gold", price=50, kind="role", role_id=ROLE,
                                   days=7, stock=3)
    await _seed(services, 5, 100)
    bought = await _buy(services, 5, item)
    assert bought.status == "granting" and await services.ledger.balance(G, 5) == 50
    refunds = await asyncio.gather(services.shop.refund(G, bought.key, "role above the bot"),
                                   services.shop.refund(G, bought.key, "role above the bot"))
    assert sum(r is not None for r in refunds) == 1
    assert await services.ledger.balance(G, 5) == 100
    assert await services.ledger.treasury_balance(G) == 0
    stored = await services.db["shop_items"].find_one({"item_id": item.item_id})
    assert (stored["stock"], stored["sold"]) == (3, 0)
    holding = await services.db["shop_holdings"].find_one({"user_id": 5})
    assert (holding["bought"], holding["role_until_ms"]) == (0, None)
    assert await services.shop.inventory(G, 5) == []
    assert (await audit(services.db)).ok


async def test_timed_role_extends_and_ends(services, clock):
    item = await services.shop.add(G, ADMIN, name="Gold", price=10, kind="role", role_id=ROLE,
                                   days=2)
    await _seed(services, 5, 100)
    first = await _buy(services, 5, item, nonce=1)
    assert await services.shop.role_granted(G, first.key)
    clock.advance(days=1)
    second = await _buy(services, 5, item, nonce=2)
    assert second.until_ms == first.until_ms + 2 * 86_400_000  # extended, not restarted
    clock.advance(days=2)
    assert await services.shop.due_roles(G) == []
    clock.advance(days=1, minutes=1)
    [(user, item_id, role, until)] = await services.shop.due_roles(G)
    assert (user, item_id, role) == (5, item.item_id, ROLE)
    assert await services.shop.role_ended(G, user, item_id, until)
    assert not await services.shop.role_ended(G, user, item_id, until)
    assert await services.shop.due_roles(G) == []


async def test_burn_sink_shrinks_the_supply(services):
    await services.settings.set(G, ADMIN, "shop_sink", "burn")
    item = await services.shop.add(G, ADMIN, name="Freeze", price=30, kind="consumable",
                                   effect="streak_freeze")
    await _seed(services, 5, 100)
    await _buy(services, 5, item)
    assert await services.ledger.balance(G, 5) == 70
    assert await services.db["accounts"].count_documents(
        {"guild_id": G, "user_id": {"$in": list(TREASURY_IDS)}, "balance": {"$ne": 0}}) == 0
    assert (await audit(services.db)).ok


async def test_streak_freeze_covers_one_more_missed_day(services, clock):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=10, kind="consumable",
                                   effect="streak_freeze")
    settings = await services.settings.get(G)
    await _seed(services, 5, 100)
    await _buy(services, 5, item)
    for _ in range(3):
        await services.ledger.claim_daily(G, 5, settings)
        clock.advance(days=1)
    with pytest.raises(InvalidInput, match="safe"):
        await services.shop.use(G, 5, item.item_id)
    clock.advance(days=2)  # two days missed: the grace covers one, the freeze the other
    said = await services.shop.use(G, 5, item.item_id)
    assert "streak freeze used" in said.lower()
    claim = await services.ledger.claim_daily(G, 5, settings)
    assert claim.streak == 4
    with pytest.raises(InvalidInput, match="no \\*\\*Freeze\\*\\* left"):
        await services.shop.use(G, 5, item.item_id)


async def test_privacy_delete_removes_the_inventory_and_keeps_the_ledger_exact(services):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=10, kind="consumable",
                                   effect="streak_freeze")
    await _seed(services, 5, 100)
    await _buy(services, 5, item)
    await services.privacy.delete(G, 5)
    for name in ("shop_holdings", "shop_purchases"):  # deleted, not re-pointed
        assert await services.db[name].count_documents({"guild_id": G}) == 0, name
    stored = await services.db["shop_items"].find_one({"item_id": item.item_id})
    assert stored["sold"] == 1
    assert (await audit(services.db)).ok


# --- gifts ----------------------------------------------------------------------------------------
async def _gift(services, payer, to, item, *, nonce=1, roles=frozenset()):
    return await services.shop.buy(G, payer, item.item_id, expected_price=item.price,
                                   expected_version=item.version, nonce=nonce, role_ids=roles,
                                   recipient_id=to)


async def test_gift_charges_the_payer_and_the_recipient_holds_it(services):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=25, kind="consumable",
                                   effect="streak_freeze", stock=3, per_member_limit=1)
    await _seed(services, 5, 100)
    quote = await services.shop.quote(G, 5, item.item_id, recipient_id=6)
    assert quote.balance == 100
    first, again = await asyncio.gather(_gift(services, 5, 6, item, nonce=9),
                                        _gift(services, 5, 6, item, nonce=9))
    assert {first.replayed, again.replayed} == {False, True}
    assert (first.user_id, first.holder_id) == (5, 6)
    assert await services.ledger.balance(G, 5) == 75
    assert await services.shop.inventory(G, 5) == []
    [(_, holding)] = await services.shop.inventory(G, 6)
    assert holding.quantity == 1
    # The per-member limit counts what the recipient holds, not what the payer bought.
    with pytest.raises(InvalidInput, match="That member already got the most"):
        await _gift(services, 5, 6, item, nonce=10)
    await _buy(services, 5, item, nonce=11)  # the payer may still buy their own
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_gift_to_yourself_or_nobody_is_refused_and_changes_nothing(services):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=25, kind="consumable",
                                   effect="streak_freeze")
    await _seed(services, 5, 100)
    for to in (5, 0, -3):
        with pytest.raises(InvalidInput):
            await _gift(services, 5, to, item)
        with pytest.raises(InvalidInput):
            await services.shop.quote(G, 5, item.item_id, recipient_id=to)
    with pytest.raises(InsufficientFunds):
        await _gift(services, 7, 6, item)  # nothing to pay with
    assert await services.ledger.balance(G, 5) == 100
    assert await services.db["shop_purchases"].count_documents({}) == 0


async def test_gift_of_a_role_refunds_the_payer_and_takes_the_recipient_holding_back(services):
    item = await services.shop.add(G, ADMIN, name="Gold", price=40, kind="role", role_id=ROLE,
                                   days=3, stock=1)
    await _seed(services, 5, 100)
    purchase = await _gift(services, 5, 6, item)
    assert purchase.status == "granting" and await services.ledger.balance(G, 5) == 60
    refunded = await services.shop.refund(G, purchase.key, "role not given")
    assert refunded is not None and await services.shop.refund(G, purchase.key, "again") is None
    assert await services.ledger.balance(G, 5) == 100
    assert await services.shop.inventory(G, 6) == []
    stored = await services.db["shop_items"].find_one({"item_id": item.item_id})
    assert (stored["stock"], stored["sold"]) == (1, 0)
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_gifts_race_for_the_last_units(services):
    item = await services.shop.add(G, ADMIN, name="Ticket", price=10, kind="consumable",
                                   effect="streak_freeze", stock=5)
    payers = range(2000, 2040)
    await asyncio.gather(*(_seed(services, user, 10) for user in payers))
    results = await asyncio.gather(*(_gift(services, u, u + 1000, item) for u in payers),
                                   return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert sorted([await services.ledger.balance(G, u) for u in payers]) == [0] * 5 + [10] * 35
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_staff_methods_check_the_actor_themselves(services):
    item = await services.shop.add(G, ADMIN, name="Freeze", price=25, kind="consumable",
                                   effect="streak_freeze", stock=2)
    member, elsewhere = Actor(5, guild_id=G), Actor(1, is_admin=True, guild_id=G + 1)
    for actor in (member, elsewhere):
        with pytest.raises(NotPermitted):
            await services.shop.add(G, actor, name="X", price=1, kind="consumable",
                                    effect="streak_freeze")
        with pytest.raises(NotPermitted):
            await services.shop.edit(G, actor, item.item_id, price=1)
        with pytest.raises(NotPermitted):
            await services.shop.restock(G, actor, item.item_id, 5)
        with pytest.raises(NotPermitted):
            await services.shop.remove(G, actor, item.item_id)
        with pytest.raises(NotPermitted):
            await services.shop.all_items(G, actor)
    [stored] = await services.shop.all_items(G, ADMIN)
    assert (stored.price, stored.stock, stored.active, stored.version) == (25, 2, True, 1)


async def test_a_custom_item_waits_for_staff_who_fulfil_or_refund_it_once(services):
    """A custom item is a purchase like any other (paid, stock taken, held) whose status waits
    for staff: Fulfil or Refund, each once, by moderators only, whatever races."""
    item = await services.shop.add(G, ADMIN, name="Portrait", price=40, kind="custom", stock=3,
                                   description="A hand-drawn portrait of your avatar")
    assert "staff hand you" in item.what_you_get()
    await _seed(services, 5, 100)
    first = await _buy(services, 5, item, nonce=1)
    second = await _buy(services, 5, item, nonce=2)
    assert first.status == second.status == "fulfilling"
    assert [p.key for p in await services.shop.tickets_to_post(G)] == [first.key, second.key]
    claims = await asyncio.gather(*(services.shop.claim_ticket(G, first.key) for _ in range(3)))
    assert claims.count(True) == 1
    assert [p.key for p in await services.shop.tickets_to_post(G)] == [second.key]
    mod, member = Actor(2, is_moderator=True, guild_id=G), Actor(5, guild_id=G)
    with pytest.raises(NotPermitted):
        await services.shop.fulfil(G, member, first.key)
    with pytest.raises(NotPermitted):
        await services.shop.refund_ticket(G, member, second.key)
    with pytest.raises(NotFound):
        await services.shop.fulfil(G, mod, "shop:forged")
    done = await asyncio.gather(services.shop.fulfil(G, mod, first.key),
                                services.shop.fulfil(G, mod, first.key),
                                services.shop.refund_ticket(G, mod, first.key),
                                return_exceptions=True)
    assert [isinstance(r, InvalidInput) for r in done].count(False) == 1, done
    assert await services.ledger.balance(G, 5) == 20  # fulfilled: paid for
    refunded = await asyncio.gather(services.shop.refund_ticket(G, mod, second.key),
                                    services.shop.refund_ticket(G, mod, second.key),
                                    services.shop.fulfil(G, mod, second.key),
                                    return_exceptions=True)
    assert [isinstance(r, InvalidInput) for r in refunded].count(False) == 1, refunded
    status = {d["_id"]: d["status"] for d in await services.db["shop_purchases"].find().to_list()}
    assert status[first.key] == "fulfilled"
    if status[second.key] == "refunded":
        assert await services.ledger.balance(G, 5) == 60
        stored = await services.db["shop_items"].find_one({"item_id": item.item_id})
        assert (stored["stock"], stored["sold"]) == (2, 1)
    [(held, holding)] = await services.shop.inventory(G, 5)
    assert held.kind == "custom" and holding.bought == (1 if status[second.key] == "refunded"
                                                         else 2)
    assert (await audit(services.db)).ok
