"""The badges' models: a badge design, its award rule, a member's award."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RARITIES = ("common", "rare", "epic", "legendary")
Rarity = Literal["common", "rare", "epic", "legendary"]
#: What a rule counts (economy/badges/rules.py says where each number comes from).
Fact = Literal["sales", "trades", "daily_streak", "earned", "events_attended", "challenges",
               "guides", "well_rated_trades", "event_wins", "season_podiums", "mentorships",
               "nft_holder"]
#: Badges a member pins on their profile.
SHOWCASE_MAX = 3
#: Custom badges one server may create.
CUSTOM_MAX = 100


class Rule(BaseModel):
    """Award the badge when `fact` reaches `at_least`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    fact: Fact
    at_least: int = Field(ge=1, le=10**12)


class Badge(BaseModel):
    """A badge design: shipped (`key` from data/badges) or a server's own (`key` "c<no>")."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    name: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=200)
    emoji: str = Field(min_length=1, max_length=64)
    rarity: Rarity
    rule: Rule | None = None
    #: Limited edition: at most this many members hold it (None = unlimited).
    supply: int | None = Field(None, ge=1, le=100_000)
    #: The custom badge's number in its server (its editions' owner in `cap_slots`); None when shipped.
    no: int | None = None
    #: Its editions are collectibles members trade on the marketplace (soulbound when False).
    tradeable: bool = False

    @property
    def custom(self) -> bool:
        """True for a server's own badge."""
        return self.no is not None


class Award(BaseModel):
    """One member holds one badge."""

    model_config = ConfigDict(frozen=True)
    badge: Badge
    user_id: int
    at_ms: int
    serial: int | None = None
    #: The award's `_id` ("<guild>:<badge>:<member>"; "<guild>:<badge>#<serial>" once traded).
    award_id: str = ""
    by: int | None = None
    reason: str | None = None
    reward: int = 0
    role_id: int | None = None
    #: pending -> given | failed (the bot gives the role; None when the badge gives none)
    role_state: str | None = None

    @property
    def collectible(self) -> bool:
        """A numbered edition of a tradeable badge (the member may sell it)."""
        return self.badge.tradeable and self.serial is not None

    @property
    def edition_id(self) -> str | None:
        """The edition's id a listing names ("c3#17"), or None for a badge that is no edition."""
        return f"{self.badge.key}#{self.serial}" if self.serial is not None else None


class RuleState(BaseModel):
    """A server's choice for one automatic badge: on or off, and the GEMS it pays."""

    model_config = ConfigDict(frozen=True)
    key: str
    enabled: bool = True
    reward: int | None = None  # None: the server's default (badge_reward_default)
    role_id: int | None = None  # a role given with the badge (by the bot, `badge-roles` job)
