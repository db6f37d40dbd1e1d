"""Checking answers to knowledge challenges: forgiving about case, accents and small typos."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein

from economy.core.errors import InvalidInput

ANSWER_LIMIT = 200


def normalize(text: str) -> str:
    """Casefolded, accents removed, punctuation as spaces, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def allowed_typos(answer: str) -> int:
    """Edits tolerated for an accepted answer: none for short words, more for long ones."""
    if len(answer) <= 4:
        return 0
    return 1 if len(answer) <= 8 else 2


def check_answer_text(text: str | None) -> str:
    """The answer as submitted, validated (not empty, not huge); InvalidInput otherwise."""
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput("Your answer is empty. Type what you think the answer is.")
    if len(text) > ANSWER_LIMIT:
        raise InvalidInput(f"Answers can be at most {ANSWER_LIMIT} characters.")
    return text


def matches(given: str, accepted: tuple[str, ...]) -> bool:
    """Whether `given` is one of the accepted answers, allowing a typo or two on long words."""
    guess = normalize(given)
    if not guess:
        return False
    for answer in accepted:
        target = normalize(answer)
        if guess == target:
            return True
        limit = allowed_typos(target)
        if limit and Levenshtein.distance(guess, target, score_cutoff=limit) <= limit:
            return True
    return False
