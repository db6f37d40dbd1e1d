"""Raffles whose prize is a shop item, against the embedded store: the units are set aside when
the raffle opens (and given back if it is cancelled), each winner receives the item through the
shop's own grant once per place, however many draws race, and a cancel racing the draw either
refunds or draws, never both."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotFound
from economy.core.modules import FeatureOff
from economy.raffles.models import prize_key
from economy.raffles.service import RaffleClosed

pytestmark = pytest.mark.timeout(120)
G = 41
ADMIN = Actor(1, is_admin=True, guild_id=G)
ROLE = 9_001


async def _seed(services, user: int, amount: int) -> None:
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}")


async def _freeze(services, stock: int | None = 5):
    return await services.shop.add(G, ADMIN, name="Streak freeze", price=40, kind="consumable",
                                   effect="streak_freeze", stock=stock)


async def _raffle(services, item, *, winners=1, prize=None):
    return await services.raffles.create(G, ADMIN, prize=prize, price=10, max_per_member=5,
                                         ends="1h", winners=winners, item_id=item.item_id)


async def _stock(services, item) -> int | None:
    return (await services.shop.item(G, item.item_id)).stock


async def _holding(services, user, item) -> dict | None:
    return await services.db["shop_holdings"].find_one({"_id": f"{G}:{user}:{item.item_id}"})


async def _prizes(services) -> list[dict]:
    return await services.db["shop_purchases"].find({"guild_id": G, "prize": {"$exists": True}}
                                                    ).to_list()


async def _audit_ok(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_an_item_prize_is_set_aside_and_given_once_per_winner(services, clock):
    from economy.services import build_services

    other = build_services(services.db, clock)  # a second bot process on the same store
    item = await _freeze(services, stock=5)
    raffle = await _raffle(services, item, winners=3)
    assert raffle.prize == "Streak freeze" and raffle.prize_item_id == item.item_id
    assert await _stock(services, item) == 2  # three units set aside, not sold
    for user in (5, 6):  # two members for three places: one unit goes back at the draw
        await _seed(services, user, 100)
        await services.raffles.buy(G, user, raffle.raffle_id, 2, key="t")
    clock.advance(timedelta(hours=1))
    draws = await asyncio.gather(services.raffles.draw(G, raffle.raffle_id),
                                 other.raffles.draw(G, raffle.raffle_id),
                                 services.raffles.draw(G, raffle.raffle_id))
    [draw] = [d for d in draws if d is not None]
    assert sorted(draw.raffle.winners) == [5, 6]
    for user in (5, 6):
        held = await _holding(services, user, item)
        assert (held["bought"], held["quantity"]) == (1, 1), held
        [(got, _)] = await services.shop.inventory(G, user)
        assert got.item_id == item.item_id
        assert await services.ledger.balance(G, user) == 80  # the tickets only: a prize is free
    prizes = await _prizes(services)
    assert sorted(p["_id"] for p in prizes) == sorted(
        prize_key(G, raffle.raffle_id, place) for place in range(2))
    assert {(p["price"], p["status"], p["prize"]) for p in prizes} == {
        (0, "done", f"raffle #{raffle.raffle_id}")}
    stored = await services.shop.item(G, item.item_id)
    assert (stored.stock, stored.sold) == (3, 0)  # 5 - 3 set aside + 1 unused back; none sold
    assert await services.raffles.draw(G, raffle.raffle_id) is None
    assert await services.db["ledger"].count_documents({"ref": f"shop:{item.item_id}"}) == 0
    await _audit_ok(services)


async def test_a_role_prize_waits_for_its_role_and_is_never_refunded(services, clock):
    item = await services.shop.add(G, ADMIN, name="VIP week", price=100, kind="role",
                                   role_id=ROLE, days=7)  # unlimited stock: nothing set aside
    raffle = await _raffle(services, item, prize="A week of VIP")
    assert raffle.prize == "A week of VIP" and raffle.prize_reserved == 0
    await _seed(services, 5, 50)
    await services.raffles.buy(G, 5, raffle.raffle_id, 1, key="t")
    clock.advance(timedelta(hours=1))
    assert await services.raffles.draw(G, raffle.raffle_id) is not None
    key = prize_key(G, raffle.raffle_id, 0)
    prize = await services.shop.prize(G, key)
    assert (prize.status, prize.role_id, prize.holder_id, prize.price) == ("granting", ROLE, 5, 0)
    assert prize.until_ms is not None
    clock.advance(timedelta(minutes=3))  # the shop's sweep gives roles left waiting
    assert [p.key for p in await services.shop.stale_grants(G, older_than_ms=0)] == [key]
    assert await services.shop.refund(G, key, "role not given") is None  # nothing was paid
    changed = await asyncio.gather(*(services.shop.prize_undelivered(G, key) for _ in range(3)))
    assert changed.count(True) == 1
    assert (await services.shop.prize(G, key)).status == "undelivered"
    assert await services.shop.stale_grants(G, older_than_ms=0) == []
    assert await services.ledger.balance(G, 5) == 40
    await _audit_ok(services)


async def test_cancel_gives_the_units_back_once(services):
    item = await _freeze(services, stock=4)
    raffle = await _raffle(services, item, winners=2)
    await _seed(services, 5, 100)
    await services.raffles.buy(G, 5, raffle.raffle_id, 3, key="t")
    assert await _stock(services, item) == 2
    done, again = await asyncio.gather(services.raffles.cancel(G, ADMIN, raffle.raffle_id),
                                       services.raffles.cancel(G, ADMIN, raffle.raffle_id),
                                       return_exceptions=True)
    assert sum(isinstance(r, RaffleClosed) for r in (done, again)) == 1, (done, again)
    assert await _stock(services, item) == 4
    assert await services.ledger.balance(G, 5) == 100
    assert await _prizes(services) == []
    await _audit_ok(services)


async def test_cancel_racing_the_draw_refunds_or_draws_never_both(services, clock):
    item = await _freeze(services, stock=20)
    raffles = [await _raffle(services, item, winners=2) for _ in range(6)]
    users = (5, 6, 7)
    for user in users:
        await _seed(services, user, 1_000)
        for raffle in raffles:
            await services.raffles.buy(G, user, raffle.raffle_id, 1, key="t")
    clock.advance(timedelta(hours=1))
    outcomes = set()

    async def cancel_after(raffle_id: int, delay: float):
        await asyncio.sleep(delay)
        return await services.raffles.cancel(G, ADMIN, raffle_id)

    # The cancel starts later and later, so that it lands before, inside and after the draw.
    for raffle, delay in zip(raffles, (0, 0, 0.005, 0.01, 0.03, 0.1), strict=True):
        cancelled, drawn = await asyncio.gather(cancel_after(raffle.raffle_id, delay),
                                                services.raffles.draw(G, raffle.raffle_id),
                                                return_exceptions=True)
        results = (cancelled, drawn)
        status = (await services.db["raffles"].find_one(
            {"_id": f"{G}:{raffle.raffle_id}"}))["status"]
        prizes = [p for p in await _prizes(services)
                  if p["prize"] == f"raffle #{raffle.raffle_id}"]
        refunds = await services.db["ledger"].count_documents(
            {"ref": f"raffle:{raffle.raffle_id}", "kind": "refund"})
        if status == "cancelled":
            assert drawn is None and not isinstance(cancelled, BaseException), results
            assert prizes == [] and refunds == 3 * 2
        else:
            assert status == "drawn" and isinstance(cancelled, RaffleClosed), results
            assert len(prizes) == 2 and refunds == 0
        outcomes.add(status)
    drawn_count = sum(1 for p in await _prizes(services))
    assert await _stock(services, item) == 20 - drawn_count  # cancelled raffles gave theirs back
    held = sum(h["quantity"] for h in await services.db["shop_holdings"].find({}).to_list())
    assert held == drawn_count
    assert outcomes  # which one wins each race is up to the scheduler; both are checked above
    await _audit_ok(services)


async def test_bad_item_prizes_are_refused_and_change_nothing(services):
    item = await _freeze(services, stock=1)
    gone = await _freeze(services, stock=None)
    await services.shop.remove(G, ADMIN, gone.item_id)
    cases = [({"item_id": 999}, NotFound), ({"item_id": gone.item_id}, InvalidInput),
             ({"item_id": item.item_id, "winners": 2}, InvalidInput),
             ({"item_id": 0}, InvalidInput), ({"item_id": None, "prize": " "}, InvalidInput)]
    for options, error in cases:
        options = {"prize": None, "price": 10, "max_per_member": 2, "ends": "1h", **options}
        with pytest.raises(error):
            await services.raffles.create(G, ADMIN, **options)
    await services.modules.switch(G, ADMIN, "shop", on=False)
    with pytest.raises(FeatureOff):
        await services.raffles.create(G, ADMIN, prize=None, price=10, max_per_member=2,
                                      ends="1h", item_id=item.item_id)
    assert await services.db["raffles"].count_documents({}) == 0
    assert await _stock(services, item) == 1


async def test_a_winner_buying_the_item_during_the_draw_is_read_again(services, clock,
                                                                     monkeypatch):
    """The winner's own purchase lands between the draw's read of their holding and its
    guarded write: the draw's transaction aborts as a whole (still closed, nothing given) and
    reads again; the winner ends with both units, the stock counted once each."""
    item = await _freeze(services, stock=5)
    raffle = await _raffle(services, item)
    await _seed(services, 5, 500)
    await services.raffles.buy(G, 5, raffle.raffle_id, 1, key="t")
    clock.advance(timedelta(hours=1))
    real, calls = services.shop.prize_grant, []

    async def racing(*args, **kwargs):
        grant = await real(*args, **kwargs)
        calls.append(kwargs["key"])
        if len(calls) == 1:
            await services.shop.buy(G, 5, item.item_id, expected_price=item.price,
                                    expected_version=item.version, nonce=1)
        return grant

    monkeypatch.setattr(services.shop, "prize_grant", racing)
    draw = await services.raffles.draw(G, raffle.raffle_id)
    assert draw is not None and draw.raffle.winners == (5,)
    assert calls == [prize_key(G, raffle.raffle_id, 0)] * 2
    held = await _holding(services, 5, item)
    assert (held["bought"], held["quantity"]) == (2, 2)
    stored = await services.shop.item(G, item.item_id)
    assert (stored.stock, stored.sold) == (3, 1)  # one set aside and given, one sold
    assert len(await _prizes(services)) == 1
    await _audit_ok(services)


async def test_a_custom_item_prize_becomes_a_staff_ticket(services, clock):
    item = await services.shop.add(G, ADMIN, name="Portrait", price=40, kind="custom", stock=1,
                                   description="A hand-drawn portrait")
    raffle = await _raffle(services, item)
    await _seed(services, 5, 50)
    await services.raffles.buy(G, 5, raffle.raffle_id, 1, key="t")
    clock.advance(timedelta(hours=1))
    assert await services.raffles.draw(G, raffle.raffle_id) is not None
    key = prize_key(G, raffle.raffle_id, 0)
    [ticket] = await services.shop.tickets_to_post(G)
    assert (ticket.key, ticket.status, ticket.price, ticket.holder_id) == (key, "fulfilling", 0, 5)
    mod = Actor(2, is_moderator=True, guild_id=G)
    with pytest.raises(InvalidInput, match="nothing to refund"):
        await services.shop.refund_ticket(G, mod, key)
    assert (await services.shop.fulfil(G, mod, key)).status == "fulfilled"
    assert (await services.shop.item(G, item.item_id)).stock == 0
    await _audit_ok(services)
