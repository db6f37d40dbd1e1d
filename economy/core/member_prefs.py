"""Member preferences that several features read: the member's own time zone, and whether the
bot may DM them (`/gems dms off` also refuses trade offers to them).

`member_zone(guild_id, user_id)` is what any feature with "a member's day" asks; it falls back to
the guild's zone when the member never set one.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from economy.core.errors import InvalidInput
from economy.core.settings import SettingsService
from economy.repos.member_prefs_repo import MemberPrefsRepo

_RESET_WORDS = {"reset", "default", "none", "clear", "off"}


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone by name (`Europe/Paris`); InvalidInput for anything unknown."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise InvalidInput("Please give a time zone name like `Europe/Paris` or `America/New_York`.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"I don't know the time zone `{name[:64]}`. Use a name like `Europe/Paris` "
            "(start typing to see suggestions)."
        ) from None


def suggest_zones(prefix: str, limit: int = 25) -> list[str]:
    """Zone names containing `prefix` (case-insensitive), for autocomplete."""
    needle = prefix.strip().lower().replace(" ", "_")
    names = sorted(z for z in _zone_names() if needle in z.lower())
    return names[:limit]


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(z for z in available_timezones() if "/" in z or z == "UTC")
    return _ZONES


_ZONES: frozenset[str] | None = None


class MemberPrefsService:
    """Reads and changes per-member preferences."""

    def __init__(self, repo: MemberPrefsRepo, settings: SettingsService) -> None:
        self._repo = repo
        self._settings = settings

    async def member_zone(self, guild_id: int, user_id: int) -> ZoneInfo:
        """The member's time zone, or the guild's when they never chose one.

        Raises: nothing expected.
        """
        name = await self.own_zone(guild_id, user_id)
        if name:
            return ZoneInfo(name)
        return (await self._settings.get(guild_id)).zone

    async def own_zone(self, guild_id: int, user_id: int) -> str | None:
        """The zone the member chose, or None.

        Raises: nothing expected.
        """
        doc = await self._repo.prefs(guild_id, user_id)
        return doc.get("timezone") if doc else None

    async def set_zone(self, guild_id: int, user_id: int, name: str) -> str | None:
        """Set the member's zone (`reset` clears it); returns the stored name or None.

        Raises: InvalidInput.
        """
        if name.strip().lower() in _RESET_WORDS:
            await self._repo.set_timezone(guild_id, user_id, None)
            return None
        zone = parse_zone(name)
        await self._repo.set_timezone(guild_id, user_id, zone.key)
        return zone.key

    async def set_dms(self, guild_id: int, user_id: int, allowed: bool) -> None:
        """Turn the bot's DMs (and trade offers to this member) on or off.

        Raises: nothing expected.
        """
        await self._repo.set_dms(guild_id, user_id, allowed)

    async def dms_allowed(self, guild_id: int, user_id: int) -> bool:
        """False when the member turned DMs off with `/gems dms off`.

        Raises: nothing expected.
        """
        doc = await self._repo.prefs(guild_id, user_id)
        return bool(doc.get("dms", True)) if doc else True
