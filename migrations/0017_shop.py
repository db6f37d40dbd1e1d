"""The shop (economy/shop): indexes of its three collections (their `$jsonSchema` is declared in
economy/repos/schemas.py and installed by the validator step of the migrations runner)."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from migrations._frozen.validators import install_validators

COLLECTIONS = ("shop_holdings", "shop_items", "shop_purchases")
#: The collections' `$jsonSchema` as declared on 2026-12-07, frozen here (a later
#: change to economy/repos/schemas.py must not change what this migration installs).
VALIDATORS = {'shop_holdings': {'$jsonSchema': {'bsonType': 'object',
                                   'properties': {'_id': {'bsonType': 'string'},
                                                  'bought': {'bsonType': ['int', 'long']},
                                                  'guild_id': {'bsonType': ['int', 'long']},
                                                  'item_id': {'bsonType': ['int', 'long']},
                                                  'quantity': {'bsonType': ['int', 'long']},
                                                  'role_until_ms': {'bsonType': ['int',
                                                                                 'long',
                                                                                 'null']},
                                                  'user_id': {'bsonType': ['int', 'long']}}}},
 'shop_items': {'$jsonSchema': {'bsonType': 'object',
                                'properties': {'_id': {'bsonType': 'string'},
                                               'active': {'bsonType': 'bool'},
                                               'created_by': {'bsonType': ['int',
                                                                           'long',
                                                                           'null']},
                                               'created_ms': {'bsonType': ['int',
                                                                           'long',
                                                                           'null']},
                                               'days': {'bsonType': ['int', 'long', 'null']},
                                               'description': {'bsonType': ['string', 'null']},
                                               'effect': {'bsonType': ['string', 'null']},
                                               'from_ms': {'bsonType': ['int', 'long', 'null']},
                                               'guild_id': {'bsonType': ['int', 'long']},
                                               'item_id': {'bsonType': ['int', 'long']},
                                               'kind': {'bsonType': 'string'},
                                               'name': {'bsonType': 'string'},
                                               'per_member_limit': {'bsonType': ['int',
                                                                                 'long',
                                                                                 'null']},
                                               'price': {'bsonType': ['int', 'long']},
                                               'required_role_id': {'bsonType': ['int',
                                                                                 'long',
                                                                                 'null']},
                                               'role_id': {'bsonType': ['int', 'long', 'null']},
                                               'sold': {'bsonType': ['int', 'long']},
                                               'stock': {'bsonType': ['int', 'long', 'null']},
                                               'until_ms': {'bsonType': ['int',
                                                                         'long',
                                                                         'null']},
                                               'version': {'bsonType': ['int', 'long']}}}},
 'shop_purchases': {'$jsonSchema': {'bsonType': 'object',
                                    'properties': {'_id': {'bsonType': 'string'},
                                                   'at_ms': {'bsonType': ['int', 'long']},
                                                   'burn': {'bsonType': 'bool'},
                                                   'days': {'bsonType': ['int',
                                                                         'long',
                                                                         'null']},
                                                   'guild_id': {'bsonType': ['int', 'long']},
                                                   'item_id': {'bsonType': ['int', 'long']},
                                                   'kind': {'bsonType': 'string'},
                                                   'prev_until_ms': {'bsonType': ['int',
                                                                                  'long',
                                                                                  'null']},
                                                   'price': {'bsonType': ['int', 'long']},
                                                   'recipient_id': {'bsonType': ['int',
                                                                                 'long']},
                                                   'role_id': {'bsonType': ['int',
                                                                            'long',
                                                                            'null']},
                                                   'status': {'bsonType': 'string'},
                                                   'until_ms': {'bsonType': ['int',
                                                                             'long',
                                                                             'null']},
                                                   'user_id': {'bsonType': ['int', 'long']}}}}}


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Validators, then the indexes: items by number; a member's holdings; timed roles by end;
    purchases by status."""
    await install_validators(db, VALIDATORS)
    await db["shop_items"].create_indexes([
        _ix("guild_id", "item_id", name="guild_item_unique", unique=True),
        _ix("guild_id", "active", "item_id", name="guild_active_item"),
    ])
    await db["shop_holdings"].create_indexes([
        _ix("guild_id", "user_id", "item_id", name="guild_user_item_unique", unique=True),
        _ix("guild_id", "role_until_ms", name="guild_role_until"),
    ])
    await db["shop_purchases"].create_indexes([
        _ix("guild_id", "status", "at_ms", name="guild_status_at"),
        _ix("guild_id", "user_id", "at_ms", name="guild_user_at"),
    ])
