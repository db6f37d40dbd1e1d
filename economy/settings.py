"""Per-guild settings: a validated model, string parsing for `/settings set`, and the service.

Only values an admin changed are stored; everything else comes from the model's defaults, so a
new default reaches every guild that never touched it.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import emoji
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from economy.clock import Clock
from economy.currency import CARD_CURRENCIES
from economy.errors import InvalidInput, NotFound
from economy.repos.settings_repo import SettingsRepo
from economy.text import strip_invisible

MAX_AMOUNT = 1_000_000_000_000  # one trillion: far above any sane move, far below int64
PAYMENT_CURRENCIES = CARD_CURRENCIES  # Stripe's currencies with a documented minimum charge
#: Anything shaped like a Stripe secret: it belongs in the environment, never in guild settings.
_STRIPE_SECRET = re.compile(r"(?:sk|rk)_(?:live|test)_\w{6,}|whsec_\w{6,}")


def _name_list(value: list[str], pattern: str, what: str, plural: str, most: int) -> list[str]:
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

    # --- abuse limits
    min_account_age_days: int = Field(7, ge=0, le=365, description="Discord account age (days) before a member earns, claims dailies or gives (0 = off)")
    min_member_days: int = Field(1, ge=0, le=365, description="Days in this server before a member earns, claims dailies or gives (0 = off)")
    give_daily_cap: int = Field(50_000, ge=1, le=MAX_AMOUNT, description="Most GEMS one member may give away per day")
    fanin_flag_senders: int = Field(3, ge=0, le=100, description="Young accounts giving to one member within 24 h before moderators are told (0 = off)")
    activity_repeat_memory: int = Field(5, ge=1, le=50, description="Recent messages a member can't repeat to earn")
    offer_max_open_to_member: int = Field(3, ge=1, le=50, description="Open trade offers one member may receive at once")
    offer_cooldown_seconds: int = Field(30, ge=0, le=86_400, description="Seconds between two trade offers by one member")
    escrow_wash_trade_block: bool = Field(False, description="Refuse new trades between a flagged repeated pair (not only report them)")
    notice_throttle_hours: int = Field(12, ge=1, le=168, description="Hours between two price-drop DMs about one listing to one member")
    alert_digest_minutes: int = Field(5, ge=1, le=120, description="Saved-search matches within this many minutes arrive as one DM")
    # --- events and boosts
    announcements_channel_id: int | None = Field(None, description="Channel where boosts, events and seasons are announced")
    double_weekend: bool = Field(False, description="Double-GEMS weekend every week (in the server's time zone)")
    double_weekend_start_day: int = Field(4, ge=0, le=6, description="Weekend start day (monday..sunday or 0-6, 0 = Monday)")
    double_weekend_start_hour: int = Field(18, ge=0, le=23, description="Weekend start hour, local time (0-23)")
    double_weekend_end_day: int = Field(6, ge=0, le=6, description="Weekend end day (monday..sunday or 0-6)")
    double_weekend_end_hour: int = Field(24, ge=1, le=24, description="Weekend end hour, local (24 = midnight after the end day)")
    double_weekend_factor_bps: int = Field(20_000, ge=11_000, le=100_000, description="Weekend factor in basis points (20000 = x2)")
    boost_stacking: Literal["highest", "multiply"] = Field("highest", description="Overlapping boosts: highest factor applies, or multiply (capped at x10)")
    boost_applies_to: list[str] = Field(default_factory=lambda: ["activity", "daily", "challenge", "earn"], description="Earnings that boosts multiply: activity, daily, challenge, earn, reward, event")
    event_manager_role_id: int | None = Field(None, description="Role that may create and run community events (besides admins)")
    # --- challenges
    challenge_count: int = Field(3, ge=0, le=10, description="Daily challenges drawn per day (0 = off)")
    challenge_reset_hour: int = Field(0, ge=0, le=23, description="Local hour at which the daily challenges change")
    challenge_channel_id: int | None = Field(None, description="Channel where each day's challenges are announced")
    challenge_gallery_channel_id: int | None = Field(None, description="Gallery channel for creativity submissions")
    challenge_manager_role_id: int | None = Field(None, description="Role that manages the challenge pool (besides admins)")
    challenge_repeat_days: int = Field(14, ge=0, le=60, description="Days before a drawn challenge may be drawn again")
    challenge_grace_days: int = Field(1, ge=0, le=3, description="Missed days forgiven per 7 days of a challenge streak")
    challenge_streak_bonus: str = Field("3:50,7:150,14:300,30:1000", max_length=200, description="Streak bonus table: days:GEMS pairs, e.g. 3:50,7:150")
    challenge_weekly_target: int = Field(5, ge=0, le=70, description="Challenges in one week that earn the weekly bonus (0 = off)")
    challenge_weekly_bonus: int = Field(250, ge=0, le=1_000_000, description="GEMS for reaching the weekly target")
    challenge_min_length: int = Field(3, ge=0, le=2_000, description="Minimum message length that counts for message challenges")
    # --- mentorship
    mentorship_skills: list[str] = Field(default_factory=list, description="Mentorship skills, comma-separated (empty = default set)")
    mentorship_lead_role_id: int | None = Field(None, description="Role that approves mentors, runs rounds")
    mentorship_channel_id: int | None = Field(None, description="Where mentorship threads open")
    mentorship_queue_channel_id: int | None = Field(None, description="Mentor approval queue channel")
    mentor_min_days: int = Field(0, ge=0, le=3650, description="Days in the server before mentoring")
    mentor_min_trades: int = Field(0, ge=0, le=10_000, description="Completed trades before mentoring")
    mentor_min_rating: int = Field(0, ge=0, le=5, description="Or: trade rating (stars) that qualifies instead (0 = off)")
    mentor_approval: bool = Field(False, description="New mentors need the lead's approval")
    mentorship_proposal_hours: int = Field(48, ge=1, le=336, description="Hours to accept a proposed match")
    mentorship_milestone_reward: int = Field(50, ge=0, le=1_000_000, description="GEMS per confirmed milestone (0 = off)")
    mentorship_checkin_days: int = Field(7, ge=1, le=90, description="Silent days before a check-in reminder")
    mentorship_rating_weeks: int = Field(4, ge=0, le=52, description="Weeks before a pair can rate each other")
    mentorship_weekly_round: bool = Field(False, description="Run a matching round every Monday (UTC)")
    mentor_level_roles: list[int] = Field(default_factory=list, description="Roles for mentor levels 1/5/20 completed, in order")
    mentorship_spotlight_channel_id: int | None = Field(None, description="Where the monthly mentor spotlight is posted")
    guides_channel_id: int | None = Field(None, description="Where approved guides are published")
    guide_approval_reward: int = Field(100, ge=0, le=1_000_000, description="GEMS to a guide's author on approval (0 = off)")
    guide_vote_reward: int = Field(20, ge=0, le=1_000_000, description="GEMS to the author per vote milestone (0 = off)")
    guide_vote_milestone: int = Field(10, ge=1, le=10_000, description="Upvotes per guide vote milestone")
    season_prize_1st: int = Field(500, ge=0, le=1_000_000, description="GEMS for the top earner of a season")
    season_prize_2nd: int = Field(250, ge=0, le=1_000_000, description="GEMS for the second earner of a season")
    season_prize_3rd: int = Field(100, ge=0, le=1_000_000, description="GEMS for the third earner of a season")
    anniversary_bonus: int = Field(100, ge=0, le=1_000_000, description="GEMS on each anniversary of joining the server (0 = off)")
    anniversary_announce: bool = Field(True, description="Announce anniversaries in the announcements channel")
    # --- wallets and NFT roles
    holder_perks: str = Field("", max_length=400, description="Earning perks per role, e.g. @Holder:1.5, @Whale:2 (the boost stacking rule applies)")
    nft_sync_minutes: int = Field(30, ge=5, le=1440, description="Minutes between periodic NFT role syncs")
    nft_log_channel_id: int | None = Field(None, description="Admin channel for NFT role sync problems (role hierarchy, permissions)")
    # --- modules (per-guild feature switches; /modules enable|disable)
    disabled_features: list[str] = Field(default_factory=list, description="Features switched off in this server, comma-separated (see /modules list)")

    @field_validator("disabled_features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        from economy.modules import CORE, FEATURES

        names = sorted({name.strip().lower() for name in value if name.strip()})
        for name in names:
            if name in CORE:
                raise ValueError(f"{name} is part of the core and cannot be turned off")
            if name not in FEATURES:
                raise ValueError(f"unknown feature {name!r} (features: {', '.join(FEATURES)})")
        return names
    # --- payments (Stripe)
    payments_usd: bool = Field(False, description="Members can pay USD-priced listings by card (Stripe Checkout; needs the operator's Stripe keys)")
    payments_currency: str = Field("usd", description="Currency of card payments (a Stripe currency with a documented minimum charge: usd, eur, gbp, jpy, chf, ...; USD listings need usd)")
    payments_fee_bps: int = Field(500, ge=0, le=5000, description="Fee on card trades in basis points (500 = 5%), kept on the payment account")
    payments_payout_mode: Literal["connect", "manual"] = Field("manual", description="Pay sellers by Stripe Connect transfer (connect) or yourselves, recorded with /payments paid (manual)")
    payments_packs: bool = Field(False, description="Members can buy GEMS packs by card (/usd packs)")

    @field_validator("payments_currency")
    @classmethod
    def _payment_currency(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in PAYMENT_CURRENCIES:
            raise ValueError(f"one of {', '.join(PAYMENT_CURRENCIES)}")
        return value

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
        return _name_list(value, r"[a-z0-9][a-z0-9 -]{0,30}", "category", "categories", 25)

    @field_validator("double_weekend_start_day", "double_weekend_end_day", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().isdigit():
            name = value.strip().lower()
            days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
            for index, day in enumerate(days):
                if len(name) >= 3 and day.startswith(name):
                    return index
            raise ValueError("use a weekday name (friday) or 0-6 (0 = Monday)")
        return value

    @field_validator("boost_applies_to")
    @classmethod
    def _boost_sources(cls, value: list[str]) -> list[str]:
        allowed = ("activity", "daily", "challenge", "earn", "reward", "event")
        names = []
        for raw in value:
            name = str(raw).strip().lower()
            if name not in allowed:
                raise ValueError(f"{name[:20]!r} is not an earning source; use {', '.join(allowed)}")
            if name not in names:
                names.append(name)
        return names

    @field_validator("holder_perks")
    @classmethod
    def _perk_table(cls, value: str) -> str:
        # Stored in the form it is typed in, so it validates again when read back.
        return ",".join(f"{role}:{(Decimal(bps) / 10_000).normalize():f}"
                        for role, bps in parse_perks(value).items())

    @property
    def perk_factors(self) -> dict[int, int]:
        """Holder perks: role id -> earning factor in basis points."""
        return parse_perks(self.holder_perks)

    @field_validator("challenge_streak_bonus")
    @classmethod
    def _streak_table(cls, value: str) -> str:
        return format_streak_table(parse_streak_table(value))

    @property
    def streak_bonuses(self) -> dict[int, int]:
        """Challenge streak bonuses: streak length in days -> GEMS."""
        return parse_streak_table(self.challenge_streak_bonus)

    @field_validator("mentor_level_roles")
    @classmethod
    def _three_levels(cls, value: list[int]) -> list[int]:
        if len(value) > 3:
            raise ValueError("give at most 3 roles (levels at 1, 5 and 20 completed mentorships)")
        return value

    @field_validator("mentorship_skills")
    @classmethod
    def _skill_names(cls, value: list[str]) -> list[str]:
        return _name_list(value, r"[a-z0-9][a-z0-9 &+-]{0,30}", "skill", "skills", 100)

    @property
    def zone(self) -> ZoneInfo:
        """The guild's time zone."""
        return ZoneInfo(self.timezone)

    def money(self, amount: int) -> str:
        """Format an amount with the guild's emoji and currency name: `💎 1,250 GEMS`."""
        return f"{self.currency_emoji} {amount:,} {self.currency_name}"


