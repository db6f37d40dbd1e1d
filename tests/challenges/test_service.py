"""Challenge service against the embedded store: answers, attempts, completions, progress."""

from __future__ import annotations

import asyncio

import pytest

from economy.challenges.repo import ChallengeRepo
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.services import build_services
from tests.challenges.helpers import CHAT, QUIZ, REACT, fix_day
from tests.depth import deep

pytestmark = pytest.mark.timeout(60)
G = 42


async def _snapshot(services):
    db = services.db
    cols = ["ledger", "accounts", "challenge_progress", "challenge_completions", "challenge_streaks",
            "challenge_defs"]
    return {c: sorted(map(repr, await db[c].find({}, {"_id": 0}).to_list())) for c in cols}


async def test_knowledge_answer_attempts_and_reward(services):
    await fix_day(services, G)
    ch = services.challenges
    wrong = await ch.answer(G, 1, "quiz-test", "Brazil")
    assert not wrong.correct and wrong.attempts_left == 2
    right = await ch.answer(G, 1, "quiz-test", "colômbia")
    assert right.correct and right.completion and right.completion.reward == 40
    assert await services.ledger.balance(G, 1) == 40
    before = await _snapshot(services)
    with pytest.raises(InvalidInput, match="already completed"):
        await ch.answer(G, 1, "quiz-test", "Colombia")
    for _ in range(3):
        await ch.answer(G, 2, "quiz-test", "Peru")
    before = await _snapshot(services)
    with pytest.raises(InvalidInput, match="all 3 attempts"):
        await ch.answer(G, 2, "quiz-test", "Colombia")
    assert await _snapshot(services) == before


async def test_bad_answers_change_nothing(services):
    await fix_day(services, G)
    before = await _snapshot(services)
    cases = [("quiz-test", ""), ("quiz-test", "x" * 10_000), ("nope", "Colombia"),
             ("chat-test", "hello")]
    for cid, text in cases:
        with pytest.raises((InvalidInput, NotFound)):
            await services.challenges.answer(G, 1, cid, text)
    assert await _snapshot(services) == before


