"""The daily draw: K challenges per guild and day, deterministic, varied, without recent repeats.

The random generator is seeded by (guild, day), and candidates are taken in id order, so two
processes (or one process before and after a restart) looking at the same pool and history draw
the same set. The stored draw (one document per guild and day) is what everyone then uses.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from datetime import date

from economy.challenges.pool import ChallengeDef

DIFFICULTY_CYCLE = ("easy", "medium", "hard")


def seed_for(guild_id: int, day: date) -> int:
    """A stable seed for a guild's day (not Python's salted hash)."""
    digest = hashlib.sha256(f"challenges:{guild_id}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(
    pool: Sequence[ChallengeDef], *, guild_id: int, day: date, count: int,
    recent: Iterable[str] = (), types: Iterable[str] | None = None,
) -> list[ChallengeDef]:
    """Pick `count` challenges for `day`.

    Rules, in order of strength: only `types` (those the bot can validate), out-of-season ones
    never, nothing drawn in `recent` days unless the pool runs dry, then one challenge per type
    before a type repeats, with difficulties spread easy/medium/hard, and seasonal challenges
    preferred while in season.
    """
    allowed = set(types) if types is not None else None
    rng = random.Random(seed_for(guild_id, day))
    eligible = sorted(
        (c for c in pool if (allowed is None or c.type in allowed) and c.in_season(day)),
        key=lambda c: c.id,
    )
    recent_ids = set(recent)
    fresh = [c for c in eligible if c.id not in recent_ids]
    stale = [c for c in eligible if c.id in recent_ids]
    chosen: list[ChallengeDef] = []
    used_types: set[str] = set()
    difficulties = list(DIFFICULTY_CYCLE)
    rng.shuffle(difficulties)
    for slot in range(count):
        wanted = difficulties[slot % len(difficulties)]
        pick = None
        for candidates in (fresh, stale):
            pick = _pick(rng, candidates, chosen, used_types, wanted)
            if pick is not None:
                break
        if pick is None:
            break
        chosen.append(pick)
        used_types.add(pick.type)
    return chosen


def _pick(
    rng: random.Random, candidates: list[ChallengeDef], chosen: list[ChallengeDef],
    used_types: set[str], difficulty: str,
) -> ChallengeDef | None:
    taken = {c.id for c in chosen}
    left = [c for c in candidates if c.id not in taken]
    if not left:
        return None
    # A type not drawn yet first (chosen uniformly, so the big knowledge pool does not crowd out
    # the others), then the wanted difficulty, then seasonal challenges while in season.
    new_types = sorted({c.type for c in left} - used_types)
    if new_types:
        kind = rng.choice(new_types)
        left = [c for c in left if c.type == kind]
    tier = [c for c in left if c.difficulty == difficulty] or left
    seasonal = [c for c in tier if c.season is not None]
    return rng.choice(seasonal or tier)