def parse_perks(text: str) -> dict[int, int]:
    """`"<@&1>:1.5, 2:x2"` -> {1: 15000, 2: 20000} (factors 1.1-10); ValueError otherwise."""
    perks: dict[int, int] = {}
    text = text.strip()
    if text.lower() in ("", "none", "off"):
        return perks
    for part in (p.strip() for p in text.split(",")):
        match = re.fullmatch(r"(?:<@&)?(\d{1,20})>?\s*:\s*x?(\d{1,2}(?:\.\d{1,2})?)x?", part, re.I)
        if not match:
            raise ValueError(f"{part[:40]!r}: use role:factor pairs like @Holder:1.5")
        bps = int(Decimal(match.group(2)) * 10_000)
        if not 11_000 <= bps <= 100_000:
            raise ValueError(f"{part[:40]!r}: a perk factor goes from 1.1 to 10")
        perks[int(match.group(1))] = bps
    if len(perks) > 20:
        raise ValueError("at most 20 perk roles")
    return perks


def parse_streak_table(text: str) -> dict[int, int]:
    """`"3:50, 7:150"` -> {3: 50, 7: 150}; ValueError on anything else ("none" = empty)."""
    table: dict[int, int] = {}
    text = text.strip()
    if text.lower() in ("", "none", "off"):
        return table
    for part in re.split(r"\s*,\s*", text):
        match = re.fullmatch(r"(\d{1,3})\s*:\s*(\d{1,7})", part)
        if not match:
            raise ValueError(f"{part[:20]!r} is not days:GEMS (like 7:150)")
        days, amount = int(match.group(1)), int(match.group(2))
        if not 1 <= days <= 365 or amount < 1:
            raise ValueError("days must be 1-365 and bonuses at least 1")
        table[days] = amount
    if len(table) > 20:
        raise ValueError("at most 20 streak bonuses")
    return dict(sorted(table.items()))


