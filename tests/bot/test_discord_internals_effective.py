"""The patches of bot/discord_internals.py are installed in the running GemsBot and do what the
response policy relies on (their shape is checked in tests/test_discord_internals.py)."""

from __future__ import annotations

import pytest

from bot.response_policy import PolicyInteraction, PolicyResponse
from bot.tree import GemsTree
from discord_sandbox.interactions import DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE
from tests.e2e_fixtures import seed, seed_ranked_members

pytestmark = pytest.mark.timeout(60)


async def test_every_interaction_reaches_its_handler_with_the_policy_response(gc):
    """The INTERACTION_CREATE hook builds the interaction and gives it the policy's response:
    the handler's own answer goes through PolicyResponse (which learns the route from it)."""
    seen: list = []

    async def spy(interaction) -> bool:
        seen.append((type(interaction), type(interaction.response)))
        return True

    assert isinstance(gc.bot.tree, GemsTree)
    gc.bot.tree.add_check(spy)
    policy = gc.bot.response_policy
    received = policy.stats.received
    await seed(gc, "alice", 10)
    r = await gc.slash("alice", "gems balance")
    assert r.ephemeral and r.errors == []
    assert seen == [(PolicyInteraction, PolicyResponse)]
    assert policy.stats.received == received + 1
    assert policy.hints["cmd:gems balance"] == "ephemeral"  # learned inside PolicyResponse


async def test_a_burst_defer_goes_out_before_the_handler_and_waits_for_its_tasks(gc):
    """Busy: the defer is sent first, then the handler tasks discord.py's dispatchers create are
    captured (the task factory) and awaited; commands and buttons alike."""
    await seed(gc, "alice", 100)
    await seed_ranked_members(gc, 12)
    policy = gc.bot.response_policy
    await gc.slash("alice", "gems balance")  # teaches the route: safe to defer
    board = await gc.slash("bob", "gems leaderboard")
    page2 = await gc.click("carol", board, "Next ▶")  # teaches the button: it edits
    policy.busy_threshold = policy.busy_ceiling = -1  # every interaction now arrives "busy"
    awaited = policy.stats.handlers_awaited
    r = await gc.slash("alice", "gems balance")
    assert r.response_type == DEFERRED_CHANNEL_MESSAGE and "100" in r.text
    back = await gc.click("carol", page2, "◀ Prev")
    assert back.response_type == DEFERRED_UPDATE_MESSAGE and "Page 1/2" in back.message.text
    assert policy.stats.handlers_awaited >= awaited + 2
