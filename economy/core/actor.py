"""Who asks for an action: one `Actor`, computed once at the Discord edge, checked again in the
service (ARCHITECTURE §6).

The edge (cogs/_shared/interaction.py `actor_of`) knows Discord's permissions and the member's
roles; it records the two staff flags (admin: Manage Server or the configured admin role;
moderator: an admin, Manage Messages or the configured moderator role) and the member's role
ids. Feature roles (event manager, challenge manager, mentorship lead...) are settings the
service reads, so the service decides them from `role_ids` (`admin_or(guild_id, role_id)`).

Authority only counts in the guild it was computed for: an actor built in one guild (or in a
DM, where it has no flags) is a plain member anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from economy.core.errors import NotPermitted

ADMINS_ONLY = "Only server admins (Manage Server) or the configured admin role can do that."
MODERATORS_ONLY = ("Only moderators (Manage Messages) or the configured moderator role "
                   "can do that.")


@dataclass(frozen=True)
class Actor:
    """A member asking for something, with the authority the Discord adapter saw them hold.

    `guild_id` None means "not bound to a guild" (tests, the CLI): the flags count everywhere.
    """

    user_id: int
    is_admin: bool = False
    role_ids: frozenset[int] = frozenset()
    is_moderator: bool = False
    guild_id: int | None = None
    #: The bot itself (jobs, sweeps, one service acting for another): every check passes.
    is_system: bool = False

    @classmethod
    def system(cls) -> Actor:
        """The bot acting on its own behalf (a job, a sweep); user id 0."""
        return cls(0, is_admin=True, is_moderator=True, is_system=True)

    def _here(self, guild_id: int) -> bool:
        return self.is_system or self.guild_id is None or self.guild_id == guild_id

    def holds(self, guild_id: int, role_id: int | None) -> bool:
        """True when the member holds `role_id` (a configured role; None = not configured)."""
        return self._here(guild_id) and role_id is not None and role_id in self.role_ids

    def admin(self, guild_id: int) -> bool:
        """True for an admin of `guild_id` (or the bot itself)."""
        return self._here(guild_id) and self.is_admin

    def moderator(self, guild_id: int) -> bool:
        """True for a moderator (or admin) of `guild_id`."""
        return self._here(guild_id) and (self.is_moderator or self.is_admin)

    def admin_or(self, guild_id: int, role_id: int | None) -> bool:
        """An admin, or a holder of the feature role `role_id` (event manager, lead...)."""
        return self.admin(guild_id) or self.holds(guild_id, role_id)

    def require_admin(self, guild_id: int, message: str = ADMINS_ONLY) -> None:
        """Raises:
            NotPermitted: the actor is not an admin of `guild_id`.
        """
        if not self.admin(guild_id):
            raise NotPermitted(message)

    def require_moderator(self, guild_id: int, message: str = MODERATORS_ONLY) -> None:
        """Raises:
            NotPermitted: the actor is not a moderator (or admin) of `guild_id`.
        """
        if not self.moderator(guild_id):
            raise NotPermitted(message)
