"""First-run onboarding: a server is welcomed once, the first time the bot joins it."""

from __future__ import annotations

from economy.core.clock import Clock, to_ms
from economy.repos.onboarding_repo import OnboardingRepo


class OnboardingService:
    """Decides when the bot greets a server's admins."""

    def __init__(self, repo: OnboardingRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def first_join(self, guild_id: int) -> bool:
        """True the first time the bot joins `guild_id` (never again, even after a re-invite).

        Raises: nothing expected.
        """
        return await self._repo.claim_welcome(guild_id, to_ms(self._clock.now()))
