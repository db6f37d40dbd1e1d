"""Caps hold when racers interleave as MongoDB lets them: every racer reads room, then all write.

A cap checked by counting and then inserting something else is write skew under snapshot
isolation: on MongoDB two transactions both count 2 of 3, both insert, and the member has 4. Every
cap is now held by a place document (`cap_slots`, economy/repos/slot_repo.py) or a unique number
both racers write, so the write itself refuses the loser, whatever the racers read.

These tests force the interleaving snapshot isolation allows: a `Rendezvous` holds every racer's
read (of the free places, or the last goal number) until ALL racers have read, so every racer
decides from the same state, and only then do they write. The writes are transactions on the
embedded store, serialized by its lock: without the lock its transactions are not atomic (one
racer's abort rolls back another's first writes while its later ones stay; seen here as 11
wallets with a cap of 10, and drafts told "failed" that were stored), which is a gap of the store,
not a race the code can guard against (shared/notes/store-fidelity.md). MongoDB runs them
concurrently and turns the collision on a place into a write conflict, retried by
`with_transaction` into a duplicate key, which these tests exercise as the duplicate key.

Measured with the count-then-insert code these replace, in the same snapshot model (each racer's
in-transaction count sees only what was committed before the race plus its own insert): 5 drafts
stored with a cap of 3 (2 held before; the unlocked early check turned the later racers away),
12 open offers to one member with a cap of 3. Without the lock on the embedded store the old code
stored 5 and 9 drafts with a cap of 3.
"""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotPermitted
from economy.marketplace.repo import ListingRepo
from economy.repos.base import count
from economy.repos.slot_repo import SlotRepo

pytestmark = pytest.mark.timeout(120)

G = 1001
SELLER, BUYER = 11, 12
RACERS = 12
CAP = 3


async def draft(svc, seller=SELLER):
    return await svc.marketplace.listings.create_draft(
        G, seller, category="rings", condition="new", title="Blue sapphire ring",
        description="A lovely 2 ct sapphire.", price_gems=500)


class Rendezvous:
    """Hold every racer's read of `owner.name` until `racers` reads arrived (then let all go):
    every racer decides from the same state, as under snapshot isolation."""

    def __init__(self, monkeypatch, owner, name: str, racers: int) -> None:
        self.racers, self.arrived, self.go = racers, 0, asyncio.Event()
        original = getattr(owner, name)
        state = self

        async def read(*args, **kwargs):
            result = await original(*args, **kwargs)
            if not state.go.is_set():
                state.arrived += 1
                if state.arrived >= state.racers:
                    state.go.set()
                await asyncio.wait_for(state.go.wait(), 20)
            return result

        monkeypatch.setattr(owner, name, read)


def succeeded(results) -> int:
    return sum(not isinstance(r, BaseException) for r in results)


