"""Member preferences and throttles: DMs on/off, and at most one notice of a kind per period."""

from __future__ import annotations

from economy.clock import Clock
from economy.repos.listing_repo import epoch_ms
from economy.repos.member_repo import MemberRepo


class MemberService:
    """What a member chose (DMs) and the guarded per-member throttles other features use."""

    def __init__(self, repo: MemberRepo, clock: Clock) -> None:
        self.repo = repo
        self._clock = clock

    async def set_dms(self, guild_id: int, user_id: int, allowed: bool) -> None:
        """Turn the bot's DMs (and trade offers to this member) on or off."""
        await self.repo.set_pref(guild_id, user_id, "dms", allowed)

    async def dms_allowed(self, guild_id: int, user_id: int) -> bool:
        """False when the member turned DMs off with `/gems dms off`."""
        prefs = await self.repo.prefs_of(guild_id, user_id)
        return bool(prefs.get("dms", True)) if prefs else True

    async def claim_notice(self, guild_id: int, user_id: int, kind: str, *, hours: int) -> bool:
        """True (and recorded) when no notice of `kind` went to the member in the last `hours`."""
        now_ms = epoch_ms(self._clock.now())
        return await self.repo.claim_interval(guild_id, user_id, f"notice:{kind}", now_ms,
                                              hours * 3_600_000)
