"""The dashboard's domain rules without Discord: login states, sessions, the Actor checks, the
health numbers, and migration 0020."""

from __future__ import annotations

import asyncio
import importlib

import pytest

from economy.core.actor import Actor
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.repos.schemas import validator

pytestmark = pytest.mark.timeout(60)

G, OTHER = 1, 2
ADMIN = Actor(10, guild_id=G, is_admin=True, is_moderator=True)
MOD = Actor(11, guild_id=G, is_moderator=True)
MEMBER = Actor(12, guild_id=G)


async def test_a_login_state_is_used_once_even_by_racing_callbacks(services, clock):
    dashboard = services.dashboard
    state = await dashboard.new_login_state()
    results = await asyncio.gather(*(dashboard.take_login_state(state, state) for _ in range(5)),
                                   return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, NotPermitted) for r in results if r is not None)
    other = await dashboard.new_login_state()
    with pytest.raises(NotPermitted):  # another browser's state
        await dashboard.take_login_state(other, state)
    clock.advance(minutes=11)
    with pytest.raises(NotPermitted):  # expired (10 minutes)
        await dashboard.take_login_state(other, other)


async def test_sessions_expire_are_revoked_and_pruned(services, clock):
    dashboard = services.dashboard
    one = await dashboard.open_session(10, "admin", [G, OTHER])
    two = await dashboard.open_session(10, "admin", [G])
    three = await dashboard.open_session(12, "bob", [])
    found = await dashboard.session(one)
    assert (found.user_id, found.guild_ids) == (10, (G, OTHER))
    assert await dashboard.session("not-a-token") is None
    await dashboard.close_session(two)
    assert await dashboard.session(two) is None
    assert await dashboard.close_all_sessions(ADMIN) == 1  # one and two were admin's; two ended
    assert await dashboard.session(one) is None and await dashboard.session(three) is not None
    with pytest.raises(InvalidInput):
        await dashboard.open_session(0, "nobody", [])
    await dashboard.new_login_state()
    clock.advance(hours=12, seconds=1)
    assert await dashboard.session(three) is None
    assert await dashboard.prune() == 2  # bob's session and the unused state
    assert await services.db["dashboard_sessions"].count_documents({}) == 0


async def test_staff_actions_check_the_actor_in_the_service(services):
    dashboard = services.dashboard
    for actor in (MOD, MEMBER, Actor(10, guild_id=OTHER, is_admin=True)):
        with pytest.raises(NotPermitted):
            await dashboard.change_settings(G, actor, {"currency_name": "Rocks"})
        with pytest.raises(NotPermitted):
            await dashboard.health(G, actor)
    with pytest.raises(NotPermitted):
        await dashboard.approve_listing(G, MEMBER, 1)
    with pytest.raises(NotPermitted):
        await dashboard.pending_listings(G, Actor(11, guild_id=OTHER, is_moderator=True))
    assert await dashboard.pending_listings(G, MOD) == []
    assert (await services.settings.get(G)).currency_name == "GEMS"


async def test_settings_change_checks_every_value_first_and_records_real_changes(services):
    dashboard = services.dashboard
    with pytest.raises(InvalidInput):  # one bad value: nothing stored
        await dashboard.change_settings(G, ADMIN, {"currency_name": "Shells",
                                                   "daily_amount": "-3"})
    with pytest.raises(InvalidInput, match="one section"):
        await dashboard.change_settings(G, ADMIN, {"currency_name": "Shells",
                                                   "marketplace_approval": "on"})
    with pytest.raises(NotFound):
        await dashboard.change_settings(G, ADMIN, {"no_such_key": "1"})
    assert await services.settings.history(G) == []
    done = await dashboard.change_settings(G, ADMIN, {"currency_name": "Shells",
                                                      "currency_emoji": "💎"})
    assert [(c.key, c.old, c.new) for c in done] == [("currency_name", "GEMS", "Shells")]
    await dashboard.change_settings(G, ADMIN, {"disabled_features": "events"})
    with pytest.raises(InvalidInput, match="switched off"):
        await dashboard.change_settings(G, ADMIN, {"event_manager_role_id": "5"})
    trail = await dashboard.audit_trail(G, ADMIN)
    assert [(e["action"], e["target"], e["actor_id"]) for e in trail] == [
        ("dashboard.settings", "setting:disabled_features", 10),
        ("dashboard.settings", "setting:currency_name", 10)]


async def test_health_numbers_are_the_ledgers(services):
    ledger = services.ledger
    await ledger.grant(G, Actor.system(), 21, 300, reason="seed", key="h:21")
    await ledger.grant(G, Actor.system(), 22, 200, reason="seed", key="h:22")
    await ledger.grant(OTHER, Actor.system(), 23, 999, reason="seed", key="h:23")  # another guild: not counted
    health = await services.dashboard.health(G, ADMIN)
    assert (health.members_with_balance, health.member_gems, health.escrow_gems) == (2, 500, 0)
    assert health.supply == 500 + health.treasury
    assert (health.open_trades, health.open_disputes, health.listings_pending) == (0, 0, 0)
    assert "The marketplace" in health.features_on and health.features_off == ()


async def test_0020_indexes_the_expiry_and_its_schemas_are_the_declared_ones(store):
    migration = importlib.import_module("migrations.0020_dashboard")
    raw = store.db.raw
    await migration.up(raw)
    await migration.up(raw)  # re-runnable
    for name in migration.VALIDATORS:
        assert validator(name) == migration.VALIDATORS[name], name
        keys = {tuple(k for k, _ in info["key"])
                for info in (await raw[name].index_information()).values()}
        assert ("expires_at",) in keys, name
    keys = {tuple(k for k, _ in info["key"])
            for info in (await raw["dashboard_sessions"].index_information()).values()}
    assert ("user_id",) in keys