async def assert_audit_ok(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_racing_drafts_that_all_saw_room_get_exactly_the_free_places(services,
                                                                            monkeypatch):
    await services.settings.set(G, Actor.system(), "max_active_listings", str(CAP))
    for _ in range(CAP - 1):
        await draft(services)
    Rendezvous(monkeypatch, SlotRepo, "taken", RACERS)
    results = await asyncio.gather(*[draft(services) for _ in range(RACERS)],
                                   return_exceptions=True)
    assert succeeded(results) == 1, results
    assert all(isinstance(r, InvalidInput) for r in results if isinstance(r, BaseException))
    assert await count(services.db["listings"], {"guild_id": G}) == CAP
    await assert_audit_ok(services)


async def test_racing_relists_get_exactly_the_free_places(services, monkeypatch):
    ms = services.marketplace
    await services.settings.set(G, Actor.system(), "max_active_listings", str(RACERS))
    await services.settings.set(G, Actor.system(), "listings_per_day", "100")
    listings = [await draft(services) for _ in range(RACERS)]
    for listing in listings:
        await ms.listings.publish(G, SELLER, listing.listing_id)
        await ms.listings.withdraw(G, SELLER, listing.listing_id)
    await services.settings.set(G, Actor.system(), "max_active_listings", str(CAP))
    Rendezvous(monkeypatch, SlotRepo, "taken", RACERS)
    results = await asyncio.gather(*[ms.listings.relist(G, SELLER, x.listing_id) for x in listings],
                                   return_exceptions=True)
    assert succeeded(results) == CAP, results
    assert await ListingRepo(services.db).count_open(G, SELLER) == CAP
    await assert_audit_ok(services)


async def test_racing_offers_from_different_sellers_get_exactly_the_free_places(services,
                                                                                 monkeypatch):
    await services.settings.set(G, Actor.system(), "offer_max_open_to_member", str(CAP))
    Rendezvous(monkeypatch, SlotRepo, "taken", RACERS)
    results = await asyncio.gather(
        *[services.trades.offer(G, 1000 + i, BUYER, 10, f"thing {i}") for i in range(RACERS)],
        return_exceptions=True)
    assert succeeded(results) == CAP, results
    assert all(isinstance(r, NotPermitted) for r in results if isinstance(r, BaseException))
    assert await count(services.db["trades"], {"guild_id": G, "status": "offered"}) == CAP
    # Answering one frees its place for the next offer.
    trade = next(r for r in results if not isinstance(r, BaseException))
    await services.trades.decline(G, trade.trade_id, BUYER)
    await services.trades.offer(G, 5000, BUYER, 10, "one more thing")
    await assert_audit_ok(services)


async def test_racing_alerts_get_exactly_the_free_places(services, monkeypatch):
    from economy.marketplace.models import ALERTS_PER_MEMBER

    for i in range(ALERTS_PER_MEMBER - 2):
        await services.marketplace.watch.add_alert(G, BUYER, keywords=f"gem{i}", category=None,
                                             max_price_gems=None)
    Rendezvous(monkeypatch, SlotRepo, "taken", RACERS)
    results = await asyncio.gather(
        *[services.marketplace.watch.add_alert(G, BUYER, keywords=f"ring{i}", category=None,
                                         max_price_gems=None) for i in range(RACERS)],
        return_exceptions=True)
    assert succeeded(results) == 2, results
    assert await count(services.db["market_alerts"], {"guild_id": G}) == ALERTS_PER_MEMBER
    await assert_audit_ok(services)


@pytest.mark.slow  # bursts of racing writers
async def test_racing_wallets_rules_and_link_tickets_get_exactly_the_free_places(
        services, clock, monkeypatch):
    from economy.nft.service import MAX_RULES
    from economy.nft.wallets import MAX_OPEN_LINKS, MAX_WALLETS

    repo = services.wallets._repo
    now_ms = int(clock.now().timestamp() * 1000)
    tokens = [f"t{i}" for i in range(MAX_WALLETS + 6)]
    for token in tokens:  # tickets made earlier, completed all at once
        await services.db["wallet_links"].insert_one(
            {"_id": token, "guild_id": G, "user_id": BUYER, "status": "open",
             "expires_ms": now_ms + 600_000})
    with monkeypatch.context() as patched:
        Rendezvous(patched, SlotRepo, "taken", len(tokens))
        results = await asyncio.gather(
            *[repo.consume_link_and_add(t, {"guild_id": G, "user_id": BUYER,
                                            "address": f"0x{i:040x}", "linked_ms": now_ms},
                                        cap=MAX_WALLETS) for i, t in enumerate(tokens)],
            return_exceptions=True)
    assert succeeded(results) == MAX_WALLETS, results
    assert await count(services.db["wallets"], {"guild_id": G}) == MAX_WALLETS

    rules = services.nft._repo
    with monkeypatch.context() as patched:
        Rendezvous(patched, SlotRepo, "taken", MAX_RULES + 6)
        results = await asyncio.gather(
            *[rules.insert_rule({"guild_id": G, "role_id": i}, cap=MAX_RULES)
              for i in range(MAX_RULES + 6)], return_exceptions=True)
    assert succeeded(results) == MAX_RULES, results
    assert await count(services.db["nft_rules"], {"guild_id": G}) == MAX_RULES
    await assert_audit_ok(services)

    # Open link tickets: places that expire with the ticket.
    starts = [services.wallets.start_link(G, SELLER, member_name="Ann", guild_name="Shop",
                                          public_url="https://gems.example")
              for _ in range(RACERS)]
    with monkeypatch.context() as patched:
        Rendezvous(patched, SlotRepo, "live", RACERS)
        results = await asyncio.gather(*starts, return_exceptions=True)
    assert succeeded(results) == MAX_OPEN_LINKS, results
    clock.advance(minutes=11)  # expired tickets give their places back
    await services.wallets.start_link(G, SELLER, member_name="Ann", guild_name="Shop",
                                      public_url="https://gems.example")


async def test_racing_mentorship_goals_get_exactly_the_free_numbers(services, monkeypatch):
    from economy.mentorship import repo as mentorship_repo
    from economy.mentorship.rules import MAX_GOALS
    from tests.mentorship.test_mentorship import G as MG
    from tests.mentorship.test_mentorship import accept_both, apply, mentor

    ms = services.mentorship
    await mentor(services, 1)
    pairing = (await accept_both(ms, await apply(services, 10))).pairing
    for i in range(MAX_GOALS - 2):
        await ms.pairings.add_goal(pairing, 1, f"Goal number {i}")
    Rendezvous(monkeypatch, mentorship_repo, "find_docs", RACERS)
    results = await asyncio.gather(*[ms.pairings.add_goal(pairing, 10, f"Racing goal {i}")
                                     for i in range(RACERS)], return_exceptions=True)
    assert succeeded(results) == 2, results
    assert await count(services.db["mentor_goals"], {"guild_id": MG}) == MAX_GOALS


async def test_every_path_that_ends_an_open_listing_frees_its_place(services, clock):
    """Sold, expired, withdrawn, rejected, discarded, relisted: the places always match."""
    ms = services.marketplace
    await services.settings.set(G, Actor.system(), "max_active_listings", "4")

    async def places() -> int:
        return await count(services.db["cap_slots"], {"guild_id": G, "kind": "listing",
                                                      "owner": SELLER})

    drafts = [await draft(services) for _ in range(4)]
    with pytest.raises(InvalidInput, match="open listings"):
        await draft(services)
    await ms.listings.cancel_draft(G, SELLER, drafts[0].listing_id)           # discarded
    await ms.listings.publish(G, SELLER, drafts[1].listing_id)
    await ms.listings.withdraw(G, SELLER, drafts[1].listing_id)               # withdrawn
    assert await places() == 2
    await ms.listings.relist(G, SELLER, drafts[1].listing_id)                 # back: a place again
    await ms.listings.publish(G, SELLER, drafts[2].listing_id)
    clock.advance(days=31)
    await ms.sweeps.sweep()                         # both expired, the last draft swept as abandoned
    assert await places() == 0
    await assert_audit_ok(services)
    await services.settings.set(G, Actor.system(), "marketplace_approval", "on")
    pending = await draft(services)
    await ms.listings.publish(G, SELLER, pending.listing_id)
    assert await places() == 1
    await ms.listings.reject(G, Actor(99, is_moderator=True), pending.listing_id, "Not a real ring, sorry")  # rejected
    assert await places() == 0
    await services.settings.set(G, Actor.system(), "marketplace_approval", "off")
    sold = await draft(services)
    await ms.listings.publish(G, SELLER, sold.listing_id)
    await services.ledger.grant(G, Actor.system(), BUYER, 1000, reason="seed", key="seed")
    trade = (await services.trades.buy_listing(G, BUYER, sold.listing_id)).trade
    assert await places() == 1                                       # reserved holds it
    await assert_audit_ok(services)
    await services.trades.mark_delivered(G, trade.trade_id, SELLER)
    await services.trades.confirm(G, trade.trade_id, BUYER)          # sold
    assert (await ms.listings.get(G, sold.listing_id)).status == "sold"
    assert await places() == 0
    await assert_audit_ok(services)


async def test_the_audit_reports_a_place_without_a_holder_and_a_holder_without_one(services):
    listing = await draft(services)
    await services.db["cap_slots"].delete_many({"guild_id": G})
    await services.db["cap_slots"].insert_one(
        {"_id": f"{G}:offer:{BUYER}:1", "guild_id": G, "kind": "offer", "owner": BUYER, "n": 1,
         "ref": 77})
    report = await audit(services.db)
    assert f"listing {listing.listing_id} holds no place" in report.render()
    assert "offer place for 77, which holds none" in report.render()


async def test_privacy_delete_gives_back_the_event_places_of_the_member(services):
    """An event's capacity is a guarded counter (`rsvp_count`): a member deleted with /privacy
    leaves their RSVPs and the count drops with them, so the audit finds it exact."""
    from tests.events.test_events import G as EG
    from tests.events.test_events import _event

    event = await _event(services, start="now", capacity=2)
    await services.events.join(EG, event.event_id, 50)
    await services.events.join(EG, event.event_id, 51)
    await services.privacy.delete(EG, 50)
    assert (await services.events.get(EG, event.event_id)).rsvp_count == 1
    await assert_audit_ok(services)
    await services.events.join(EG, event.event_id, 52)  # the freed place is usable


async def test_the_audit_reports_counters_that_drifted(services):
    from tests.events.test_events import G as EG
    from tests.events.test_events import _event

    event = await _event(services, start="now", capacity=3)
    await services.events.join(EG, event.event_id, 50)
    await services.db["event_rsvps"].delete_many({})  # a path that forgot the counter
    report = await audit(services.db)
    assert f"event {event.event_id} counts 1 RSVPs but has 0" in report.render()
