"""The response policy: deferred when busy or by the watchdog, one initial response, late -> DM."""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace

import discord
import pytest

from bot.response_policy import route_key
from discord_sandbox.interactions import (
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    InteractionNotAnswered,
)
from tests.e2e_fixtures import balance, seed, seed_ranked_members

pytestmark = pytest.mark.timeout(60)


def busy(gc) -> None:
    """Make the bot consider itself busy: every interaction is deferred on arrival."""
    policy = gc.bot.response_policy
    policy.busy_threshold = policy.busy_ceiling = -1


def callbacks(gc, interaction_id: int) -> list:
    """The initial-response requests the bot made for one interaction."""
    return [r for r in gc.sb.requests
            if r.method == "POST" and r.path.startswith(f"/interactions/{interaction_id}/")]


async def test_busy_defers_then_edits_the_answer_with_matching_visibility(gc):
    await seed(gc, "alice", 500)
    busy(gc)
    r = await gc.slash("alice", "gems balance")
    assert r.response_type == DEFERRED_CHANNEL_MESSAGE
    assert r.ephemeral and "💎 500 GEMS" in r.text and "#1" in r.text
    assert not r.followups  # the deferred response itself was edited
    # A command that declares its visibility (extras) defers that way and edits in place.
    first = await gc.slash("alice", "gems give", member=gc["bob"], amount=40)
    assert first.response_type == DEFERRED_CHANNEL_MESSAGE
    assert not first.ephemeral and "💎 40 GEMS" in first.content and not first.followups
    second = await gc.slash("alice", "gems give", member=gc["bob"], amount=2)
    assert not second.ephemeral and "💎 2 GEMS" in second.content and not second.followups
    # Never seen: it might open a modal, so it is not deferred before its handler runs.
    board = await gc.slash("bob", "gems leaderboard")
    assert board.response_type == 4 and not board.ephemeral and "leaderboard" in board.text
    # Seen (public): deferred publicly and edited in place.
    again = await gc.slash("bob", "gems leaderboard")
    assert again.response_type == DEFERRED_CHANNEL_MESSAGE
    assert not again.ephemeral and "leaderboard" in again.text and not again.followups
    # A defer that guessed "private" for a public answer: the answer still reaches the channel
    # as a public followup and the private placeholder says done.
    gc.bot.response_policy.hints["cmd:gems leaderboard"] = "ephemeral"
    guessed = await gc.slash("bob", "gems leaderboard")
    assert guessed.response_type == DEFERRED_CHANNEL_MESSAGE and guessed.ephemeral
    public = [m for m in guessed.messages if not m.ephemeral and not m.deleted]
    assert len(public) == 1 and "leaderboard" in public[0].text
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (458, 42)
    # An error after a busy defer is still a private, friendly answer.
    refused = await gc.slash("carol", "gems give", member=gc["bob"], amount=1)
    assert "Not enough GEMS" in refused.text
    assert all(m.ephemeral for m in refused.messages if not m.deleted)
    stats = gc.bot.response_policy.stats
    assert stats.deferred_busy >= 4 and stats.converted >= 4


async def test_busy_button_uses_a_deferred_update_and_edits_the_message(gc):
    await seed_ranked_members(gc, 12)
    r = await gc.slash("bob", "gems leaderboard")
    page2 = await gc.click("carol", r, "Next ▶")  # teaches the policy: this button edits
    back = await gc.click("carol", page2, "◀ Prev")
    busy(gc)
    again = await gc.click("carol", back, "Next ▶")
    assert again.response_type == DEFERRED_UPDATE_MESSAGE
    assert again.message.id == r.message.id and "Page 2/2" in again.message.text


async def test_watchdog_and_handler_race_sends_exactly_one_initial_response(gc):
    """A watchdog firing at once races every handler: still one callback each, never 40060."""
    await seed(gc, "alice", 1000)
    policy = gc.bot.response_policy
    policy.busy_threshold, policy.watchdog_seconds = 10**6, 0.0
    policy.busy_ceiling = policy.burst_arrivals = 10**6  # never busy: the watchdog is the subject
    policy.lag_limit = float("inf")
    results = await asyncio.gather(
        *(gc.slash("alice", "gems give", member=gc["bob"], amount=1, note=f"n{i}") for i in range(20)),
        *(gc.slash("bob", "gems balance") for _ in range(20)),
    )
    for r in results:
        sent = callbacks(gc, r.id)
        assert len(sent) == 1 and sent[0].status == 200, sent
        assert r.errors == []
    gives = results[:20]
    assert all(any("💎 1 GEMS" in m.content for m in g.messages if not m.deleted) for g in gives)
    assert await balance(gc, "alice") == 980


