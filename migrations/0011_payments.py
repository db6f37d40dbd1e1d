"""Card payments (Stripe): checkouts, received events, payouts owed, GEMS packs, sellers.

Webhook events are unique per (guild_id, event_id): a replayed event is recognised by its id.
Payouts are unique per (guild_id, payout_id) (`trade:<id>:refund`, `trade:<id>:payout`), so a
settlement can record what it owes only once.
"""

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Create the payment indexes (re-runnable)."""
    await db["pay_checkouts"].create_indexes([
        _ix("guild_id", "checkout_no", name="guild_checkout_unique", unique=True),
        _ix("guild_id", "session_id", name="guild_session"),
        _ix("guild_id", "payment_intent", name="guild_intent"),
        _ix("guild_id", "buyer_id", "status", name="guild_buyer_status"),
        _ix("guild_id", "status", "expires_ms", name="guild_status_expiry"),
    ])
    await db["pay_events"].create_indexes([
        _ix("guild_id", "event_id", name="guild_event_unique", unique=True),
        _ix("guild_id", "received_ms", name="guild_received"),
    ])
    await db["pay_payouts"].create_indexes([
        _ix("guild_id", "payout_id", name="guild_payout_unique", unique=True),
        _ix("guild_id", "trade_id", name="guild_trade"),
        _ix("guild_id", "status", name="guild_status"),
    ])
    await db["pay_packs"].create_indexes([
        _ix("guild_id", "pack_id", name="guild_pack_unique", unique=True),
    ])
    await db["pay_sellers"].create_indexes([
        _ix("guild_id", "user_id", name="guild_user_unique", unique=True),
    ])
