"""Profiles: what a member shows of themselves (standing, streak, badges, seller rating, mentor
level, NFT holdings, season standing), and what they hide.

A member sees all of their own profile. Others see what the member did not hide; a profile
hidden as a whole ("all") is refused to others with a clear message. The profile only reads:
every number comes from the feature that owns it (the ledger, badges, ratings, seasons...).
"""

from __future__ import annotations

import asyncio
from typing import Any

from economy.badges.models import Award
from economy.core.clock import Clock, to_ms
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService
from economy.core.modules import is_on, require_on
from economy.core.settings import SettingsService
from economy.mentorship.models import mentor_level
from economy.profile.models import PARTS, NftStanding, ProfileView, SeasonStanding
from economy.profile.repo import ProfileRepo

#: How deep the season board is read to find a member's position.
BOARD_DEPTH = 100
#: The feature a profile part comes from (a switched-off feature's part is left out).
_FEATURE_OF = {"badges": "badges", "trading": "trades", "mentoring": "mentorship", "nft": "nft",
               "season": "seasons"}


class ProfileHidden(NotPermitted):
    """The member hides their profile (or that part of it) from others."""


class ProfileService:
    """Members' profiles in every server."""

    def __init__(self, repo: ProfileRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, *, badges: Any, ratings: Any, seasons: Any) -> None:
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._badges = badges
        self._ratings = ratings
        self._seasons = seasons

    # --- privacy -----------------------------------------------------------------------------
    async def hidden(self, guild_id: int, user_id: int) -> frozenset[str]:
        """The parts `user_id` hides from other members. Raises: nothing expected."""
        return frozenset(p for p in await self._repo.hidden(guild_id, user_id) if p in PARTS)

    async def set_hidden(self, guild_id: int, user_id: int, part: str,
                         hide: bool) -> frozenset[str]:
        """Hide (or show again) one part of one's own profile from others; returns what is
        hidden now. Raises: FeatureOff, InvalidInput."""
        await require_on(self._settings, guild_id, "profile")
        part = (part or "").strip().lower()
        if part not in PARTS:
            raise InvalidInput(f"A profile part is one of: {', '.join(PARTS)}.")
        now = set(await self.hidden(guild_id, user_id))
        now = now | {part} if hide else now - {part}
        ordered = [p for p in PARTS if p in now]
        await self._repo.set_hidden(guild_id, user_id, ordered, to_ms(self._clock.now()))
        return frozenset(ordered)

    async def _withheld(self, guild_id: int, viewer_id: int, user_id: int,
                        part: str | None = None) -> tuple[frozenset[str], frozenset[str]]:
        """(what the member hides, what `viewer_id` may not see of it: nothing of their own);
        ProfileHidden when the whole profile (or the `part` asked for) is hidden from them."""
        hidden = await self.hidden(guild_id, user_id)
        if viewer_id == user_id:
            return hidden, frozenset()
        if "all" in hidden:
            raise ProfileHidden(f"<@{user_id}> keeps their profile private.")
        if part is not None and part in hidden:
            raise ProfileHidden(f"<@{user_id}> keeps their {PARTS[part]} private.")
        return hidden, hidden

    # --- views -------------------------------------------------------------------------------
    async def view(self, guild_id: int, viewer_id: int, user_id: int, *,
                   role_ids: frozenset[int] = frozenset()) -> ProfileView:
        """What `viewer_id` sees of `user_id`'s profile (`role_ids`: the member's Discord roles,
        for the NFT rules they hold). Raises: FeatureOff, ProfileHidden."""
        await require_on(self._settings, guild_id, "profile")
        hidden, withheld = await self._withheld(guild_id, viewer_id, user_id)
        settings = await self._settings.get(guild_id)
        shows = {p for p in PARTS if p not in withheld}
        on = {p: is_on(settings, f) for p, f in _FEATURE_OF.items()}
        parts = {p for p in shows if on.get(p, True)}
        # The parts are independent reads: asked at once, so a card costs one round trip's wait.
        readers: dict[str, Any] = {}
        if parts & {"balance", "streak"}:
            readers["account"] = self._ledger.account_and_rank(guild_id, user_id)
        if "badges" in parts:
            readers["badges"] = self._badges.held_and_showcase(guild_id, user_id)
        if "trading" in parts:
            readers["trading"] = self._ratings.summary(guild_id, user_id)
        if "mentoring" in parts:
            readers["mentoring"] = self._repo.mentorships_completed(guild_id, user_id)
        if "nft" in parts:
            readers["nft"] = self._nft(guild_id, user_id, role_ids)
        if "season" in parts:
            readers["season"] = self._season(guild_id, user_id)
        found = dict(zip(readers, await asyncio.gather(*readers.values()), strict=True))
        fields: dict[str, Any] = {}
        if "account" in found:
            account, rank = found["account"]
            if "balance" in parts:
                fields.update(balance=account.balance, rank=rank)
            if "streak" in parts:
                fields["daily_streak"] = account.daily_streak
        if "badges" in found:
            awards, pinned = found["badges"]
            fields.update(badges_held=len(awards), showcase=tuple(pinned))
        if "trading" in found:
            summary = found["trading"]
            fields.update(rating_average=summary.average, ratings=summary.count,
                          completed_trades=summary.completed_trades)
        if "mentoring" in found:
            fields["mentor_level"] = mentor_level(found["mentoring"])
        fields["nft"] = found.get("nft")
        fields["season"] = found.get("season")
        return ProfileView(user_id=user_id, own=viewer_id == user_id, hidden=hidden,
                           withheld=withheld, **fields)

    async def _nft(self, guild_id: int, user_id: int,
                   role_ids: frozenset[int]) -> NftStanding | None:
        wallets = await self._repo.wallets(guild_id, user_id)
        if not wallets:
            return None
        held = sorted(await self._repo.nft_rule_roles(guild_id) & set(role_ids))
        return NftStanding(wallets=wallets, rule_roles=tuple(held))

    async def _season(self, guild_id: int, user_id: int) -> SeasonStanding | None:
        try:
            season, _, rows, running = await self._seasons.leaderboard(guild_id,
                                                                      limit=BOARD_DEPTH)
        except NotFound:  # no season running
            return None
        for position, (member, earned) in enumerate(rows, start=1):
            if member == user_id:
                return SeasonStanding(season.name, position, earned, running)
        return SeasonStanding(season.name, None, 0, running)

    async def badges_of(self, guild_id: int, viewer_id: int, user_id: int) -> list[Award]:
        """A member's badges as `viewer_id` may see them. Raises: FeatureOff, ProfileHidden."""
        await require_on(self._settings, guild_id, "badges")
        await self._withheld(guild_id, viewer_id, user_id, "badges")
        return await self._badges.awards(guild_id, user_id)
