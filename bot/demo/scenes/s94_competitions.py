"""The challenge pool an admin curates, and a timed competition with prizes."""

from __future__ import annotations

ORDER = 94
TITLE = "Challenge competitions and the server's challenge pool"


async def _answer(t, gc, who: str, quiz) -> None:
    opened = await t.slash(who, "challenge submit", challenge_id=quiz.id)
    t.act(who, f"answers in the form: {quiz.answers[0]}")
    t.answer(await gc.sb.submit_modal(gc[who], opened, {"answer": quiz.answers[0]}))


async def play(t, gc) -> None:
    """Pool: list, add a custom quiz, retire one; a 24-hour 'most completions' competition."""
    room = gc.sb.create_channel(gc.guild, "challenges")
    await gc.sb.settle()
    await t.slash("admin", "settings set", key="challenge_channel_id", value=f"<#{room.id}>")
    await t.slash("admin", "challenge-admin pool")
    opened = await t.slash("admin", "challenge-admin add", kind="knowledge", difficulty="easy",
                           reward=20)
    t.act("admin", "fills in the form: Birthstone of January? (garnet)")
    added = await gc.sb.submit_modal(gc["admin"], opened, {
        "Title": "January's stone", "Description (the question, for knowledge)":
        "Which gem is the birthstone of January?", "Accepted answers (knowledge; one per line)":
        "garnet"})
    t.answer(added)
    await t.slash("admin", "challenge-admin retire", challenge_id="voice-gem-id")

    started = await t.slash("admin", "challenge-admin competition", kind="any", mode="most",
                            duration="24h", prize=40, places=2)
    t.check(not started.ephemeral or "competition" in started.text.lower(),
            "the admin starts a competition")
    _, defs = await gc.services.challenges.todays_set(gc.guild.id)
    quiz = next((c for c in defs if c.type == "knowledge"), None)
    if quiz is not None:
        for who in ("alice", "dave"):
            await _answer(t, gc, who, quiz)
    await t.slash("bob", "challenge competitions")
    t.note("A day later the competition closes: the winners are announced and paid.")
    await t.advance(hours=24, minutes=5)
    results = [m.content for m in gc.sb.channel_messages(room) if "Competition #1" in m.content]
    t.check(len(results) == 1, "the competition's result is posted once in #challenges")
    await t.slash("bob", "challenge competitions", number=1)
