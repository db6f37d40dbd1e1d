"""Challenge definitions: the shipped pool (data/challenges/*.json) and custom ones.

A definition says what a member must do (type + metric + target, or a question and its accepted
answers), how hard it is and what it pays. Definitions are validated the same way whether they
come from the shipped files or from an admin's modal, so a bad custom challenge is refused with
a friendly message before anything is stored.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from economy.core.errors import InvalidInput

POOL_DIR = Path(__file__).resolve().parents[2] / "data" / "challenges"

ChallengeType = Literal["activity", "knowledge", "creativity", "community"]
Metric = Literal["messages", "reactions", "voice_minutes", "answer", "votes", "thanks"]
Difficulty = Literal["easy", "medium", "hard"]

TYPE_METRICS: dict[str, tuple[str, ...]] = {
    "activity": ("messages", "reactions", "voice_minutes"),
    "knowledge": ("answer",),
    "creativity": ("votes",),
    "community": ("thanks",),
}
MAX_TARGET = 10_000
MAX_REWARD = 100_000
MAX_ANSWERS = 20
ANSWER_MAX = 100


class Season(BaseModel):
    """A yearly window `MM-DD`..`MM-DD` (inclusive; may wrap over the new year)."""

    model_config = ConfigDict(frozen=True)

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", value):
            raise ValueError("use MM-DD")
        return value

    def contains(self, day: date) -> bool:
        """Whether `day` falls inside the season."""
        md = day.strftime("%m-%d")
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


class ChallengeDef(BaseModel):
    """One challenge a guild can draw."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    type: ChallengeType
    metric: Metric = "answer"
    title: str = Field(min_length=3, max_length=80)
    description: str = Field(min_length=3, max_length=300)
    target: int = Field(1, ge=1, le=MAX_TARGET)
    difficulty: Difficulty = "medium"
    reward: int = Field(50, ge=1, le=MAX_REWARD)
    answers: tuple[str, ...] = ()
    attempts: int = Field(3, ge=1, le=10)
    channels: tuple[int, ...] = ()
    season: Season | None = None
    custom: bool = False

    @field_validator("title", "description")
    @classmethod
    def _collapse(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("answers")
    @classmethod
    def _clean_answers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(" ".join(a.split()) for a in value if a and a.strip()))
        if len(cleaned) > MAX_ANSWERS:
            raise ValueError(f"at most {MAX_ANSWERS} accepted answers")
        if any(len(a) > ANSWER_MAX for a in cleaned):
            raise ValueError(f"each accepted answer can be at most {ANSWER_MAX} characters")
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> ChallengeDef:
        if self.type == "knowledge":
            if self.metric != "answer":
                raise ValueError("a knowledge challenge is answered, it has no other metric")
            if not self.answers:
                raise ValueError("a knowledge challenge needs at least one accepted answer")
        elif self.metric not in TYPE_METRICS[self.type]:
            raise ValueError(f"a {self.type} challenge counts {', '.join(TYPE_METRICS[self.type])}")
        return self

    @property
    def counted(self) -> bool:
        """Progress is counted from events (messages, reactions, voice minutes, thanks), not
        judged from a submission."""
        return self.type in ("activity", "community")

    def in_season(self, day: date) -> bool:
        """True for challenges without a season, or when `day` is in it."""
        return self.season is None or self.season.contains(day)

    def progress_label(self) -> str:
        """What the target counts, for display."""
        return {"messages": "messages", "reactions": "reactions given",
                "voice_minutes": "minutes in voice", "answer": "correct answer",
                "votes": "votes", "thanks": "thanks"}[self.metric]


def parse_def(data: dict) -> ChallengeDef:
    """Validate a definition; InvalidInput with the first problem in plain words."""
    try:
        return ChallengeDef.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        reason = error["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"That challenge is not valid: {where + ': ' if where else ''}{reason}.") from None


@cache
def shipped_pool(directory: Path = POOL_DIR) -> tuple[ChallengeDef, ...]:
    """Every shipped challenge, in id order (read once per process)."""
    defs: dict[str, ChallengeDef] = {}
    for path in sorted(directory.glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")):
            challenge = ChallengeDef.model_validate(raw)
            if challenge.id in defs:
                raise ValueError(f"duplicate challenge id {challenge.id} in {path.name}")
            defs[challenge.id] = challenge
    return tuple(sorted(defs.values(), key=lambda c: c.id))