def format_streak_table(table: dict[int, int]) -> str:
    """The canonical text of a streak bonus table."""
    return ",".join(f"{days}:{amount}" for days, amount in sorted(table.items()))


SETTING_KEYS: tuple[str, ...] = tuple(GuildSettings.model_fields)

_ID_LIST_KEYS = {"activity_excluded_channels", "activity_excluded_roles"}
_ID_KEYS = {"admin_role_id", "moderator_role_id", "trade_channel_id", "dispute_channel_id",
            "marketplace_channel_id", "marketplace_queue_channel_id",
            "announcements_channel_id", "event_manager_role_id",
            "challenge_channel_id", "challenge_gallery_channel_id", "challenge_manager_role_id"}
_STR_LIST_KEYS = {"marketplace_categories", "boost_applies_to"}
_ID_KEYS |= {"nft_log_channel_id"}
_NONE_WORDS = {"none", "off", "-", "clear", "null"}
# --- mentorship
_ID_KEYS |= {"mentorship_lead_role_id", "mentorship_channel_id", "mentorship_queue_channel_id",
             "mentorship_spotlight_channel_id", "guides_channel_id"}
_ID_LIST_KEYS |= {"mentor_level_roles"}
_STR_LIST_KEYS |= {"mentorship_skills"}
# --- modules
_STR_LIST_KEYS |= {"disabled_features"}


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
    if _STRIPE_SECRET.search(text):
        # Never echoed back or stored: a pasted key would sit in the settings history.
        raise InvalidInput("That looks like a Stripe secret key. Stripe keys belong in the bot's "
                           "environment (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET), not in server "
                           "settings; nothing was saved. Roll the key in Stripe if others saw it.")
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
    if key in ("currency_emoji", "currency_name"):
        _check_public_text(key, text)
    try:
        current = GuildSettings()
        setattr(current, key, value)
        return getattr(current, key)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"`{text[:100]}` is not a valid value for `{key}`: {reason}.") from None