async def test_answer_too_late_for_discord_reaches_the_member_by_dm(gc):
    """Discord answers 10062 (the token died): the give happened, so the member gets a DM."""
    gc.sb.server.strict_deadline = True  # Discord's refusal is the subject (gc records only)
    await seed(gc, "alice", 100)
    policy = gc.bot.response_policy
    policy.busy_threshold, policy.watchdog_seconds = 10**6, 10**6
    policy.busy_ceiling = policy.burst_arrivals = 10**6  # never busy
    policy.lag_limit = float("inf")
    ticks = itertools.count(0, 4)  # each reading of the sandbox clock is 4 s later
    gc.sb.clock = lambda: float(next(ticks))
    try:
        with pytest.raises(InteractionNotAnswered):  # Discord never saw an answer
            await gc.slash("alice", "gems give", member=gc["bob"], amount=30)
        assert await balance(gc, "bob") == 30
        dms = [m.content for m in gc.sb.dms(gc["alice"])]
        assert any("timed out" in d and "💎 30 GEMS" in d for d in dms), dms
        assert policy.stats.dm_fallbacks == 1
        # With DMs turned off the answer cannot be delivered: counted, not raised.
        await gc.services.member_prefs.set_dms(gc.guild.id, gc["alice"].id, False)
        with pytest.raises(InteractionNotAnswered):
            await gc.slash("alice", "gems give", member=gc["bob"], amount=5)
        assert await balance(gc, "bob") == 35 and policy.stats.lost == 1
        # A handler that defers itself and answers by followup: the late followup is DMed too.
        before = len(gc.sb.dms(gc["carol"]))
        with pytest.raises(InteractionNotAnswered):
            await gc.slash("carol", "market browse")
        assert len(gc.sb.dms(gc["carol"])) == before + 1
        assert "timed out" in gc.sb.dms(gc["carol"])[-1].text
    finally:
        gc.sb.server.log.deadline_violations.clear()  # provoked on purpose


async def test_busy_never_defers_a_command_that_may_open_a_form(gc):
    """A modal must be the first response: unknown routes and known modal openers start at once."""
    busy(gc)
    opened = await gc.slash("admin", "event-admin create", type="social", start="now", duration=60)
    assert opened.modal is not None and opened.response_type == 9
    assert gc.bot.response_policy.hints["cmd:event-admin create"] == "modal"
    again = await gc.slash("admin", "event-admin create", type="social", start="now", duration=60)
    assert again.modal is not None


async def test_busy_still_opens_a_form_whose_buttons_share_a_prefix_with_editing_ones(gc):
    """`gset:w:ro:...` (a select that edits the page) and `gset:w:form:...` (a button that opens a
    form) are different routes: the first answering with an edit must not get the second
    deferred when busy (a deferred button can no longer open its form). Once a route opened a
    form, a message it answers with later does not make it deferrable."""
    r = await gc.slash("admin", "setup")
    r = await gc.sb.select(gc["admin"], r, "gset:w:ro:moderator_role_id", [gc.mod_role])
    busy(gc)
    form = await gc.click("admin", r, "Edit 1–3")
    assert form.modal is not None and form.response_type == 9
    policy = gc.bot.response_policy
    assert policy.hints["cid:gset:w:ro"] == "update"
    assert policy.hints["cid:gset:w:form"] == "modal"
    # The same family answering with a message later (an error) leaves it a form opener.
    click = SimpleNamespace(type=discord.InteractionType.component,
                            data={"custom_id": "gset:w:form:core:0:0"})
    policy.learn(click, "update")
    assert policy.hints["cid:gset:w:form"] == "modal"
    assert route_key(SimpleNamespace(type=discord.InteractionType.component,
                                     data={"custom_id": "gems:lb:123:2:next"})) == "cid:gems:lb"
