"""Per-guild settings: a validated model, string parsing for `/settings set`, and the service.

Only values an admin changed are stored; everything else comes from the model's defaults, so a
new default reaches every guild that never touched it.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from economy.clock import Clock
from economy.errors import InvalidInput, NotFound
from economy.repos.settings_repo import SettingsRepo

MAX_AMOUNT = 1_000_000_000_000  # one trillion: far above any sane move, far below int64


class GuildSettings(BaseModel):
    """Every setting a server admin can change, with its default and limits."""

    model_config = ConfigDict(validate_assignment=True, extra="ignore")

    currency_name: str = Field("GEMS", min_length=1, max_length=24, description="Name of the currency")
    currency_emoji: str = Field("💎", min_length=1, max_length=64, description="Emoji shown beside amounts")
    admin_role_id: int | None = Field(None, description="Role that may run admin commands (besides Manage Server)")
    timezone: str = Field("UTC", description="IANA time zone for daily resets, e.g. Europe/Berlin")
    daily_amount: int = Field(100, ge=1, le=1_000_000, description="GEMS for a daily claim")
    daily_streak_bonus: int = Field(10, ge=0, le=100_000, description="Extra GEMS per streak day")
    daily_streak_cap: int = Field(7, ge=0, le=365, description="Streak days that count for the bonus")
    daily_reset_hour: int = Field(0, ge=0, le=23, description="Local hour at which the daily resets")
    activity_amount: int = Field(5, ge=0, le=10_000, description="GEMS per qualifying message (0 = off)")
    activity_cooldown_seconds: int = Field(60, ge=0, le=86_400, description="Seconds between earning messages")
    activity_min_length: int = Field(5, ge=0, le=2_000, description="Minimum message length that earns")
    activity_excluded_channels: list[int] = Field(default_factory=list, description="Channels that never earn")
    activity_excluded_roles: list[int] = Field(default_factory=list, description="Roles that never earn")
    max_transfer: int = Field(MAX_AMOUNT, ge=1, le=MAX_AMOUNT, description="Largest single /gems give")

    # --- escrow
    moderator_role_id: int | None = Field(None, description="Role that resolves disputes and moderates (besides Manage Messages)")
    trade_channel_id: int | None = Field(None, description="Channel where private trade threads are opened")
    dispute_channel_id: int | None = Field(None, description="Moderator queue channel for disputes and flags")
    escrow_fee_bps: int = Field(250, ge=0, le=5000, description="Trade fee in basis points (250 = 2.5%), to the treasury")
    escrow_auto_release_days: int = Field(3, ge=1, le=60, description="Days after delivery before held GEMS auto-release")
    escrow_delivery_days: int = Field(7, ge=1, le=90, description="Days the seller has to deliver before auto-cancel")
    escrow_new_member_trades: int = Field(3, ge=0, le=100, description="Completed trades before the new-member cap lifts")
    escrow_new_member_max: int = Field(1000, ge=1, le=MAX_AMOUNT, description="Largest trade for members still new to trading")
    escrow_wash_trade_count: int = Field(3, ge=2, le=100, description="Trades by one pair within the window that get flagged")
    escrow_wash_trade_days: int = Field(7, ge=1, le=90, description="Window (days) for the repeated-pair flag")

    # --- marketplace
    marketplace_channel_id: int | None = Field(None, description="Channel where new listings are announced")
    marketplace_queue_channel_id: int | None = Field(None, description="Moderator queue channel for listing approval")
    marketplace_approval: bool = Field(False, description="New listings need a moderator's approval")
    listing_lifetime_days: int = Field(30, ge=3, le=365, description="Days a listing stays up before it expires")
    max_active_listings: int = Field(20, ge=1, le=1000, description="Open listings a member may have at once")
    listings_per_day: int = Field(10, ge=1, le=1000, description="Listings a member may publish per day")
    marketplace_categories: list[str] = Field(default_factory=list, description="Allowed categories, comma-separated (empty = the default set)")
    marketplace_usd: bool = Field(False, description="Allow prices in USD besides GEMS")

    # --- wallets and NFT roles
    nft_sync_minutes: int = Field(30, ge=5, le=1440, description="Minutes between periodic NFT role syncs")
    nft_log_channel_id: int | None = Field(None, description="Admin channel for NFT role sync problems (role hierarchy, permissions)")

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

    @field_validator("marketplace_categories")
    @classmethod
    def _category_names(cls, value: list[str]) -> list[str]:
        names: list[str] = []
        for raw in value:
            name = " ".join(str(raw).lower().split())
            if not re.fullmatch(r"[a-z0-9][a-z0-9 -]{0,30}", name):
                raise ValueError(f"category {name[:40]!r}: use 1-31 letters, digits, spaces or dashes")
            if name not in names:
                names.append(name)
        if len(names) > 25:
            raise ValueError("at most 25 categories")
        return names

    @property
    def zone(self) -> ZoneInfo:
        """The guild's time zone."""
        return ZoneInfo(self.timezone)

    def money(self, amount: int) -> str:
        """Format an amount with the guild's emoji and currency name: `💎 1,250 GEMS`."""
        return f"{self.currency_emoji} {amount:,} {self.currency_name}"


