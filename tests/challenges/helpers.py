"""Helpers for challenge tests: a fixed day's set, handy definitions."""

from __future__ import annotations

from economy.challenges.days import to_ms
from economy.challenges.pool import ChallengeDef
from economy.challenges.repo import ChallengeRepo

QUIZ = ChallengeDef(id="quiz-test", type="knowledge", title="Muzo green", reward=40, attempts=3,
                    description="In which country are the Muzo emerald mines?",
                    answers=("Colombia",), difficulty="easy")
CHAT = ChallengeDef(id="chat-test", type="activity", metric="messages", target=5, reward=50,
                    title="Talk shop", description="Send 5 messages.", difficulty="easy")
REACT = ChallengeDef(id="react-test", type="activity", metric="reactions", target=3, reward=30,
                     title="Applause", description="Give 3 reactions.", difficulty="easy")

HELP = ChallengeDef(id="help-test", type="community", metric="thanks", target=2, reward=60,
                    title="Answer two questions", description="Be thanked by two members.",
                    difficulty="medium")

VOICE = ChallengeDef(id="voice-test", type="activity", metric="voice_minutes", target=15,
                     reward=45, title="Gem-ID hour", description="15 minutes in voice.",
                     difficulty="easy")

ART = ChallengeDef(id="art-test", type="creativity", metric="votes", target=2, reward=80,
                   title="My favourite cabochon", description="Photo and one line.",
                   difficulty="easy")


async def fix_day(services, guild_id: int, defs=(QUIZ, CHAT, REACT), at=None) -> str:
    """Store today's draw for a guild (as the draw would), so a test knows the set."""
    window = await services.challenges.window(guild_id, at)
    assert await ChallengeRepo(services.db).insert_day({
        "guild_id": guild_id, "day": window.key, "start_ms": to_ms(window.start),
        "end_ms": to_ms(window.end), "challenge_ids": [c.id for c in defs],
        "defs": [c.model_dump(mode="json") for c in defs], "announced": False, "drawn_ms": 0}), \
        "today's set was already drawn"
    return window.key
