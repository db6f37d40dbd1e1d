"""The profile's models: the parts a member can hide, and what a profile shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from economy.badges.models import Award

#: The parts of a profile a member can hide from others ("all": the whole profile), with how
#: members read them. Their own profile always shows everything to themselves.
PARTS: dict[str, str] = {
    "all": "your whole profile",
    "balance": "balance and rank",
    "streak": "daily streak",
    "badges": "badges and showcase",
    "trading": "seller rating",
    "mentoring": "mentor level",
    "nft": "NFT holdings",
    "season": "season standing",
}


@dataclass(frozen=True)
class SeasonStanding:
    """Where a member stands in the running (or last) season."""

    name: str
    position: int | None  # None: not on the board (beyond its first BOARD_DEPTH)
    earned: int
    running: bool


@dataclass(frozen=True)
class NftStanding:
    """A member's linked wallets and the NFT rules (by role) they hold."""

    wallets: int
    rule_roles: tuple[int, ...] = ()


@dataclass(frozen=True)
class ProfileView:
    """What a viewer may see of a member's profile; a hidden or empty part is None."""

    user_id: int
    own: bool
    hidden: frozenset[str] = frozenset()
    balance: int | None = None
    rank: int | None = None
    daily_streak: int | None = None
    badges_held: int | None = None
    showcase: tuple[Award, ...] = ()
    rating_average: float | None = None
    ratings: int | None = None
    completed_trades: int | None = None
    mentor_level: tuple[int, str] | None = None
    nft: NftStanding | None = None
    season: SeasonStanding | None = None
    #: The parts the viewer cannot see (hidden by the member), for the "hidden" notes.
    withheld: frozenset[str] = field(default_factory=frozenset)