_CUSTOM_EMOJI = re.compile(r"<a?:[A-Za-z0-9_]{2,32}:\d{15,21}>")
# Shown publicly beside every amount: no pings, markdown, links or line breaks.
_CURRENCY_NAME = re.compile(r"[^\n\r@<>*_~`|\\#\[\]():/]+")


def _check_public_text(key: str, text: str) -> None:
    """Settings shown publicly (beside every amount) must be what they claim to be.

    Checked when a value is set, not in the model: a value stored by an older version must keep
    loading (a model error would break every command of that server).
    """
    if key == "currency_emoji" and not (_CUSTOM_EMOJI.fullmatch(text) or emoji.is_emoji(text)):
        raise InvalidInput(
            f"`{text[:100]}` is not a valid value for `currency_emoji`: it must be one emoji, "
            "e.g. 💎, or one of this server's emojis (type it as :name: so Discord sends "
            "<:name:id>).")
    if key == "currency_name" and (
            strip_invisible(text) != text or not _CURRENCY_NAME.fullmatch(text)):
        raise InvalidInput(
            f"`{text[:100]}` is not a valid value for `currency_name`: use letters, digits, "
            "spaces and simple punctuation (no @, markdown, links or invisible characters).")


def _parse_id(key: str, text: str) -> int:
    match = re.fullmatch(r"<(?:@&|@!?|#)(\d{1,20})>|(\d{1,20})", text.strip())
    if not match:
        raise InvalidInput(f"`{text[:100]}` is not a valid value for `{key}`: expected an id or a mention.")
    return int(match.group(1) or match.group(2))


