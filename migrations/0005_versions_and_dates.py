"""Version counters on trades and listings; listing dates as epoch milliseconds only; the
collections of the abuse limits (member preferences, guarded per-member counters, alert digests).

- `version` (0 where missing) on `trades` and `listings`: every write bumps it and every
  read-modify-write is guarded by the version it read.
- Listings stored their changing dates both as datetimes written with top-level `$set` (text on
  the embedded store, dates on MongoDB) and as epoch-ms mirrors. From now on only the `*_ts`
  integers are kept: `updated_ts` is filled from `updated_at`, and the datetime fields removed.

Linear: one pass over each collection (index-backed pages, see economy/repos/paging.py), bulk
writes by `_id` per page, a progress line every 10,000 documents. Re-runnable.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ASCENDING, IndexModel, UpdateOne

from economy.repos.paging import pages

BATCH = 1000
LISTING_DATES = ("created_at", "listed_at", "sold_at", "expires_at", "updated_at")


def _epoch_ms(value: object) -> int | None:
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    return None


async def _stream(db, collection: str, key: str, fix) -> int:
    """Apply `fix(doc) -> update or None` to every document, in bulk batches; returns changed.

    One linear pass through the (guild_id, `key`) index (economy/repos/paging.py).
    """
    changed = 0
    async for docs in pages(db[collection], key, batch=BATCH,
                            label=f"migration 0005: {collection} read"):
        ops = [UpdateOne({"_id": doc["_id"]}, update) for doc in docs if (update := fix(doc))]
        if ops:
            await db[collection].bulk_write(ops, ordered=False)
            changed += len(ops)
    return changed


def _trade_fix(doc: dict) -> dict | None:
    return None if "version" in doc else {"$set": {"version": 0}}


def _listing_fix(doc: dict) -> dict | None:
    update: dict = {}
    if "version" not in doc:
        update["$set"] = {"version": 0}
    if "updated_ts" not in doc:
        stamp = _epoch_ms(doc.get("updated_at")) or doc.get("created_ts")
        update.setdefault("$set", {})["updated_ts"] = stamp
    present = [name for name in LISTING_DATES if name in doc]
    if present:
        update["$unset"] = dict.fromkeys(present, "")
    return update or None


async def create_indexes(db) -> None:
    """Indexes of the abuse-limit collections (re-runnable)."""
    await db["member_prefs"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("user_id", ASCENDING)], unique=True,
                   name="guild_user")])
    await db["member_quotas"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("user_id", ASCENDING), ("bucket", ASCENDING)],
                   unique=True, name="guild_user_bucket_unique")])
    await db["market_alert_outbox"].create_indexes([
        IndexModel([("guild_id", ASCENDING), ("user_id", ASCENDING), ("due_ms", ASCENDING)],
                   name="guild_user_due"),
        # The digest sweep looks across guilds for due matches.
        IndexModel([("due_ms", ASCENDING)], name="due")])


async def up(db) -> None:
    """Add versions to trades and listings; keep listing dates as epoch-ms only; indexes."""
    await create_indexes(db)
    await _stream(db, "trades", "trade_id", _trade_fix)
    await _stream(db, "listings", "listing_id", _listing_fix)
