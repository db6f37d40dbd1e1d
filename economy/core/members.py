"""What other features ask about a member: may the bot DM them, may a notice of a kind go
out now (at most one per period), and is someone a current human member who may be paid.

Who is a member right now is a Discord fact: the bot injects a `MemberDirectory` answered from
its member cache (bot/member_directory.py); domain tests inject a fake. Without one the service
cannot tell, so it refuses to pay anyone chosen by someone else (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

from economy.core.clock import Clock, span_ms, to_ms
from economy.core.errors import InvalidInput
from economy.core.member_prefs import MemberPrefsService
from economy.core.models import is_system
from economy.repos.member_repo import MemberRepo


class MemberDirectory(Protocol):
    """Who is in a guild right now (answered from Discord's member cache at the bot edge)."""

    def is_human_member(self, guild_id: int, user_id: int) -> bool | None:
        """True: a current member who is not a bot. False: a bot, someone who left, or an id
        that is nobody. None: this process can't tell (the guild is not in its cache)."""
        ...


class NoDirectory:
    """The directory of a process that knows no Discord members: it can never tell."""

    def is_human_member(self, guild_id: int, user_id: int) -> bool | None:
        """Always None (unknown)."""
        return None


class MemberService:
    """What a member chose (DMs) and the guarded per-member throttles other features use."""

    def __init__(self, repo: MemberRepo, prefs: MemberPrefsService, clock: Clock,
                 directory: MemberDirectory | None = None) -> None:
        self.repo = repo
        self.prefs = prefs
        self._clock = clock
        self.directory: MemberDirectory = directory or NoDirectory()

    def use_directory(self, directory: MemberDirectory) -> None:
        """Answer membership questions from `directory` (the bot injects its member cache)."""
        self.directory = directory

    def may_receive(self, guild_id: int, user_id: int) -> bool:
        """For prizes computed from what members did (seasons, competitions, goals): False for
        the treasury, a deleted member's account, a bot or someone who left; True otherwise
        (also when this process can't tell: the member earned it themselves)."""
        if is_system(user_id):
            return False
        return self.directory.is_human_member(guild_id, user_id) is not False

    def require_payable(self, guild_id: int, user_ids: Iterable[int], what: str = "winner") -> None:
        """Refuse (InvalidInput) unless every id is a current human member of the guild: not a
        bot, not someone who left, not the treasury or a deleted member's account. For anyone
        paid because someone else chose them (prizes, winners)."""
        refused: list[int] = []
        unknown = False
        for user_id in user_ids:
            answer = False if is_system(user_id) else self.directory.is_human_member(
                guild_id, user_id)
            if answer is False:
                refused.append(user_id)
            elif answer is None:
                unknown = True
        if refused:
            # Mentions render as names in the ephemeral reply (which never pings); a system
            # account has no member to mention.
            names = ", ".join(f"<@{u}>" if u > 0 else "a server account" for u in refused)
            raise InvalidInput(f"Only current members of this server (not bots) can be a {what}; "
                               f"not {names}.")
        if unknown:
            raise InvalidInput("I can't check this server's members right now; try again in a "
                               "moment.")

    async def dms_allowed(self, guild_id: int, user_id: int) -> bool:
        """False when the member turned DMs off with `/gems dms off`.

        Raises: nothing expected.
        """
        return await self.prefs.dms_allowed(guild_id, user_id)

    async def claim_notice(self, guild_id: int, user_id: int, kind: str, *, hours: int) -> bool:
        """True (and recorded) when no notice of `kind` went to the member in the last `hours`.

        Raises: nothing expected.
        """
        now_ms = to_ms(self._clock.now())
        return await self.repo.claim_interval(guild_id, user_id, f"notice:{kind}", now_ms,
                                              span_ms(timedelta(hours=hours)))
