"""What challenge progress tracking costs the chat ingest path, measured in one run.

Every message goes through the activity-earning ingest (rules + in-memory accumulation, plus the
periodic flush that writes it) and through challenge progress tracking (today's message challenges
counted in memory, `$inc`ed in bulk at each progress flush, plus the due-completion query); each
call is timed separately in the same loop, so machine noise hits both sides alike. The figure to
compare is the ingest rate with tracking over the rate without it (target: tracking adds at most
10 % to the ingest time). Targets are out of reach there: completing a challenge is a reward
payment (ledger transaction, streak, weekly count, scores) made at most K times per member and
day, so its cost is measured separately, as are leaderboard pages at 50,000 members.

Run: `.venv/bin/python bench/challenges_bench.py [--messages 48000]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.store import open_store
from economy.challenges.days import to_ms
from economy.challenges.pool import ChallengeDef
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.currency.activity import ChatMessage
from economy.services import build_services

G = 1
FLUSH_EVERY = 2000  # messages between activity flushes (ACTIVITY_FLUSH_SECONDS, default 10)
# Progress is written every CHALLENGE_FLUSH_SECONDS (default 60): six activity flushes.
PROGRESS_FLUSH_EVERY = FLUSH_EVERY * 6
USERS = 500


def day_set(target: int, *, heavy: bool) -> list[ChallengeDef]:
    """A typical day (one message challenge, a knowledge one) or a heavy one (two message
    challenges, one limited to a channel: twice the progress documents)."""
    defs = [
        ChallengeDef(id="chat-a", type="activity", metric="messages", target=target,
                     title="Talk shop", description="many messages"),
        ChallengeDef(id="quiz", type="knowledge", title="Quiz", description="Which?",
                     answers=("beryl",)),
    ]
    if heavy:
        defs.append(ChallengeDef(id="chat-b", type="activity", metric="messages", target=target,
                                 title="In #gems", description="messages in one channel",
                                 channels=(1,)))
    return defs


async def ingest(s, clock, messages: int, offset: int) -> tuple[float, float]:
    """Feed messages to both paths, timing each call separately; returns (activity s, progress s).

    Timing each call in the same loop (rather than two separate runs) makes the ratio robust to
    a busy machine: any slowdown hits both sides of the same message.
    """
    activity = progress = 0.0
    clock_ = time.perf_counter
    for i in range(messages):
        clock.advance(seconds=0.7)
        user = 1000 + i % USERS
        content = f"message number {offset + i} about a sapphire"
        now = clock.now()
        t0 = clock_()
        await s.activity.record(ChatMessage(
            guild_id=G, user_id=user, channel_id=1 + i % 2, role_ids=frozenset(),
            content=content, author_is_bot=False, at=now))
        t1 = clock_()
        await s.challenge_progress.record_message(G, user, 1 + i % 2, content,
                                                  author_is_bot=False, at=now)
        t2 = clock_()
        activity += t1 - t0
        progress += t2 - t1
        if (i + 1) % FLUSH_EVERY == 0:
            t0 = clock_()
            await s.activity.flush()
            activity += clock_() - t0
        if (i + 1) % PROGRESS_FLUSH_EVERY == 0:
            t0 = clock_()
            await s.challenge_progress.flush()
            progress += clock_() - t0
    return activity, progress


async def store_day(s, window, defs: list[ChallengeDef]) -> None:
    """Store a guild day's set as the draw would."""
    await s.challenge_repo.insert_day({
        "guild_id": G, "day": window.key, "start_ms": to_ms(window.start),
        "end_ms": to_ms(window.end), "challenge_ids": [c.id for c in defs],
        "defs": [c.model_dump(mode="json") for c in defs], "announced": False, "drawn_ms": 0})


async def next_day(s, clock, defs: list[ChallengeDef]):
    """Move to the start of the next guild day and store its set."""
    window = await s.challenges.window(G)
    clock.set(window.end)
    window = await s.challenges.window(G)
    await store_day(s, window, defs)
    return window


async def measure(s, clock, defs, messages: int, offset: int) -> tuple[float, float]:
    """Both paths over `messages` messages inside one guild day."""
    window = await next_day(s, clock, defs)
    result = await ingest(s, clock, messages, offset)
    assert clock.now() < window.end, "use fewer messages: each scenario must stay in one day"
    return result


async def leaderboard_latency(s, db, members: int = 50_000) -> dict[str, tuple[float, float, int]]:
    """Fill 50,000 members' scores and streaks (bulk inserts), then time board pages."""
    gid = G + 1
    window = await s.challenges.window(gid)
    alive = window.day.toordinal()
    await db["challenge_scores"].insert_many(
        [{"_id": f"{gid}:all:{u}", "guild_id": gid, "period": "all", "user_id": u, "n": u % 97}
         for u in range(members)], ordered=False)
    await db["challenge_streaks"].insert_many(
        [{"guild_id": gid, "user_id": u, "version": 1, "state": {}, "streak": u % 31,
          "last_n": alive - u % 4} for u in range(members)], ordered=False)
    out = {}
    for board in ("all-time", "streaks"):
        timings: dict[int, list[float]] = {1: [], members // 20: []}
        for _ in range(5):
            for page in timings:
                started = time.perf_counter()
                result = await s.challenges.leaderboard(gid, board, page=page)
                timings[page].append((time.perf_counter() - started) * 1000)
                assert result.rows
        first, deep = (statistics.median(t) for t in timings.values())
        out[board] = (first, deep, members)
    return out


async def bench(messages: int) -> None:
    clock = ManualClock()
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        results = {}
        for index, heavy in enumerate((False, True)):
            results[heavy] = await measure(s, clock, day_set(10_000, heavy=heavy), messages,
                                           offset=index * messages)
        # Completion cost: a target every member reaches with one message.
        await next_day(s, clock, day_set(1, heavy=True))
        for user in range(USERS):
            await s.challenge_progress.record_message(G, 1000 + user, 1, "a sapphire for me",
                                                      author_is_bot=False, at=clock.now())
        started = time.perf_counter()
        done = await s.challenge_progress.flush()
        completion_ms = (time.perf_counter() - started) * 1000 / max(1, len(done))
        board = await leaderboard_latency(s, store.db)
        report = await audit(s.db)
    print(f"{messages:,} messages per scenario, {USERS} members; earnings flushed every "
          f"{FLUSH_EVERY:,} messages, challenge progress every {PROGRESS_FLUSH_EVERY:,}")
    for heavy, (activity, progress) in results.items():
        name = "heavy day (2 message challenges)" if heavy else "typical day (1 message challenge)"
        alone, both = messages / activity, messages / (activity + progress)
        print(f"{name}:")
        print(f"  activity earning alone:           {alone:,.0f} messages/s")
        print(f"  activity + challenge progress:    {both:,.0f} messages/s")
        print(f"  ingest rate ratio (with/without): {both / alone:.3f} -> progress tracking adds "
              f"{progress / activity * 100:.1f} % to the ingest time (target <= 10 %)")
    for name, (first, deep, members) in board.items():
        print(f"leaderboard '{name}' at {members:,} members: first page {first:.1f} ms, "
              f"page {members // 20:,} {deep:.1f} ms (median of 5)")
    print(f"completing a challenge (reward, streak, weekly count, scores): {completion_ms:.1f} ms "
          f"each ({len(done):,} completions in one flush); audit: {'OK' if report.ok else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=48_000)
    args = parser.parse_args()
    asyncio.run(bench(args.messages))


if __name__ == "__main__":
    main()
