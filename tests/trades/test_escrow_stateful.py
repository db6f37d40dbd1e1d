"""Hypothesis rule-based machine over escrow: offers, purchases (with quotes that may go stale),
listing edits, deliveries, disputes, resolutions, sweeps and concurrent pairs of actions.

After every step the ledger audit must pass and the GEMS held must equal the prices of the trades
that hold them. Hypothesis shrinks a failing run to the shortest sequence of steps.
"""

from __future__ import annotations

import asyncio
import itertools
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot.store import _client
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.errors import GemsError
from economy.core.migrations import Migrator
from economy.marketplace.repo import ListingRepo
from economy.repos.base import Database
from economy.services import build_services
from economy.trades.repo import TradeRepo
from tests.conftest import relax_offer_limits
from tests.depth import deep
from tests.store_template_server import clone_name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

G = 3
USERS = (1, 2, 3, 4)
MOD = 50
_names = itertools.count()
#: Clone numbers apart from the `store` fixture's (tests/conftest.py counts from 0 per process).
CLONES = 1_000_000

users = st.sampled_from(USERS)
actions = st.sampled_from(["accept", "decline", "deliver", "confirm", "cancel", "mutual_b",
                           "mutual_s", "dispute", "resolve"])


class EscrowMachine(RuleBasedStateMachine):
    """One fresh database per run; every rule runs real services on the embedded store."""

    uri: str = ""
    embedded: bool = True

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = _client(self.uri)
        # On the embedded store a clone of the session's migrated template (no migrations run
        # per example); on MongoDB a database migrated here.
        n = next(_names)
        self.name = clone_name(os.getpid(), CLONES + n) if self.embedded else f"hyp{os.getpid()}_{n}"
        lock = asyncio.Lock() if self.embedded else None
        self.db = self.run(self._open(lock))
        self.clock = ManualClock()
        self.services = build_services(self.db, self.clock)
        self.trades: list[int] = []
        self.listings: list[int] = []
        self.quotes: list[tuple[int, int, int, int]] = []  # (buyer, listing, price, version)

    async def _open(self, lock: asyncio.Lock | None) -> Database:
        db = Database(self.client, self.name, write_lock=lock)
        if not self.embedded:
            await Migrator(db, ManualClock()).apply_pending()
        return db

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.client.drop_database(self.name))
        self.run(self.client.close())
        self.loop.close()

    @initialize()
    def fund(self) -> None:
        async def go():
            for user in USERS:
                await self.services.ledger.grant(G, Actor.system(), user, 2_000, reason="seed", key=f"s{user}")
            await self.services.settings.set(G, Actor.system(), "escrow_new_member_trades", "0")
            await relax_offer_limits(self.services, G)
        self.run(go())

    def attempt(self, *coros) -> None:
        """Run the actions concurrently; refusals (GemsError) are fine, anything else fails."""
        async def go():
            return await asyncio.gather(*coros, return_exceptions=True)
        for outcome in self.run(go()):
            if isinstance(outcome, BaseException) and not isinstance(outcome, GemsError):
                raise outcome

    # --- creating --------------------------------------------------------------------------
    @rule(seller=users, buyer=users, price=st.integers(1, 900))
    def offer(self, seller, buyer, price):
        async def go():
            trade = await self.services.trades.offer(G, seller, buyer, price, "a ring box")
            self.trades.append(trade.trade_id)
        self.attempt(go())

    @rule(seller=users, price=st.integers(1, 900))
    def publish(self, seller, price):
        async def go():
            draft = await self.services.marketplace.listings.create_draft(
                G, seller, category="rings", condition="good", title="Opal ring",
                description="A ring for the machine.", price_gems=price)
            await self.services.marketplace.listings.publish(G, seller, draft.listing_id)
            self.listings.append(draft.listing_id)
        self.attempt(go())

    @rule(buyer=users, pick=st.integers(0, 1_000))
    def quote(self, buyer, pick):
        if not self.listings:
            return

        async def go():
            lid = self.listings[pick % len(self.listings)]
            q = await self.services.trades.purchase_quote(G, buyer, lid)
            self.quotes.append((buyer, lid, q.price, q.version))
        self.attempt(go())

    @rule(pick=st.integers(0, 1_000), price=st.integers(1, 900))
    def edit_price(self, pick, price):
        if not self.listings:
            return
        lid = self.listings[pick % len(self.listings)]

        async def go():
            doc = await ListingRepo(self.services.db).get(G, lid)
            await self.services.marketplace.listings.edit(G, doc["seller_id"], lid, price_gems=price)
        self.attempt(go())

    @rule(pick=st.integers(0, 1_000), with_edit=st.booleans(), price=st.integers(1, 900))
    def confirm_quote(self, pick, with_edit, price):
        if not self.quotes:
            return
        buyer, lid, quoted, version = self.quotes[pick % len(self.quotes)]

        async def buy():
            result = await self.services.trades.buy_listing(
                G, buyer, lid, expected_price=quoted, expected_version=version)
            assert result.trade.price == quoted  # never charged anything but the quote
            self.trades.append(result.trade.trade_id)

        async def edit():
            doc = await ListingRepo(self.services.db).get(G, lid)
            await self.services.marketplace.listings.edit(G, doc["seller_id"], lid, price_gems=price)
        self.attempt(buy(), *([edit()] if with_edit else []))

    # --- moving trades -------------------------------------------------------------------------
    def _act(self, tid: int, action: str):
        escrow = self.services.trades

        async def go():
            trade = await TradeRepo(self.services.db).get(G, tid)
            buyer, seller = trade["buyer_id"], trade["seller_id"]
            if action == "accept":
                await escrow.accept(G, tid, buyer, expected_price=trade["price"])
            elif action == "decline":
                await escrow.decline(G, tid, buyer)
            elif action == "deliver":
                await escrow.mark_delivered(G, tid, seller, "shipped")
            elif action == "confirm":
                await escrow.confirm(G, tid, buyer)
            elif action == "cancel":
                await escrow.cancel(G, tid, seller)
            elif action == "mutual_b":
                await escrow.vote_mutual_cancel(G, tid, buyer)
            elif action == "mutual_s":
                await escrow.vote_mutual_cancel(G, tid, seller)
            elif action == "dispute":
                await self.services.disputes.open(G, tid, buyer, "not as described")
            else:
                await self.services.disputes.resolve(G, tid, Actor(MOD, is_moderator=True), "split", percent=40)
        return go()

    @rule(pick=st.integers(0, 1_000), action=actions)
    def act(self, pick, action):
        if self.trades:
            self.attempt(self._act(self.trades[pick % len(self.trades)], action))

    @rule(pick=st.integers(0, 1_000), first=actions, second=actions)
    def two_at_once(self, pick, first, second):
        if self.trades:
            tid = self.trades[pick % len(self.trades)]
            self.attempt(self._act(tid, first), self._act(tid, second))

    @rule(hours=st.sampled_from([1, 30, 80, 200]))
    def sweep(self, hours):
        self.clock.advance(hours=hours)
        self.attempt(self.services.trades.sweep(), self.services.trades.sweep())

    # --- after every step ----------------------------------------------------------------------
    @invariant()
    def ledger_is_whole(self):
        async def check():
            report = await audit(self.services.db)
            assert report.ok, report.render()
            holding = await self.db["trades"].find(
                {"guild_id": G, "status": {"$in": ["reserved", "delivered", "disputed"]}}).to_list()
            held = 0
            for user in USERS:
                held += (await self.services.ledger.account(G, user)).held
            assert held == sum(t["price"] for t in holding)
            for t in holding:
                if t.get("listing_id") is not None:
                    listing = await ListingRepo(self.services.db).get(G, t["listing_id"])
                    assert listing["status"] == "reserved" and listing["trade_id"] == t["trade_id"]
        self.run(check())


def test_escrow_state_machine(mongo_uri):
    EscrowMachine.uri, EscrowMachine.embedded = mongo_uri
    runner = EscrowMachine.TestCase
    runner.settings = settings(max_examples=deep(6, 20), stateful_step_count=40, deadline=None,
                               suppress_health_check=list(HealthCheck))
    runner("runTest").runTest()
