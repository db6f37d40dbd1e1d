"""Per-guild feature switches (/settings modules): every feature package can be turned off in a server.

The switches live in the guild settings (`disabled_features`), so they are recorded in the
settings history and cached like every other setting. Core features (the currency, settings and
this switchboard) cannot be turned off.
"""

from __future__ import annotations

import asyncio

from economy.core.actor import Actor
from economy.core.errors import InvalidInput, Unavailable
from economy.core.settings import GuildSettings, SettingsService
from economy.registry import FEATURES as REGISTERED
from economy.registry import switchable

#: Features that can be switched off, with the name members read in messages: derived from the
#: feature declarations (economy/registry.py).
FEATURES: dict[str, str] = switchable()
#: Always on: the core features (the wallet, data rights) and the core adapters (settings with
#: the switches themselves, and the way in: /help, /setup, the welcome).
CORE: frozenset[str] = frozenset(
    {f.name for f in REGISTERED if not f.switchable} | {"settings", "help", "setup_wizard"})


def off_message(feature: str) -> str:
    """What a member reads when they use a switched-off feature."""
    label = FEATURES.get(feature, feature.capitalize())
    verb = "are" if label.endswith("s") and not label.startswith("The ") else "is"
    return f"{label} {verb} turned off in this server."


class FeatureOff(Unavailable):
    """A switched-off feature was asked to change balances (a domain check, not the gate's)."""

    def __init__(self, feature: str) -> None:
        super().__init__(off_message(feature))
        self.feature = feature


def is_on(settings: GuildSettings, feature: str) -> bool:
    """True unless `feature` is switched off in these settings (core features: always on).

    The domain asks this of one settings snapshot, so one decision (multiply or not, pay or
    not) is made from one consistent view of the switches.
    """
    return feature not in settings.disabled_features


async def require_on(settings: SettingsService, guild_id: int, feature: str) -> GuildSettings:
    """The guild's settings, or FeatureOff when `feature` is switched off there.

    For the earning hooks that jobs, message listeners and other features reach without the
    interaction gate (bot/modules_gate.py): the switch is read through the settings cache, so a
    change made in this process counts at once and one made by another process within
    `SettingsService.FRESH_SECONDS`.
    """
    current = await settings.get(guild_id)
    if not is_on(current, feature):
        raise FeatureOff(feature)
    return current


class ModuleService:
    """Reads and flips the per-guild feature switches."""

    def __init__(self, settings: SettingsService) -> None:
        self._settings = settings
        self._loading: dict[int, asyncio.Task] = {}

    async def enabled(self, guild_id: int | None, feature: str) -> bool:
        """True unless `feature` is switched off in the guild (DMs and core: always on).

        Asked before every interaction: concurrent questions about one guild whose settings
        are not cached share one database read (a crowd pressing a button at once).

        Raises: nothing expected.
        """
        if guild_id is None or feature not in FEATURES:
            return True
        task = self._loading.get(guild_id)
        if task is None:
            task = asyncio.ensure_future(self._settings.get(guild_id))
            self._loading[guild_id] = task
            task.add_done_callback(lambda _: self._loading.pop(guild_id, None))
        settings = await asyncio.shield(task)
        return feature not in settings.disabled_features

    async def disabled(self, guild_id: int) -> list[str]:
        """The switched-off features of a guild, sorted.

        Raises: nothing expected.
        """
        return sorted((await self._settings.get(guild_id)).disabled_features)

    async def switch(self, guild_id: int, actor: Actor, feature: str, *, on: bool) -> bool:
        """Turn a feature on or off (admins of the guild, as for /settings); returns False when
        it already was.

        Raises: NotPermitted (not an admin of the guild), InvalidInput, NotFound.
        """
        actor.require_admin(guild_id)
        name = feature.strip().lower()
        if name in CORE:
            raise InvalidInput(f"`{name}` is part of the core of GEMS and cannot be turned off.")
        if name not in FEATURES:
            known = ", ".join(FEATURES)
            raise InvalidInput(f"There is no feature called `{name[:30]}`. Features: {known}.")
        current = set(await self.disabled(guild_id))
        wanted = current - {name} if on else current | {name}
        if wanted == current:
            return False
        await self._settings.set(guild_id, actor, "disabled_features",
                                 ",".join(sorted(wanted)) or "none")
        return True
