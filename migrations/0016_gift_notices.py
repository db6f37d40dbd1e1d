"""Gift notices (issue 24: a gift's recipient is told by one coalesced DM).

`gift_notices` is a short-lived queue (economy/currency/repo.py): the sweep looks for the
recipients whose oldest notice is due (`due` index), then takes one recipient's notices in the
order they were given (`recipient` index). On MongoDB the collection gets its `$jsonSchema`
validator like every declared collection (migration 0013); the schema is a frozen copy of the
declaration as this migration was written, so a later change to the live declaration installs
itself through its own migration.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from migrations._frozen.validators import install_validators

_INT = {"bsonType": ["int", "long"]}
#: Frozen copy of economy/repos/schemas.py's "gift_notices" declaration.
VALIDATOR = {"$jsonSchema": {"bsonType": "object", "properties": {
    "_id": {"bsonType": "string"}, "guild_id": _INT, "user_id": _INT, "sender_id": _INT,
    "amount": _INT, "note": {"bsonType": ["string", "null"]}, "at_ms": _INT, "due_ms": _INT,
}}}


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def up(db) -> None:
    """Create the queue's indexes and its validator (re-runnable)."""
    await install_validators(db, {"gift_notices": VALIDATOR})
    await db["gift_notices"].create_indexes([
        # No `_id` in the keys: the embedded store refuses every later insert into a collection
        # with `_id` in a compound index ("JSON path error near '_id'"); `_id` breaks only ties.
        _ix("due_ms", name="due"),
        _ix("guild_id", "user_id", "at_ms", name="recipient"),
    ])