class SettingsService:
    """Reads and changes guild settings, recording who changed what.

    Settings are read by nearly every command, so they are cached per guild: a cached copy is
    served as is for `FRESH_SECONDS`, then revalidated by the document's version stamp (a change
    made by another process on the same MongoDB bumps it); only a changed stamp costs a new
    parse. Concurrent misses for one guild share one read (a burst of commands after a start
    makes one query, not a thousand). `set` drops this process's copy at once.
    """

    FRESH_SECONDS = 2.0

    def __init__(self, repo: SettingsRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        #: guild -> (monotonic time checked, version stamp, settings)
        self._cache: dict[int, tuple[float, int, GuildSettings]] = {}
        self._loading: dict[int, asyncio.Future[GuildSettings]] = {}
        #: Bumped by `set`/`invalidate`: a read that started before a change must not be cached.
        self._generation: dict[int, int] = {}
        #: How many times the store was read (tests and the bench count round trips).
        self.reads = 0

    async def get(self, guild_id: int) -> GuildSettings:
        """The effective settings of a guild (defaults plus stored overrides)."""
        cached = self._cache.get(guild_id)
        if cached and time.monotonic() - cached[0] < self.FRESH_SECONDS:
            return cached[2]
        pending = self._loading.get(guild_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[GuildSettings] = asyncio.get_running_loop().create_future()
        self._loading[guild_id] = future
        try:
            settings = await self._load(guild_id, cached)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here: waiters (if any) get it re-raised
            raise
        else:
            future.set_result(settings)
            return settings
        finally:
            if self._loading.get(guild_id) is future:
                del self._loading[guild_id]

    async def _load(self, guild_id: int, cached: tuple[float, int, GuildSettings] | None) -> GuildSettings:
        self.reads += 1
        generation = self._generation.get(guild_id, 0)
        version, overrides = await self._repo.versioned(guild_id)
        if cached and cached[1] == version and guild_id in self._cache:
            settings = cached[2]  # unchanged: no parse
        else:
            settings = GuildSettings.model_validate(overrides)
        if self._generation.get(guild_id, 0) == generation:
            self._cache[guild_id] = (time.monotonic(), version, settings)
        return settings

    async def set(self, guild_id: int, actor_id: int, key: str, raw: str) -> tuple[Any, Any]:
        """Validate and store one setting; returns (old, new). Raises NotFound/InvalidInput.

        A value equal to the current one is not written: the history records only real changes.
        """
        new = parse_value(key, raw)
        old = getattr(await self.get(guild_id), key)
        if new == old:
            return old, new
        default = GuildSettings.model_fields[key].get_default(call_default_factory=True)
        await self._repo.change(
            guild_id, key, new, old=old, actor_id=actor_id, at=self._clock.now(),
            is_default=new == default,
        )
        self.invalidate(guild_id)
        return old, new

    async def history(self, guild_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
        """The latest setting changes, newest first."""
        return await self._repo.history(guild_id, limit=limit)

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached settings of a guild (and any read of them still under way)."""
        self._cache.pop(guild_id, None)
        self._generation[guild_id] = self._generation.get(guild_id, 0) + 1
        self._loading.pop(guild_id, None)


def format_value(value: Any) -> str:
    """Render a setting value for display."""
    if value is None:
        return "not set"
    if isinstance(value, bool):  # admins type on/off; show the same words back
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
