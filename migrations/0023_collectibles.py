"""Collectibles (economy/badges/collectibles.py): the `badge_transfers` collection (a
collectible's ownership history, one document per move, `_id` "<guild>:trade:<trade>") with its
validator (a frozen copy of its declaration in economy/repos/schemas.py; the badge collections'
new fields `tradeable`, `listing_id`, `claim_v` and the listings' `collectible` are all optional
and installed with the current declarations by 0013), and the indexes: an edition by (badge, serial), a
collectible's history by award. Every index starts with guild_id. Re-runnable."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from migrations._frozen.validators import install_validators

INT = ["int", "long"]
VALIDATOR = {"$jsonSchema": {"bsonType": "object", "properties": {
    "_id": {"bsonType": "string"}, "at_ms": {"bsonType": INT},
    "award_id": {"bsonType": "string"}, "badge": {"bsonType": "string"},
    "from_id": {"bsonType": INT}, "guild_id": {"bsonType": INT},
    "listing_id": {"bsonType": [*INT, "null"]}, "serial": {"bsonType": INT},
    "to_id": {"bsonType": INT}, "trade_id": {"bsonType": INT}}}}


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def up(db) -> None:
    """Validators first, then the indexes."""
    await install_validators(db, {"badge_transfers": VALIDATOR})
    # An edition named in a listing ("c3#17"): the cap slot keeps (badge, serial) unique.
    await db["badge_awards"].create_indexes([_ix("guild_id", "badge", "serial",
                                                 name="guild_badge_serial")])
    await db["badge_transfers"].create_indexes([
        _ix("guild_id", "award_id", "at_ms", name="guild_award_at"),
        _ix("guild_id", "from_id", name="guild_from"),
        _ix("guild_id", "to_id", name="guild_to"),
    ])
