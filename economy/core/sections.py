"""The pieces every settings section is made of, and the core section.

Each feature keeps its settings section (a `Section`) next to its service
(`economy/<feature>/settings.py`) and names it in its declaration; economy/registry.py composes
the sections into `GuildSettings`. Values are stored under flat keys (one per field), so moving a
field between sections needs no data migration.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_AMOUNT = 1_000_000_000_000  # one trillion: far above any sane move, far below int64


def name_list(value: list[str], pattern: str, what: str, plural: str, most: int) -> list[str]:
    """Lower-cased, space-normalised, de-duplicated names that match `pattern`, at most `most`."""
    names: list[str] = []
    for raw in value:
        name = " ".join(str(raw).lower().split())
        if not re.fullmatch(pattern, name):
            raise ValueError(f"{what} {name[:40]!r}: use 1-31 letters, digits, spaces or dashes")
        if name not in names:
            names.append(name)
    if len(names) > most:
        raise ValueError(f"at most {most} {plural}")
    return names


class Section(BaseModel):
    """A feature's settings: validated on every change, defaults for what an admin never set."""

    model_config = ConfigDict(validate_assignment=True, extra="ignore")


class CoreSettings(Section):
    """The core of GEMS in a server: the currency's name, staff roles, time zone, switches."""

    currency_name: str = Field("GEMS", min_length=1, max_length=24, description="Name of the currency")
    currency_emoji: str = Field("💎", min_length=1, max_length=64, description="Emoji shown beside amounts")
    admin_role_id: int | None = Field(None, description="Role that may run admin commands (besides Manage Server)")
    timezone: str = Field("UTC", description="IANA time zone for daily resets, e.g. Europe/Berlin")
    moderator_role_id: int | None = Field(None, description="Role that resolves disputes and moderates (besides Manage Messages)")
    announcements_channel_id: int | None = Field(None, description="Channel where boosts, events and seasons are announced")
    disabled_features: list[str] = Field(default_factory=list, description="Features switched off in this server, comma-separated (see /settings modules list)")

    @field_validator("disabled_features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        from economy.core.modules import CORE, FEATURES

        names = sorted({name.strip().lower() for name in value if name.strip()})
        for name in names:
            if name in CORE:
                raise ValueError(f"{name} is part of the core and cannot be turned off")
            if name not in FEATURES:
                raise ValueError(f"unknown feature {name!r} (features: {', '.join(FEATURES)})")
        return names

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Europe/Berlin") from None
        return value

    @field_validator("currency_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if re.search(r"[@<>#*_`~|\\]", value):
            raise ValueError("use letters, digits and spaces only")
        return value.strip()

    @property
    def zone(self) -> ZoneInfo:
        """The guild's time zone."""
        return ZoneInfo(self.timezone)

    def money(self, amount: int) -> str:
        """Format an amount with the guild's emoji and currency name: `💎 1,250 GEMS`."""
        return f"{self.currency_emoji} {amount:,} {self.currency_name}"
