"""/challenge, /challenge-admin and /profile timezone end to end through the sandbox."""

from __future__ import annotations

import pytest

from discord_sandbox import SandboxError
from tests.challenges.helpers import CHAT, QUIZ, REACT, fix_day
from tests.e2e_fixtures import balance

pytestmark = pytest.mark.timeout(60)


async def state(gc) -> tuple:
    """Money and every challenge collection, to prove a refusal changed nothing."""
    out = []
    for col in ("accounts", "ledger", "challenge_progress", "challenge_completions",
                "challenge_streaks", "challenge_defs", "member_prefs", "guild_settings"):
        docs = await gc.db[col].find({}, {"_id": 0, "updated_at": 0}).to_list()
        out.append(sorted(map(repr, docs)))
    return tuple(out)


async def answer(gc, who: str, cid: str, text: str):
    opened = await gc.slash(who, "challenge submit", challenge_id=cid)
    assert opened.modal, opened.text
    return await gc.sb.submit_modal(gc[who], opened, {"answer": text})


async def test_today_card_and_knowledge_answer(gc):
    await fix_day(gc.services, gc.guild.id)
    r = await gc.slash("alice", "challenge today")
    assert r.ephemeral and "challenges.png" in r.files and r.files["challenges.png"][:4] == b"\x89PNG"
    assert "Muzo green" in r.text and "quiz-test" in r.text and "0/5" in r.text
    wrong = await answer(gc, "alice", "quiz-test", "Brazil")
    assert wrong.ephemeral and "2 attempts left" in wrong.content
    right = await answer(gc, "alice", "quiz-test", "colômbia")
    assert "completed" in right.content and "💎 40 GEMS" in right.content
    assert await balance(gc, "alice") == 40
    hist = await gc.slash("alice", "challenge history")
    assert hist.ephemeral and "Muzo green" in hist.text and "streak: **1**" in hist.text


async def test_activity_challenges_complete_by_chat_and_reactions(gc):
    await fix_day(gc.services, gc.guild.id)
    posts = [await gc.say("bob", f"Look at this tourmaline number {i}") for i in range(3)]
    for i in range(5):
        await gc.say("alice", f"What a lovely stone, message {i}")
    await gc.say("otherbot", "beep boop beep boop")
    for post in posts:
        await gc.react("alice", post, "💎")
    await gc.react("alice", posts[0], "💎")  # the same reaction twice is no new reaction
    assert await balance(gc, "alice") == 0  # coalesced: nothing written yet
    live = await gc.slash("alice", "challenge today")  # ...but the member sees live counts
    assert "5/5" in live.text and "3/3" in live.text
    await gc.advance(seconds=11)
    assert await balance(gc, "alice") >= CHAT.reward + REACT.reward
    done = {d["challenge_id"] for d in await gc.db["challenge_completions"].find({}).to_list()}
    assert done == {CHAT.id, REACT.id}
    r = await gc.slash("alice", "challenge today")
    assert r.text.count("✅ done") == 2


async def test_restart_between_progress_and_completion_loses_nothing(gc):
    await fix_day(gc.services, gc.guild.id)
    for i in range(3):
        await gc.say("carol", f"Before the restart, gem talk {i}")
    await gc.restart_bot()  # a clean stop flushes pending progress
    doc = await gc.db["challenge_progress"].find_one({"challenge_id": CHAT.id})
    assert doc["count"] == 3
    for i in range(2):
        await gc.say("carol", f"After the restart, more gem talk {i}")
    await gc.advance(seconds=11)
    assert await gc.db["challenge_completions"].count_documents({"challenge_id": CHAT.id}) == 1
    rewards = await gc.db["ledger"].find({"kind": "reward", "user_id": gc["carol"].id}).to_list()
    assert [e["delta"] for e in rewards] == [CHAT.reward]


async def test_bad_input_is_refused_privately_and_changes_nothing(gc):
    await fix_day(gc.services, gc.guild.id)
    for _ in range(3):
        await answer(gc, "dave", "quiz-test", "Peru")
    opened = await gc.slash("erin", "challenge submit", challenge_id="quiz-test")
    before = await state(gc)
    cases = [
        ("alice", {"challenge_id": "nope"}, "not one of today's"),
        ("alice", {"challenge_id": CHAT.id}, "counted automatically"),
        ("dave", {"challenge_id": "quiz-test"}, "all 3 attempts"),
    ]
    for who, options, expected in cases:
        r = await gc.slash(who, "challenge submit", **options)
        assert r.ephemeral and expected in r.content, r.content
    with pytest.raises(SandboxError):  # Discord refuses an empty or over-long answer client-side
        await gc.sb.submit_modal(gc["erin"], opened, {"answer": ""})
    with pytest.raises(SandboxError):
        await gc.sb.submit_modal(gc["erin"], opened, {"answer": "x" * 10_000})
    r = await gc.slash("alice", "profile timezone", zone="Mars/Olympus_Mons")
    assert r.ephemeral and "don't know the time zone" in r.content
    r = await gc.slash("bob", "challenge-admin retire", challenge_id="quiz-beryl")
    assert r.ephemeral and "Only admins" in r.content
    assert await state(gc) == before
    # The day ends while erin's answer form is open: yesterday's challenge is refused.
    await gc.advance(hours=24)
    before = await state(gc)
    late = await gc.sb.submit_modal(gc["erin"], opened, {"answer": "Colombia"})
    assert late.ephemeral and "not one of today's" in late.content
    assert await state(gc) == before


