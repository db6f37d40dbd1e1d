"""Guild work hand-over: notices survive the trip through the outbox, items run once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.guild_work import GuildWork, decode, encode, shard_of
from economy.boosts.service import BoostNotice, Window
from economy.core.actor import Actor
from economy.events.service import CommunityEvent, EventNotice, Payout
from economy.repos.base import find_docs
from economy.repos.outbox_repo import OutboxRepo
from economy.seasons.service import Season, SeasonNotice

pytestmark = pytest.mark.timeout(60)


def test_notices_round_trip_through_documents():
    event = CommunityEvent(guild_id=1, event_id=2, title="Quiz", type="quiz", host_ids=[3],
                           starts_ms=10, ends_ms=20, status="completed", created_by=3,
                           rewards={"attend": 5})
    notices = [
        (BoostNotice, BoostNotice(5, "start", Window("b1", 20000, 1, 2, reason="x"))),
        (SeasonNotice, SeasonNotice(1, Season("k", "n", "01-01", "01-02"), "k-2026",
                                    [(1, 2, 3), (4, 5, 6)])),
        (EventNotice, EventNotice("payout", None, users=(1, 2),
                                  payout=Payout(event, attendees=[1], winners=[2], paid=10))),
        (EventNotice, EventNotice("live", event)),
    ]
    for cls, notice in notices:
        assert decode(cls, encode(notice)) == notice
    assert encode(datetime(2026, 1, 1, tzinfo=UTC)) == {"__ms__": 1767225600000}


def _bot(services, shard_ids, shard_count):
    return SimpleNamespace(shard_ids=shard_ids, shard_count=shard_count, services=services,
                           guilds=[], jobs=SimpleNamespace(lease=SimpleNamespace(token=7)))


async def test_work_for_other_shards_is_queued_and_run_once_by_an_owner(services):
    done: list[BoostNotice] = []

    async def announce(notice: BoostNotice) -> None:
        done.append(notice)

    guilds = [(i << 22) for i in range(4)]  # shards 0..3 of 4
    leader = GuildWork(_bot(services, [0], 4), OutboxRepo(services.db), services.modules, owner=lambda: "L")
    owners = [GuildWork(_bot(services, [1, 2, 3], 4), OutboxRepo(services.db), services.modules,
                        owner=lambda i=i: f"O{i}") for i in range(5)]
    for work in (leader, *owners):
        work.register("boost-announce", "boosts", announce, notice_type=BoostNotice)
    results = [await leader.hand_over("boost-announce", g, BoostNotice(g, "start", Window(
        f"b{n}", 20000, 1, 2)), key=f"{g}:b{n}") for n, g in enumerate(guilds)]
    assert results == ["ran", "queued", "queued", "queued"]
    assert await leader.hand_over("boost-announce", guilds[1], BoostNotice(
        guilds[1], "start", Window("b1", 20000, 1, 2)), key=f"{guilds[1]}:b1") == "duplicate"
    # Five processes serving the same shards poll at once: each item runs exactly once.
    ran = await asyncio.gather(*(work.poll() for work in owners))
    assert sum(ran) == 3 and len(done) == 4
    assert sorted(n.guild_id for n in done) == sorted(guilds)
    items = await find_docs(services.db["outbox"], {"kind": "boost-announce"})
    assert {i["status"] for i in items} == {"done"} and {i["token"] for i in items} == {7}
    assert all(shard_of(i["guild_id"], 4) == i["shard"] != 0 for i in items)
    assert sum(await asyncio.gather(*(work.poll() for work in owners))) == 0


async def test_switched_off_feature_skips_its_guild_work(services):
    done: list = []

    async def announce(notice) -> None:
        done.append(notice)

    gid = 1 << 22
    await services.modules.switch(gid, Actor.system(), "boosts", on=False)
    work = GuildWork(_bot(services, None, 1), OutboxRepo(services.db), services.modules, owner=lambda: "P")
    work.register("boost-announce", "boosts", announce, notice_type=BoostNotice)
    notice = BoostNotice(gid, "start", Window("b1", 20000, 1, 2))
    assert await work.hand_over("boost-announce", gid, notice) == "skipped"
    assert done == []


async def test_finished_items_are_pruned_after_a_week(services, clock):
    outbox = OutboxRepo(services.db)
    now = int(clock.now().timestamp() * 1000)
    week = 7 * 24 * 3600 * 1000
    await outbox.enqueue("old", guild_id=1, shard=0, kind="x", payload={}, now_ms=now - week - 1,
                         token=1)
    await outbox.enqueue("waiting", guild_id=1, shard=0, kind="x", payload={},
                         now_ms=now - week - 1, token=1)
    await outbox.enqueue("new", guild_id=1, shard=0, kind="x", payload={}, now_ms=now, token=1)
    for key in ("old", "new"):
        assert await outbox.claim(key, "P", now)
        assert await outbox.finish(key, "P", now, ok=True)
    await outbox.enqueue("stuck", guild_id=1, shard=0, kind="x", payload={}, now_ms=now, token=1)
    assert await outbox.claim("stuck", "dead", now - 2 * 3600 * 1000)  # its process died
    work = GuildWork(_bot(services, None, 1), outbox, services.modules, owner=lambda: "P")
    assert await work.prune() == 1
    docs = {i["_id"]: i for i in await find_docs(services.db["outbox"], {"guild_id": 1})}
    assert set(docs) == {"waiting", "new", "stuck"}  # a pending item is never dropped
    assert docs["stuck"]["status"] == "lost" and docs["new"]["status"] == "done"
    assert not await outbox.finish("stuck", "dead", now, ok=True)  # never run again


async def test_switched_off_goals_wait_and_close_when_back_on(services, clock):
    guild = 4
    goal = await services.goals.create(guild, Actor(1, is_admin=True), target=10, metric="gems_earned", deadline="1d",
                                       reward=5)
    clock.advance(minutes=1)
    await services.ledger.earn(guild, 50, 20, key="e50")
    await services.modules.switch(guild, Actor(1, is_admin=True), "goals", on=False)
    clock.advance(minutes=1)
    assert await services.goals.sweep() == []  # paused: not closed, nobody paid
    assert (await services.goals.view(guild, goal.goal_id)).status == "open"
    await services.modules.switch(guild, Actor(1, is_admin=True), "goals", on=True)
    notices = await services.goals.sweep()
    assert [n.kind for n in notices] == ["reached"]
    assert await services.ledger.balance(guild, 50) == 25
