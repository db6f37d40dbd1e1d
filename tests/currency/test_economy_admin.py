"""Economy administration against the embedded store: resets as burns, set-balance guarded by
the balance it read, grants to a role's holders once per member, and their races."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidAmount, InvalidInput, NotPermitted
from economy.core.ledger import BalanceChanged
from economy.core.settings import MAX_AMOUNT
from tests.cross.test_cap_races import Rendezvous

pytestmark = pytest.mark.timeout(120)
G = 11
ADMIN = Actor(1, is_admin=True, guild_id=G)
MEMBER = Actor(2, guild_id=G)
NAME = "Gem Cave"


async def _seed(services, user: int, amount: int) -> None:
    await services.ledger.grant(G, Actor.system(), user, amount, reason="seed", key=f"seed:{user}:{amount}")


async def _audit_ok(services) -> None:
    report = await audit(services.db)
    assert report.ok, report.render()


async def _supply(services) -> int:
    docs = await services.db["accounts"].find({"guild_id": G}).to_list()
    return sum(d.get("balance", 0) + d.get("held", 0) for d in docs)


async def test_reset_all_burns_every_member_and_keeps_the_audit_exact(services):
    for user, amount in ((10, 100), (11, 250), (12, 0), (13, 7)):
        if amount:
            await _seed(services, user, amount)
    await services.ledger.spend(G, 10, 40, key="buy", ref="x", burn=False)  # treasury gets 40
    result = await services.economy_admin.reset_all(G, ADMIN, typed_name="  gem cave ",
                                                    server_name=NAME, key="op1")
    assert (result.members, result.burned, result.missed) == (3, 60 + 250 + 7, ())
    for user in (10, 11, 13):
        assert await services.ledger.balance(G, user) == 0
    assert await services.ledger.treasury_balance(G) == 40  # the treasury is not a member
    entries = await services.db["ledger"].find({"kind": "reset"}).to_list()
    assert len(entries) == 3 and all(e["mint"] and e["actor_id"] == 1 for e in entries)
    again = await services.economy_admin.reset_all(G, ADMIN, typed_name=NAME, server_name=NAME,
                                                   key="op1")
    assert (again.members, again.burned) == (0, 0)
    await _audit_ok(services)


async def test_reset_refuses_a_wrong_name_and_non_admins_and_changes_nothing(services):
    await _seed(services, 10, 100)
    with pytest.raises(InvalidInput, match="server's name"):
        await services.economy_admin.reset_all(G, ADMIN, typed_name="Gem Cav", server_name=NAME,
                                               key="k")
    with pytest.raises(InvalidInput, match="server's name"):
        await services.economy_admin.reset_member(G, ADMIN, 10, typed_name="", server_name=NAME,
                                                  key="k")
    with pytest.raises(NotPermitted):
        await services.economy_admin.reset_all(G, MEMBER, typed_name=NAME, server_name=NAME,
                                               key="k")
    with pytest.raises(NotPermitted):  # an admin of another server is nobody here
        await services.economy_admin.reset_all(G, Actor(1, is_admin=True, guild_id=G + 1),
                                               typed_name=NAME, server_name=NAME, key="k")
    assert await services.ledger.balance(G, 10) == 100
    assert await services.db["ledger"].count_documents({"kind": "reset"}) == 0


async def test_reset_racing_gives_burns_what_is_there_and_loses_no_give(services):
    await _seed(services, 10, 1_000)
    await _seed(services, 20, 1_000)
    gives = [services.ledger.transfer(G, 20, 10, 5, key=f"give:{i}") for i in range(40)]
    reset = services.economy_admin.reset_member(G, ADMIN, 10, typed_name=NAME,
                                                server_name=NAME, key="r")
    results = await asyncio.gather(reset, *gives)
    burned = results[0].burned
    # Every give landed (before or after the burn) and every GEM is accounted for.
    assert await services.ledger.balance(G, 20) == 1_000 - 40 * 5
    assert await services.ledger.balance(G, 10) == 1_000 + 40 * 5 - burned
    assert await _supply(services) == 2_000 - burned
    await _audit_ok(services)


async def test_set_balance_mints_or_burns_the_difference(services):
    await _seed(services, 10, 100)
    up = await services.economy_admin.set_balance(G, ADMIN, 10, 180, key="s1", reason="prize")
    assert (up.before, up.after) == (100, 180)
    down = await services.economy_admin.set_balance(G, ADMIN, 10, 0, key="s2")
    assert (down.before, down.after) == (180, 0)
    fresh = await services.economy_admin.set_balance(G, ADMIN, 30, 55, key="s3")  # no account yet
    assert (fresh.before, fresh.after) == (0, 55)
    same = await services.economy_admin.set_balance(G, ADMIN, 30, 55, key="s4")
    assert same.before == same.after == 55
    replay = await services.economy_admin.set_balance(G, ADMIN, 10, 180, key="s1")
    assert replay.replayed and await services.ledger.balance(G, 10) == 0
    kinds = [e["kind"] for e in await services.db["ledger"].find({"user_id": 10}).sort("at_ms")
             .to_list()]
    assert kinds == ["grant", "grant", "take"]
    await _audit_ok(services)


@pytest.mark.parametrize("amount", [-1, MAX_AMOUNT + 1, 2.5, True])
async def test_set_balance_refuses_bad_amounts_and_changes_nothing(services, amount):
    await _seed(services, 10, 100)
    with pytest.raises(InvalidAmount):
        await services.economy_admin.set_balance(G, ADMIN, 10, amount, key="bad")
    with pytest.raises(NotPermitted):
        await services.economy_admin.set_balance(G, MEMBER, 10, 5, key="bad")
    assert await services.ledger.balance(G, 10) == 100
    assert await services.db["ledger"].count_documents({"idempotency_key": "bad"}) == 0


async def test_two_set_balance_at_once_one_wins_the_other_is_refused(services, monkeypatch):
    await _seed(services, 10, 100)
    # Both read the balance before either writes (otherwise, on a loaded machine, the second
    # may start after the first committed and rightly succeed from the new balance).
    Rendezvous(monkeypatch, type(services.ledger), "account", 2)
    results = await asyncio.gather(
        services.economy_admin.set_balance(G, ADMIN, 10, 500, key="a"),
        services.economy_admin.set_balance(G, ADMIN, 10, 20, key="b"),
        return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(done) == 1 and len(refused) == 1 and isinstance(refused[0], BalanceChanged), results
    assert await services.ledger.balance(G, 10) == done[0].after
    assert await services.db["ledger"].count_documents({"idempotency_key": {"$in": ["a", "b"]}}) == 1
    await _audit_ok(services)


async def test_set_balance_never_overwrites_a_concurrent_give(services):
    await _seed(services, 10, 100)
    await _seed(services, 20, 1_000)
    outcomes = await asyncio.gather(
        *(services.ledger.transfer(G, 20, 10, 3, key=f"g{i}") for i in range(20)),
        *(services.economy_admin.set_balance(G, ADMIN, 10, 50, key=f"set{i}") for i in range(5)),
        return_exceptions=True)
    sets = [o for o in outcomes[20:] if not isinstance(o, BaseException)]
    assert all(isinstance(o, BalanceChanged) for o in outcomes[20:] if isinstance(o, BaseException))
    assert not any(isinstance(o, BaseException) for o in outcomes[:20])
    # The balance is the ledger's sum: each set moved exactly (target - what it read).
    entries = await services.db["ledger"].find({"guild_id": G, "user_id": 10}).to_list()
    assert await services.ledger.balance(G, 10) == sum(e["delta"] for e in entries)
    # A set that got through left exactly its target at its commit (never target + a give).
    set_entries = [e for e in entries if e["idempotency_key"].startswith("set")]
    assert len(set_entries) == len(sets) and all(e["balance_after"] == 50 for e in set_entries)
    await _audit_ok(services)


async def test_a_stale_read_is_refused_not_applied(services):
    await _seed(services, 10, 100)
    await _seed(services, 20, 100)
    read = await services.ledger.balance(G, 10)
    await services.ledger.transfer(G, 20, 10, 30, key="between")  # lands after the read
    with pytest.raises(BalanceChanged):
        await services.ledger.set_balance(G, ADMIN, 10, expected=read, target=0, key="late",
                                          reason="set")
    assert await services.ledger.balance(G, 10) == 130
    assert await services.db["ledger"].count_documents({"idempotency_key": "late"}) == 0
    # The writer forgot the account: its next guarded update reloads it and still works.
    await services.ledger.transfer(G, 10, 20, 130, key="after")
    assert await services.ledger.balance(G, 10) == 0
    await _audit_ok(services)


@pytest.mark.slow  # 300 members, granted twice at once
async def test_grant_role_pays_each_member_once_even_when_retried(services):
    members = [100 + i for i in range(300)]
    first, retry = await asyncio.gather(
        services.economy_admin.grant_role(G, ADMIN, [*members, 0], 25, key="op", reason="event"),
        services.economy_admin.grant_role(G, ADMIN, members, 25, key="op", reason="event"))
    assert first.granted + retry.granted == 300
    assert first.granted + first.repeated == 300 == retry.granted + retry.repeated
    later = await services.economy_admin.grant_role(G, ADMIN, members, 25, key="op",
                                                    reason="event")
    assert (later.granted, later.repeated) == (0, 300)
    assert {await services.ledger.balance(G, u) for u in members} == {25}
    assert await services.db["ledger"].count_documents({"kind": "grant"}) == 300
    await _audit_ok(services)


@pytest.mark.parametrize("amount", [0, -5, MAX_AMOUNT + 1])
async def test_grant_role_refuses_bad_amounts_and_empty_roles(services, amount):
    with pytest.raises(InvalidAmount):
        await services.economy_admin.grant_role(G, ADMIN, [5, 6], amount, key="x", reason="why")
    with pytest.raises(InvalidInput, match="Nobody"):
        await services.economy_admin.grant_role(G, ADMIN, [], 5, key="x", reason="why")
    assert await services.db["ledger"].count_documents({}) == 0


async def test_give_cooldown_setting_spaces_gives_even_when_sent_at_once(services, clock):
    from datetime import timedelta

    from economy.core.errors import Cooldown

    await services.settings.set(G, Actor.system(), "give_cooldown_seconds", "60")
    await services.settings.set(G, Actor.system(), "min_account_age_days", "0")
    await services.settings.set(G, Actor.system(), "min_member_days", "0")
    sender = 10**17  # an old-enough snowflake is not needed with the limits off
    await _seed(services, sender, 100)
    results = await asyncio.gather(
        *(services.gifts.give(G, sender, 20 + i, 5, key=f"give{i}") for i in range(5)),
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Cooldown) for r in results if isinstance(r, BaseException)), results
    assert await services.ledger.balance(G, sender) == 95
    clock.advance(timedelta(seconds=61))
    await services.gifts.give(G, sender, 30, 5, key="later")
    assert await services.ledger.balance(G, sender) == 90
