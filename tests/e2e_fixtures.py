"""End-to-end fixture: the real GemsBot on the test database, connected to the Discord sandbox.

A pytest plugin (registered by `pytest_plugins` in tests/conftest.py), so the command tests can
live next to their feature's domain tests; the helpers below are imported by them."""

from __future__ import annotations

import pytest

from bot.demo.community import GemsCommunity
from economy.core.actor import Actor
from economy.core.audit import audit


@pytest.fixture
async def gc(store, clock):
    """A connected community. When the test ends the ledger audit must pass and the bot must
    have made no request the sandbox does not model (the sandbox's own exit check).

    Discord's 3-second first-response deadline is wall-clock timing: the sandbox records a late
    answer (`sb.deadline_violations`) but does not refuse it here, so a loaded machine or a busy
    xdist neighbour does not fail tests about something else. Dedicated tests assert it
    (marked `deadline`: the 500 concurrent gives, the 200 check-ins at once)."""
    async with GemsCommunity.open(store.db, clock=clock, strict_deadline=False) as community:
        yield community
    report = await audit(community.services.db)
    assert report.ok, report.render()


async def seed(gc: GemsCommunity, name: str, amount: int) -> None:
    """Give a member GEMS through the service (not under test here)."""
    await gc.services.ledger.grant(gc.guild.id, Actor.system(), gc[name].id, amount, reason="seed",
                                   key=f"seed:{name}:{amount}")


async def seed_ranked_members(gc: GemsCommunity, n: int) -> None:
    """Members m00..m(n-1) with 1,000, 999, ... GEMS (a leaderboard of known order)."""
    for i in range(n):
        gc.add_member(f"m{i:02d}")
        await seed(gc, f"m{i:02d}", 1000 - i)
    await gc.sb.settle()


async def balance(gc: GemsCommunity, name: str) -> int:
    """A member's balance straight from the service."""
    return await gc.services.ledger.balance(gc.guild.id, gc[name].id)


async def db_state(gc: GemsCommunity) -> tuple:
    """Everything money-related, to prove that a refusal changed nothing."""
    accounts = await gc.db["accounts"].find({}, {"_id": 0, "updated_at": 0}).to_list()
    entries = await gc.db["ledger"].count_documents({})
    settings = await gc.db["guild_settings"].find({}, {"_id": 0}).to_list()
    return sorted(map(repr, accounts)), entries, repr(settings)