SETTING_KEYS: tuple[str, ...] = tuple(GuildSettings.model_fields)

_ID_LIST_KEYS = {"activity_excluded_channels", "activity_excluded_roles"}
_ID_KEYS = {"admin_role_id", "moderator_role_id", "trade_channel_id", "dispute_channel_id",
            "marketplace_channel_id", "marketplace_queue_channel_id"}
_ID_KEYS |= {"nft_log_channel_id"}
_STR_LIST_KEYS = {"marketplace_categories"}
_NONE_WORDS = {"none", "off", "-", "clear", "null"}


def describe(key: str) -> str:
    """The one-line help text of a setting."""
    field = GuildSettings.model_fields[key]
    return field.description or key


def parse_value(key: str, raw: str) -> Any:
    """Turn the text an admin typed into a validated value for `key`.

    Accepts Discord mentions for ids (`<@&123>`, `<#456>`), comma-separated id lists,
    `none` to clear optional values, and yes/no for booleans. Raises InvalidInput.
    """
    if key not in GuildSettings.model_fields:
        raise NotFound(f"There is no setting called `{key}`. Use `/settings view` to see them all.")
    text = raw.strip()
    value: Any = text
    if key in _ID_KEYS:
        value = None if text.lower() in _NONE_WORDS else _parse_id(key, text)
    elif key in _STR_LIST_KEYS:
        is_none = text.lower() in _NONE_WORDS or not text
        value = [] if is_none else [part for part in re.split(r"\s*,\s*", text) if part]
    elif key in _ID_LIST_KEYS:
        if text.lower() in _NONE_WORDS or not text:
            value = []
        else:
            value = [_parse_id(key, part) for part in re.split(r"[\s,]+", text) if part]
    try:
        current = GuildSettings()
        setattr(current, key, value)
        return getattr(current, key)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"`{text[:100]}` is not a valid value for `{key}`: {reason}.") from None


def _parse_id(key: str, text: str) -> int:
    match = re.fullmatch(r"<(?:@&|@!?|#)(\d{1,20})>|(\d{1,20})", text.strip())
    if not match:
        raise InvalidInput(f"`{text[:100]}` is not a valid value for `{key}`: expected an id or a mention.")
    return int(match.group(1) or match.group(2))


class SettingsService:
    """Reads and changes guild settings, recording who changed what."""

    CACHE_SECONDS = 30.0

    def __init__(self, repo: SettingsRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        self._cache: dict[int, tuple[float, GuildSettings]] = {}

    async def get(self, guild_id: int) -> GuildSettings:
        """The effective settings of a guild (defaults plus stored overrides)."""
        cached = self._cache.get(guild_id)
        if cached and time.monotonic() - cached[0] < self.CACHE_SECONDS:
            return cached[1]
        overrides = await self._repo.overrides(guild_id)
        settings = GuildSettings.model_validate(overrides)
        self._cache[guild_id] = (time.monotonic(), settings)
        return settings

    async def set(self, guild_id: int, actor_id: int, key: str, raw: str) -> tuple[Any, Any]:
        """Validate and store one setting; returns (old, new). Raises NotFound/InvalidInput."""
        new = parse_value(key, raw)
        old = getattr(await self.get(guild_id), key)
        default = GuildSettings.model_fields[key].get_default(call_default_factory=True)
        await self._repo.change(
            guild_id, key, new, old=old, actor_id=actor_id, at=self._clock.now(),
            is_default=new == default,
        )
        self._cache.pop(guild_id, None)
        return old, new

    async def history(self, guild_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
        """The latest setting changes, newest first."""
        return await self._repo.history(guild_id, limit=limit)

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached settings of a guild."""
        self._cache.pop(guild_id, None)


def format_value(value: Any) -> str:
    """Render a setting value for display."""
    if value is None:
        return "not set"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
