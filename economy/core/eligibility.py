"""Who counts as an established member: the alt-farming guard for earning and giving.

A Discord account's creation time is in its id (a snowflake), so the bot needs no extra call to
know it; the time a member joined the guild comes from Discord with the member. Both thresholds
are guild settings (`min_account_age_days`, `min_member_days`; 0 turns a check off).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from economy.core.clock import from_ms
from economy.core.errors import NotPermitted
from economy.core.settings import GuildSettings
from economy.core.wording import plural

DISCORD_EPOCH_MS = 1_420_070_400_000
#: Accounts younger than this (or members newer than a week) count as "young" for the fan-in flag.
YOUNG_ACCOUNT_DAYS = 30
YOUNG_MEMBER_DAYS = 7


def account_created_at(user_id: int) -> datetime:
    """When a Discord account was created (from its snowflake id)."""
    return from_ms((user_id >> 22) + DISCORD_EPOCH_MS)


def not_established_reason(settings: GuildSettings, user_id: int, joined_at: datetime | None,
                           now: datetime) -> str | None:
    """Why this member can't earn or give yet, or None when they can.

    `joined_at` None (not known) skips the membership check; the account age always applies.
    """
    age = now - account_created_at(user_id)
    if settings.min_account_age_days and age < timedelta(days=settings.min_account_age_days):
        return (f"your Discord account must be at least {plural(settings.min_account_age_days, 'day')} "
                f"old (it is {plural(max(age.days, 0), 'day')} old)")
    if joined_at is not None and settings.min_member_days:
        stay = now - joined_at
        if stay < timedelta(days=settings.min_member_days):
            return (f"you need to have been in this server for at least "
                    f"{plural(settings.min_member_days, 'day')}")
    return None


def require_established(settings: GuildSettings, user_id: int, joined_at: datetime | None,
                        now: datetime, action: str) -> None:
    """Raise NotPermitted (friendly) when the member is too new to `action`."""
    reason = not_established_reason(settings, user_id, joined_at, now)
    if reason:
        raise NotPermitted(f"New members can't {action} yet: {reason}.")


def is_young(user_id: int, joined_at: datetime | None, now: datetime) -> bool:
    """A young account or a new member (for flagging fan-in to one member)."""
    if now - account_created_at(user_id) < timedelta(days=YOUNG_ACCOUNT_DAYS):
        return True
    return joined_at is not None and now - joined_at < timedelta(days=YOUNG_MEMBER_DAYS)