async def test_admin_adds_lists_and_retires(gc):
    before = await state(gc)
    opened = await gc.slash("admin", "challenge-admin add", kind="messages", difficulty="easy", reward=20)
    zero = await gc.sb.submit_modal(gc["admin"], opened, {"title": "Chatty", "description": "Talk",
                                                          "target": "0"})
    assert zero.ephemeral and "at least 1" in zero.content
    opened = await gc.slash("admin", "challenge-admin add", kind="knowledge", difficulty="hard", reward=20)
    empty = await gc.sb.submit_modal(gc["admin"], opened, {"title": "Club stone", "description": "Which?",
                                                           "answers": "  "})
    assert empty.ephemeral and "accepted answer" in empty.content
    assert await state(gc) == before
    denied = await gc.slash("bob", "challenge-admin add", kind="messages", difficulty="easy", reward=5)
    assert denied.ephemeral and "Only admins" in denied.content
    opened = await gc.slash("admin", "challenge-admin add", kind="knowledge", difficulty="hard", reward=20)
    made = await gc.sb.submit_modal(gc["admin"], opened, {"title": "Club stone <@&1>",
                                                          "description": "Which gem is our emblem?",
                                                          "answers": "opal\nboulder opal"})
    assert "Added challenge `c1`" in made.content and made.message.allowed_mentions == {"parse": []}
    pool = await gc.slash("admin", "challenge-admin pool", page=1)
    assert pool.ephemeral and "`c1`" in pool.text
    gone = await gc.slash("admin", "challenge-admin retire", challenge_id="c1")
    assert "Retired `c1`" in gone.content
    assert "c1" not in await gc.services.challenges.pool(gc.guild.id)
    assert gc.sb.synced_commands is not None


async def test_member_time_zone(gc):
    r = await gc.slash("alice", "profile timezone")
    assert "server's time zone (`UTC`)" in r.content
    r = await gc.slash("alice", "profile timezone", zone="Europe/Paris")
    assert r.ephemeral and "Europe/Paris" in r.content
    zone = await gc.services.member_prefs.member_zone(gc.guild.id, gc["alice"].id)
    assert zone.key == "Europe/Paris"
    assert (await gc.services.member_prefs.member_zone(gc.guild.id, gc["bob"].id)).key == "UTC"
    choices = await gc.sb.autocomplete(gc["alice"], "profile timezone", "zone", "paris")
    assert [c["value"] for c in choices] == ["Europe/Paris"]
    r = await gc.slash("alice", "profile timezone", zone="reset")
    assert "follows the server's" in r.content
    assert (await gc.services.member_prefs.member_zone(gc.guild.id, gc["alice"].id)).key == "UTC"


async def test_thank_helper_context_menu(gc):
    from tests.challenges.helpers import HELP
    await fix_day(gc.services, gc.guild.id, defs=(QUIZ, CHAT, HELP))
    first = await gc.sb.user_command(gc["alice"], "Thank helper", gc["bob"])
    assert not first.ephemeral and "thanked" in first.content
    assert first.message.allowed_mentions == {"parse": []}
    before = await state(gc)
    for who, target, expected in [
        ("alice", "bob", "already thanked"),
        ("alice", "alice", "can't thank yourself"),
        ("alice", "otherbot", "Bots can't be thanked"),
    ]:
        r = await gc.sb.user_command(gc[who], "Thank helper", gc[target])
        assert r.ephemeral and expected in r.content, r.content
    assert await state(gc) == before
    second = await gc.sb.user_command(gc["carol"], "Thank helper", gc["bob"])
    assert "completed" in second.content and "💎 60 GEMS" in second.content
    rewards = await gc.db["ledger"].find({"kind": "reward", "user_id": gc["bob"].id}).to_list()
    assert [e["delta"] for e in rewards] == [HELP.reward]
    # A new day: the same pair may thank again.
    await gc.advance(hours=24)
    again = await gc.sb.user_command(gc["alice"], "Thank helper", gc["bob"])
    assert not again.ephemeral


async def test_voice_minutes_count_across_a_restart(gc):
    from discord_sandbox import ChannelType
    from tests.challenges.helpers import VOICE
    await fix_day(gc.services, gc.guild.id, defs=(QUIZ, VOICE, CHAT))
    lounge = gc.sb.create_channel(gc.guild, "gem-id-lounge", type=ChannelType.VOICE)
    await gc.sb.voice(gc["bob"], lounge)
    await gc.sb.voice(gc["carol"], lounge, self_deaf=True)  # deafened: not counted
    await gc.sb.voice(gc["otherbot"], lounge)  # bots never count
    with pytest.raises(SandboxError):
        await gc.sb.voice(gc["dave"], gc.general)  # not a voice channel
    await gc.advance(minutes=10)
    doc = await gc.db["challenge_progress"].find_one({"challenge_id": VOICE.id})
    assert doc["user_id"] == gc["bob"].id and doc["count"] == 10
    await gc.restart_bot()  # bob stays in voice; the new process sees him in GUILD_CREATE
    await gc.advance(minutes=3)
    live = await gc.slash("bob", "challenge today")
    assert "13/15" in live.text
    await gc.advance(minutes=3)
    done = await gc.db["challenge_completions"].find({"challenge_id": VOICE.id}).to_list()
    assert [d["user_id"] for d in done] == [gc["bob"].id]
    await gc.sb.voice(gc["bob"], None)  # leaving stops the count
    assert gc.bot.services.challenge_progress.in_voice() == 0
