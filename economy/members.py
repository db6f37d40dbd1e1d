"""What other features ask about a member: may the bot DM them, and may a notice of a kind go
out now (at most one per period)."""

from __future__ import annotations

from economy.clock import Clock
from economy.member_prefs import MemberPrefsService
from economy.repos.listing_repo import epoch_ms
from economy.repos.member_repo import MemberRepo


class MemberService:
    """What a member chose (DMs) and the guarded per-member throttles other features use."""

    def __init__(self, repo: MemberRepo, prefs: MemberPrefsService, clock: Clock) -> None:
        self.repo = repo
        self.prefs = prefs
        self._clock = clock

    async def dms_allowed(self, guild_id: int, user_id: int) -> bool:
        """False when the member turned DMs off with `/gems dms off`."""
        return await self.prefs.dms_allowed(guild_id, user_id)

    async def claim_notice(self, guild_id: int, user_id: int, kind: str, *, hours: int) -> bool:
        """True (and recorded) when no notice of `kind` went to the member in the last `hours`."""
        now_ms = epoch_ms(self._clock.now())
        return await self.repo.claim_interval(guild_id, user_id, f"notice:{kind}", now_ms,
                                              hours * 3_600_000)