async def test_concurrent_answers_never_exceed_the_limit(services):
    await fix_day(services, G)
    ch = services.challenges
    await ch.answer(G, 1, "quiz-test", "Peru")
    await ch.answer(G, 1, "quiz-test", "Chile")

    async def attempt(text):
        try:
            return await ch.answer(G, 1, "quiz-test", text)
        except InvalidInput as error:
            return error

    results = await asyncio.gather(*(attempt("Colombia") for _ in range(8)))
    correct = [r for r in results if not isinstance(r, Exception) and r.correct]
    assert len(correct) == 1  # one attempt was left; the rest are refused
    doc = await services.db["challenge_progress"].find_one({"user_id": 1})
    assert doc["attempts"] == 3
    # Another process (no in-memory guard) racing on the last attempts: the DB guard holds.
    other = build_services(services.db, services.clock)
    await fix_day(services, G + 1)
    await ch.answer(G + 1, 5, "quiz-test", "Peru")
    results = await asyncio.gather(
        *(svc.challenges.answer(G + 1, 5, "quiz-test", "Chile") for svc in (services, other, services, other)),
        return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 2
    assert (await services.db["challenge_progress"].find_one({"guild_id": G + 1}))["attempts"] == 3


@pytest.mark.slow
async def test_hundreds_of_members_complete_concurrently(services):
    n = deep(60, 500)
    await fix_day(services, G)
    ch = services.challenges
    results = await asyncio.gather(*(ch.answer(G, uid, "quiz-test", "Colombia") for uid in range(1, n + 1)))
    assert all(r.correct and r.completion for r in results)
    # Replays (double clicks, a second process) pay nothing more.
    day = (await ch.window(G)).key
    again = await asyncio.gather(*(ch.complete(G, uid, day, QUIZ) for uid in range(1, n + 1)))
    assert all(r is None for r in again)
    entries = await services.db["ledger"].count_documents({"guild_id": G, "kind": "reward",
                                                            "ref": "challenge:quiz-test"})
    assert entries == n
    assert await services.db["challenge_completions"].count_documents({"guild_id": G}) == n
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_progress_is_coalesced_and_survives_a_restart(services, clock):
    await fix_day(services, G)
    prog = services.challenge_progress
    for i in range(3):
        await prog.record_message(G, 1, 10, f"message number {i}", author_is_bot=False, at=clock.now())
    await prog.record_message(G, 1, 10, "message number 2", author_is_bot=False, at=clock.now())  # repeat
    await prog.record_message(G, 2, 10, "i am a bot", author_is_bot=True, at=clock.now())
    await prog.record_message(G, 1, 10, "hi", author_is_bot=False, at=clock.now())  # too short
    assert prog.pending_count() == 3
    assert await services.db["challenge_progress"].count_documents({}) == 0  # nothing written yet
    assert await prog.flush() == []
    assert (await services.db["challenge_progress"].find_one({"user_id": 1}))["count"] == 3
    # A new process (restart): in-memory state is gone, stored progress is not.
    fresh = build_services(services.db, clock)
    for i in range(2):
        await fresh.challenge_progress.record_message(G, 1, 10, f"after restart {i}",
                                                      author_is_bot=False, at=clock.now())
    done = await fresh.challenge_progress.flush()
    assert [c.challenge_id for c in done] == ["chat-test"]
    assert await services.ledger.balance(G, 1) == 50
    for i in range(4):
        await fresh.challenge_progress.record_message(G, 1, 10, f"more {i}", author_is_bot=False,
                                                      at=clock.now())
    assert await fresh.challenge_progress.flush() == []  # completed once


async def test_crash_between_completion_and_payment_is_settled(services, clock):
    day = await fix_day(services, G)
    # The completion was recorded, then the process died before the ledger write.
    await ChallengeRepo(services.db).insert_completion({
        "guild_id": G, "user_id": 7, "day": day, "challenge_id": "chat-test", "type": "activity",
        "title": "Talk shop", "reward": 50, "at_ms": 1, "week": "2026-W02", "paid": False})
    fresh = build_services(services.db, clock)
    await fresh.challenge_progress.sweep([G])
    await fresh.challenge_progress.sweep([G])
    assert await services.ledger.balance(G, 7) == 50
    # (nx-27017 returns a boolean written by `$set` as 1; MongoDB returns True)
    assert (await services.db["challenge_completions"].find_one({"user_id": 7}))["paid"]


async def test_reactions_count_only_for_others_messages(services, clock):
    await fix_day(services, G)
    prog = services.challenge_progress
    for _ in range(2):
        await prog.record_reaction(G, 3, 10, author_is_bot=False, own_message=False, at=clock.now())
    await prog.record_reaction(G, 3, 10, author_is_bot=False, own_message=True, at=clock.now())
    await prog.flush()
    assert await services.ledger.balance(G, 3) == 0
    await prog.record_reaction(G, 3, 10, author_is_bot=False, own_message=False, at=clock.now())
    done = await prog.flush()
    assert [c.challenge_id for c in done] == [REACT.id]


async def test_custom_challenges_and_retire(services, clock):
    admin = Actor(1, is_admin=True)
    before = await _snapshot(services)
    with pytest.raises(NotPermitted):
        await services.challenges.add_custom(G, Actor(2), {"type": "activity", "metric": "messages",
                                                           "target": 5, "title": "Chat", "description": "Chat"})
    with pytest.raises(InvalidInput, match="target"):
        await services.challenges.add_custom(G, admin, {"type": "activity", "metric": "messages",
                                                        "target": 0, "title": "Chat", "description": "Chat now"})
    with pytest.raises(InvalidInput, match="accepted answer"):
        await services.challenges.add_custom(G, admin, {"type": "knowledge", "answers_text": " \n ",
                                                        "title": "Quiz", "description": "What?"})
    assert await _snapshot(services) == before
    made = await services.challenges.add_custom(G, admin, {
        "type": "knowledge", "answers_text": "opal\nopals", "title": "Our club stone",
        "description": "Which gem is our club's emblem?", "reward": 70, "difficulty": "easy"})
    assert made.id == "c1" and made.answers == ("opal", "opals")
    pool = await services.challenges.pool(G)
    assert "c1" in pool and "quiz-beryl" in pool
    await services.challenges.retire(G, admin, "quiz-beryl")
    await services.challenges.retire(G, admin, "c1")
    pool = await services.challenges.pool(G)
    assert "c1" not in pool and "quiz-beryl" not in pool
    with pytest.raises(NotFound):
        await services.challenges.retire(G, admin, "quiz-beryl")


async def test_two_processes_draw_the_same_set(services, clock):
    other = build_services(services.db, clock)
    a, b = await asyncio.gather(services.challenges.todays_set(G), other.challenges.todays_set(G))
    assert [c.id for c in a[1]] == [c.id for c in b[1]] and len(a[1]) == 3
    assert await services.db["challenge_days"].count_documents({"guild_id": G}) == 1
    assert {c.id for c in a[1]}.isdisjoint({CHAT.id, QUIZ.id})


async def test_two_processes_sweeping_complete_each_member_once(services, clock):
    day = await fix_day(services, G)
    # Progress written by some process (flushed), completion not made yet (it crashed).
    await ChallengeRepo(services.db).add_progress(G, day, {(CHAT.id, uid): 6 for uid in range(1, 41)})
    other = build_services(services.db, clock)
    results = await asyncio.gather(services.challenge_progress.sweep([G]),
                                   other.challenge_progress.sweep([G]))
    assert sum(len(r) for r in results) == 40
    rewards = await services.db["ledger"].count_documents({"guild_id": G, "kind": "reward"})
    assert rewards == 40
    assert await services.db["challenge_completions"].count_documents({"guild_id": G}) == 40
    report = await audit(services.db)
    assert report.ok, report.render()
