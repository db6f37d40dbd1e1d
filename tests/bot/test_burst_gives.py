"""500 concurrent /gems give through the sandbox: nobody misses Discord's deadline or their answer.

Not a timing test: it asserts what the sandbox recorded (no first response after 3 s, exactly one
initial callback per interaction, a final answer for every member) and the money (balances and
the ledger audit). The timings are bench/burst_bench.py's job.
"""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit

# A deadline test (tests/e2e_fixtures.py::gc): slow; `./gems test` runs the deadline tests alone
# after the parallel run, so no other worker competes with the burst (and one group if run with -n).
pytestmark = [pytest.mark.timeout(120), pytest.mark.slow, pytest.mark.deadline,
              pytest.mark.xdist_group("deadline")]

N = 500
SEED = 100


async def test_500_concurrent_gives_all_acknowledged_and_answered(gc):
    guild = gc.guild.id
    names = [f"b{i:03d}" for i in range(N)]
    members = [gc.add_member(name) for name in names]
    await gc.sb.settle()
    # Seeded at once (the ledger writer batches them): this phase runs alone, so its set-up is
    # wall time of the whole suite.
    await asyncio.gather(*(gc.services.ledger.grant(guild, Actor.system(), m.user.id, SEED,
                                                    reason="seed", key=f"seed:{m.user.id}")
                           for m in members))
    amounts = [1 + i % 3 for i in range(N)]

    async def give(i: int):
        to = members[(i + 1) % N]
        return await gc.sb.slash(members[i], "gems give", member=to, amount=amounts[i], timeout=100)

    results = await asyncio.gather(*(give(i) for i in range(N)))

    assert gc.sb.deadline_violations == []
    policy = gc.bot.response_policy.stats
    callbacks: dict[str, list] = {}
    for q in gc.sb.requests:
        if q.method == "POST" and q.path.startswith("/interactions/"):
            callbacks.setdefault(q.path.split("/")[2], []).append(q)
    for i, r in enumerate(results):
        initial = callbacks.get(str(r.id), [])
        assert len(initial) == 1 and initial[0].status == 200, (i, initial)
        to = members[(i + 1) % N]
        wanted = f"gave <@{to.user.id}> 💎 {amounts[i]} GEMS"
        shown = any(wanted in m.content for m in r.messages if not m.deleted)
        dmed = any(wanted in m.content for m in gc.sb.dms(members[i]))
        assert shown or dmed, (i, r.text, r.errors)
    balances = await asyncio.gather(*(gc.services.ledger.balance(guild, m.user.id)
                                      for m in members))
    assert balances == [SEED - amounts[i] + amounts[i - 1] for i in range(N)]
    report = await audit(gc.services.db)
    assert report.ok, report.render()
    # The burst was large enough to trip the policy (what the test is about), and nothing was
    # lost on the way.
    assert policy.deferred_busy + policy.deferred_watchdog > 0 and policy.lost == 0
