"""What challenge progress tracking costs the chat ingest path, measured in one run.

The activity-earning ingest (rules + in-memory accumulation, plus the periodic flush that writes
it) is timed alone and with challenge progress tracking added (today's message challenges counted
in memory, `$inc`ed in bulk at each flush, plus the due-completion query). Rounds alternate
A/B/A/B on the same store so machine noise hits both; the ratio of the medians is the figure to
compare (target: progress tracking adds at most 10 %). Targets are set out of reach in those
rounds: completing a challenge is a reward payment (ledger transaction, streak, weekly count),
which happens at most K times per member and day, so its cost is measured separately.

Run: `.venv/bin/python bench/challenges_bench.py [--messages 20000] [--rounds 3]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.store import open_store
from economy.activity import ChatMessage
from economy.audit import audit
from economy.challenges.days import to_ms
from economy.challenges.pool import ChallengeDef
from economy.clock import ManualClock
from economy.migrations import Migrator
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


async def ingest(s, clock, messages: int, offset: int, *, challenges: bool) -> float:
    """Messages per second through the ingest path (including its flushes)."""
    started = time.perf_counter()
    for i in range(messages):
        clock.advance(seconds=0.7)
        user = 1000 + i % USERS
        content = f"message number {offset + i} about a sapphire"
        now = clock.now()
        await s.activity.record(ChatMessage(
            guild_id=G, user_id=user, channel_id=1 + i % 2, role_ids=frozenset(),
            content=content, author_is_bot=False, at=now))
        if challenges:
            await s.challenge_progress.record_message(G, user, 1 + i % 2, content,
                                                      author_is_bot=False, at=now)
        if (i + 1) % FLUSH_EVERY == 0:
            await s.activity.flush()
        if challenges and (i + 1) % PROGRESS_FLUSH_EVERY == 0:
            await s.challenge_progress.flush()
    await s.activity.flush()
    if challenges:
        await s.challenge_progress.flush()
    return messages / (time.perf_counter() - started)


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


async def measure(s, clock, defs, per_round: int, rounds: int, offset: int) -> tuple[list, list]:
    """Alternate rounds without and with progress tracking inside one guild day."""
    window = await next_day(s, clock, defs)
    plain, tracked = [], []
    for _ in range(rounds):
        plain.append(await ingest(s, clock, per_round, offset, challenges=False))
        offset += per_round
        tracked.append(await ingest(s, clock, per_round, offset, challenges=True))
        offset += per_round
    assert clock.now() < window.end, "use fewer messages: each scenario must stay in one day"
    return plain, tracked


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


async def bench(messages: int, rounds: int) -> None:
    clock = ManualClock()
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        per_round = messages // (2 * rounds)
        results = {}
        for index, heavy in enumerate((False, True)):
            results[heavy] = await measure(s, clock, day_set(10_000, heavy=heavy), per_round,
                                           rounds, offset=index * messages)
        # Completion cost: a target every member reaches with one message.
        await next_day(s, clock, day_set(1, heavy=True))
        for user in range(USERS):
            await s.challenge_progress.record_message(G, 1000 + user, 1, "a sapphire for me",
                                                      author_is_bot=False, at=clock.now())
        started = time.perf_counter()
        done = await s.challenge_progress.flush()
        completion_ms = (time.perf_counter() - started) * 1000 / max(1, len(done))
        board = await leaderboard_latency(s, store.db)
        report = await audit(s.ledger_repo)
    print(f"messages per round: {per_round:,} ({USERS} members; earnings flushed every "
          f"{FLUSH_EVERY:,} messages, progress every {PROGRESS_FLUSH_EVERY:,})")
    for heavy, (plain, tracked) in results.items():
        a, b = statistics.median(plain), statistics.median(tracked)
        name = "heavy day (2 message challenges)" if heavy else "typical day (1 message challenge)"
        print(f"{name}:")
        print(f"  activity earning alone:          {a:,.0f} messages/s  (rounds: "
              + ", ".join(f"{r:,.0f}" for r in plain) + ")")
        print(f"  activity + challenge progress:   {b:,.0f} messages/s  (rounds: "
              + ", ".join(f"{r:,.0f}" for r in tracked) + ")")
        print(f"  ingest rate ratio (with/without): {b / a:.3f} -> progress tracking adds "
              f"{(a / b - 1) * 100:.1f} % time per message (target <= 10 %)")
    for name, (first, deep, members) in board.items():
        print(f"leaderboard '{name}' at {members:,} members: first page {first:.1f} ms, "
              f"page {members // 20:,} {deep:.1f} ms (median of 5)")
    print(f"completing a challenge (reward, streak, weekly count): {completion_ms:.1f} ms each "
          f"({len(done):,} completions in one flush); audit: {'OK' if report.ok else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=96_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(bench(args.messages, args.rounds))


if __name__ == "__main__":
    main()
