"""/gems-admin reset, set-balance and grant-role end to end through the sandbox: the typed
server name, refusals that change nothing, and staff rights."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import balance, db_state, seed

pytestmark = pytest.mark.timeout(90)


async def _reset(gc, who, typed, **options):
    opened = await gc.slash(who, "gems-admin reset", **options)
    assert opened.modal is not None, opened.content
    return await gc.sb.submit_modal(gc[who], opened, {"server_name": typed})


async def test_reset_all_with_the_server_name_burns_every_balance(gc):
    for name, amount in (("alice", 120), ("bob", 30)):
        await seed(gc, name, amount)
    before = await db_state(gc)
    wrong = await _reset(gc, "admin", "not the name", scope="all")
    assert wrong.ephemeral and "isn't this server's name" in wrong.content
    assert await db_state(gc) == before
    done = await _reset(gc, "admin", gc.guild.name.upper(), scope="all")
    assert done.ephemeral and "150 GEMS burned from 2 members" in done.content, done.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (0, 0)
    history = await gc.services.ledger.history(gc.guild.id, gc["alice"].id)
    assert history.rows[0].kind == "reset" and history.rows[0].actor_id == gc["admin"].id


async def test_reset_one_member(gc):
    await seed(gc, "alice", 120)
    await seed(gc, "bob", 30)
    r = await _reset(gc, "admin", gc.guild.name, scope="member")
    assert r.ephemeral and "Pick the member" in r.content
    r = await _reset(gc, "admin", gc.guild.name, scope="member", member=gc["otherbot"])
    assert r.ephemeral and "Bots don't hold GEMS" in r.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (120, 30)
    done = await _reset(gc, "admin", gc.guild.name, scope="member", member=gc["alice"])
    assert "120 GEMS burned" in done.content, done.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (0, 30)


async def test_set_balance_and_its_bad_input(gc):
    await seed(gc, "alice", 100)
    r = await gc.slash("admin", "gems-admin set-balance", member=gc["alice"], amount=250,
                       reason="contest fix")
    assert r.ephemeral and "100 GEMS → 💎 250 GEMS" in r.content, r.content
    assert await balance(gc, "alice") == 250
    before = await db_state(gc)
    for amount in (-1, 10**12 + 1, 1.5):
        r = await gc.slash("admin", "gems-admin set-balance", member=gc["alice"], amount=amount)
        assert r.ephemeral, r.content
    r = await gc.slash("admin", "gems-admin set-balance", member=gc["alice"], amount=250)
    assert "already has" in r.content
    for who in ("bob", "mod"):
        r = await gc.slash(who, "gems-admin set-balance", member=gc["alice"], amount=0)
        assert r.ephemeral and "Only server admins" in r.content
        r = await gc.slash(who, "gems-admin reset", scope="all")
        assert r.ephemeral and "Only server admins" in r.content and r.modal is None
    assert await db_state(gc) == before


async def test_grant_role_pays_each_holder_once(gc):
    crew = gc.sb.create_role(gc.guild, "Crew")
    for name in ("alice", "bob"):
        gc.sb.give_role(gc[name], crew)
    await gc.sb.settle()
    r = await gc.sb.slash(gc["admin"], "gems-admin grant-role",
                          {"role": crew, "amount": 40, "reason": "event crew"})
    assert "each of 2 members" in r.content, r.content
    assert r.message.allowed_mentions == {"parse": []}
    assert (await balance(gc, "alice"), await balance(gc, "bob"), await balance(gc, "carol")) \
        == (40, 40, 0)
    before = await db_state(gc)
    r = await gc.sb.slash(gc["admin"], "gems-admin grant-role",
                          {"role": crew, "amount": 0, "reason": "event crew"})
    assert r.ephemeral
    empty = gc.sb.create_role(gc.guild, "Nobody")
    await gc.sb.settle()
    r = await gc.sb.slash(gc["admin"], "gems-admin grant-role",
                          {"role": empty, "amount": 5, "reason": "nobody"})
    assert r.ephemeral and "Nobody" in r.content, r.content
    assert await db_state(gc) == before


async def test_reset_form_opened_before_a_restart_works_after_it_once(gc):
    """The form is routed by its custom id, not by an object in memory: opened, bot restarted,
    submitted -> the reset happens once; the same form sent again burns nothing more."""
    await seed(gc, "alice", 70)
    await seed(gc, "bob", 30)
    opened = await gc.slash("admin", "gems-admin reset", scope="all")
    assert opened.modal is not None and opened.modal["custom_id"] == "gems:reset:all"
    await gc.restart_bot()
    done = await gc.sb.submit_modal(gc["admin"], opened, {"server_name": gc.guild.name})
    assert done.ephemeral and "100 GEMS burned from 2 members" in done.content, done.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (0, 0)
    burns = await gc.db["ledger"].count_documents({"kind": "reset"})
    again = await gc.sb.submit_modal(gc["admin"], opened, {"server_name": gc.guild.name})
    assert again.ephemeral, again.content
    assert await gc.db["ledger"].count_documents({"kind": "reset"}) == burns


async def test_forged_reset_submits_are_refused_and_change_nothing(gc):
    """A member (or moderator) submitting a crafted `gems:reset:all` form: refused, nothing
    burned; an admin's form with a custom id the bot never sends: refused too."""
    await seed(gc, "alice", 70)
    opened = await gc.slash("admin", "gems-admin reset", scope="all")
    before = await db_state(gc)
    for who in ("bob", "mod"):
        forged = await gc.sb.submit_modal(gc[who], opened, {"server_name": gc.guild.name})
        assert forged.ephemeral and "Only server admins" in forged.content, forged.content
    opened.record.modal["custom_id"] = "gems:reset:everyone"
    odd = await gc.sb.submit_modal(gc["admin"], opened, {"server_name": gc.guild.name})
    assert odd.ephemeral and "not one I sent" in odd.content, odd.content
    assert await db_state(gc) == before
    assert not odd.errors
