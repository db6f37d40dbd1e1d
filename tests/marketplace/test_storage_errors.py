"""The marketplace's repositories answer a lost unique-index race themselves: the services never
see the store's DuplicateKeyError.

A concurrent upsert that loses the unique index is what MongoDB answers when two requests create
the same document at once (before 4.2 the server does not retry it; the embedded store never
races). The wrapper below plays the other request: it lets the write apply, then answers as the
loser would.
"""

from __future__ import annotations

import pytest
from pymongo.errors import DuplicateKeyError

from economy.marketplace.member_repo import MarketMemberRepo
from economy.marketplace.models import ListingQuery
from economy.marketplace.repo import ListingRepo

pytestmark = pytest.mark.timeout(60)

G = 1301


class LosesRaceOnce:
    """A collection whose first `method` call lets the write happen (the racing request's
    insert), then raises the duplicate-key error the losing upsert gets."""

    def __init__(self, collection, method: str) -> None:
        self._collection = collection
        self._method = method
        self.raised = 0

    def __getattr__(self, name):
        real = getattr(self._collection, name)
        if name != self._method or self.raised:
            return real

        async def racing(*args, **kwargs):
            await real(*args, **kwargs)
            self.raised += 1
            raise DuplicateKeyError("E11000 duplicate key error (lost upsert race)", 11000)

        return racing


async def test_first_listing_ids_of_a_guild_survive_a_lost_counter_upsert(services):
    repo = ListingRepo(services.db)
    repo.counters = LosesRaceOnce(repo.counters, "find_one_and_update")
    # The racing request took id 1; this one gets the next id instead of an error.
    assert await repo.next_listing_id(G) == 2
    assert repo.counters.raised == 1
    assert await repo.next_listing_id(G) == 3


async def test_saving_a_query_another_member_saved_at_the_same_moment(services):
    members = MarketMemberRepo(services.db, ListingRepo(services.db))
    members.queries = LosesRaceOnce(members.queries, "update_one")
    search = services.marketplace.search
    search._members = members
    query = ListingQuery(keywords=("sapphire", "vintage", "platinum", "ring", "antique"),
                         category="rings", price_max=5000, sort="price_asc")
    token = await search.query_token(G, query)
    assert token.startswith("~") and members.queries.raised == 1
    assert await search.query_from_token(G, token) == query
