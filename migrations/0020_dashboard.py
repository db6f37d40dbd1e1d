"""The web dashboard (economy/dashboard/): `dashboard_sessions` and `dashboard_login_states`,
each with an expiry index on `expires_at` (the hourly `dashboard-prune` job deletes what has
expired by the bot's clock, and every read compares `expires_at`), sessions indexed by member
for `/dashboard logout-all`, and their `$jsonSchema` validators (frozen copies of
economy/repos/schemas.py's declarations as this migration was written). Re-runnable.

Not a TTL index: MongoDB's TTL monitor deletes by the server's wall clock, while the bot decides
expiry by its own (injected) clock; the demo and the tests run on a clock of their own, and a
TTL monitor would delete their sessions the moment they are made."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from migrations._frozen.validators import install_validators

_INT = {"bsonType": ["int", "long"]}
_DATE = {"bsonType": "date"}
_STR = {"bsonType": "string"}
VALIDATORS = {
    "dashboard_login_states": {"$jsonSchema": {"bsonType": "object", "properties": {
        "_id": _STR, "created_at": _DATE, "expires_at": _DATE}}},
    "dashboard_sessions": {"$jsonSchema": {"bsonType": "object", "properties": {
        "_id": _STR, "created_at": _DATE, "expires_at": _DATE,
        "guild_ids": {"bsonType": "array", "items": _INT}, "name": _STR, "user_id": _INT}}},
}


def _expiry() -> IndexModel:
    return IndexModel([("expires_at", ASCENDING)], name="expiry")


async def up(db) -> None:
    """Create both collections with their validators and indexes (re-runnable)."""
    await install_validators(db, VALIDATORS)
    await db["dashboard_login_states"].create_indexes([_expiry()])
    await db["dashboard_sessions"].create_indexes([
        _expiry(), IndexModel([("user_id", ASCENDING)], name="user")])
