"""The fields migration 0013 repairs (frozen copy).

Generated from economy/repos/schemas.py when the repair was frozen (issue 23): every field declared
as exactly a boolean, and every field declared as a date, per collection (arrays not entered).
Do not edit: the repair undoes what the embedded store wrote before bot/store_tuning.py's
correction, so it must touch the same fields forever, whatever the declarations become later (a
field that becomes a boolean later is not a field the old store wrote as 0/1).
"""

from __future__ import annotations

import datetime

#: Fields whose number 0/1 becomes the boolean.
BOOLEANS: dict[str, tuple[str, ...]] = {
    "accounts": ("system",),
    "challenge_completions": ("paid",),
    "challenge_days": ("announced",),
    "challenge_defs": ("shipped", "def.custom"),
    "challenge_progress": ("completed",),
    "community_events": (
        "live_announced", "next_pending", "payout_done", "reminded_1h", "reminded_24h",
    ),
    "community_goals": ("announced", "payout_done"),
    "counters": ("claimed",),
    "event_rsvps": ("checked_in",),
    "guides": ("has_image",),
    "guild_settings": (
        "values.escrow_wash_trade_block", "values.marketplace_approval", "values.marketplace_usd",
        "values.double_weekend", "values.anniversary_announce", "values.mentor_approval",
        "values.mentorship_weekly_round", "values.payments_usd", "values.payments_packs",
    ),
    "lease_terms": ("previous.released",),
    "leases": ("previous.released", "released"),
    "ledger": ("mint",),
    "listings": ("reminded",),
    "member_prefs": ("dms",),
    "mentorships": ("mentee_ok", "mentor_ok", "reported"),
    "multipliers": ("end_announced", "start_announced"),
    "pay_packs": ("active",),
    "pay_payouts": ("full",),
    "pay_sellers": ("ready",),
    "season_results": ("announced", "paid"),
    "seasons": ("shipped",),
    "trades": ("cancel_buyer", "cancel_seller", "reminder_sent"),
}

#: Fields whose text (Python's `str(datetime)`) becomes the date.
DATES: dict[str, tuple[str, ...]] = {
    "audit_log": ("at", "details.at"),
    "guild_settings": ("changed.at",),
    "ledger": ("at",),
    "listing_images": ("created_at",),
    "market_alerts": ("created_at",),
    "mentor_ratings": ("at",),
    "pay_events": ("received_at",),
    "pay_packs": ("created_at",),
    "pay_sellers": ("created_at",),
    "privacy_deletions": ("at",),
    "saved_queries": ("used_at",),
    "settings_history": ("at",),
    "trade_events": ("at",),
    "trade_ratings": ("at",),
    "trades": (
        "created_at", "dispute.opened_at", "resolution.at", "times.completed_at",
        "times.deliver_by", "times.delivered_at", "times.offer_expires_at", "times.release_at",
        "times.remind_at", "times.updated_at",
    ),
    "wishlists": ("added_at",),
}


def stored_date(text: str) -> datetime.datetime | None:
    """The datetime the embedded store wrote as text for a date set by `$set` (Python's
    `str(datetime)`, e.g. `2026-01-02 03:04:05.123000+00:00`), or None if `text` is not one.
    A date without an offset is UTC (the bot writes only aware UTC dates)."""
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed
