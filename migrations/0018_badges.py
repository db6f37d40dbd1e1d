"""Badges (economy/badges/): indexes of the five badge collections, indexes for the counts the
award rules read (events attended and guides published per member), and the `$jsonSchema`
validators of the badge collections (economy/repos/schemas.py; MongoDB keeps them, the embedded
store keeps none). Every index starts with guild_id. Re-runnable."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from migrations._frozen.validators import install_validators

COLLECTIONS = ("badge_awards", "badge_defs", "badge_log", "badge_rules", "badge_showcases")
#: The collections' `$jsonSchema` as declared on 2026-12-07, frozen here (a later
#: change to economy/repos/schemas.py must not change what this migration installs).
VALIDATORS = {'badge_awards': {'$jsonSchema': {'bsonType': 'object',
                                  'properties': {'_id': {'bsonType': 'string'},
                                                 'at_ms': {'bsonType': ['int', 'long']},
                                                 'badge': {'bsonType': 'string'},
                                                 'by': {'bsonType': ['int', 'long', 'null']},
                                                 'claim_v': {'bsonType': ['int',
                                                                          'long',
                                                                          'null']},
                                                 'edition': {'bsonType': ['int',
                                                                          'long',
                                                                          'null']},
                                                 'guild_id': {'bsonType': ['int', 'long']},
                                                 'listing_id': {'bsonType': ['int',
                                                                             'long',
                                                                             'null']},
                                                 'reason': {'bsonType': ['string', 'null']},
                                                 'reward': {'bsonType': ['int', 'long']},
                                                 'role_id': {'bsonType': ['int',
                                                                          'long',
                                                                          'null']},
                                                 'role_state': {'bsonType': ['string', 'null']},
                                                 'serial': {'bsonType': ['int',
                                                                         'long',
                                                                         'null']},
                                                 'user_id': {'bsonType': ['int', 'long']}}}},
 'badge_defs': {'$jsonSchema': {'bsonType': 'object',
                                'properties': {'_id': {'bsonType': 'string'},
                                               'created_by': {'bsonType': ['int', 'long']},
                                               'created_ms': {'bsonType': ['int', 'long']},
                                               'description': {'bsonType': 'string'},
                                               'emoji': {'bsonType': 'string'},
                                               'guild_id': {'bsonType': ['int', 'long']},
                                               'key': {'bsonType': 'string'},
                                               'name': {'bsonType': 'string'},
                                               'no': {'bsonType': ['int', 'long']},
                                               'rarity': {'bsonType': 'string'},
                                               'rule': {'bsonType': ['object', 'null'],
                                                        'properties': {'at_least': {'bsonType': ['int',
                                                                                                 'long']},
                                                                       'fact': {'bsonType': 'string'}}},
                                               'supply': {'bsonType': ['int', 'long', 'null']},
                                               'tradeable': {'bsonType': 'bool'}}}},
 'badge_log': {'$jsonSchema': {'bsonType': 'object',
                               'properties': {'_id': {'bsonType': 'objectId'},
                                              'action': {'bsonType': 'string'},
                                              'actor_id': {'bsonType': ['int', 'long']},
                                              'at_ms': {'bsonType': ['int', 'long']},
                                              'badge': {'bsonType': 'string'},
                                              'guild_id': {'bsonType': ['int', 'long']},
                                              'reason': {'bsonType': 'string'},
                                              'user_id': {'bsonType': ['int', 'long']}}}},
 'badge_rules': {'$jsonSchema': {'bsonType': 'object',
                                 'properties': {'_id': {'bsonType': 'string'},
                                                'at_ms': {'bsonType': ['int', 'long']},
                                                'badge': {'bsonType': 'string'},
                                                'by': {'bsonType': ['int', 'long']},
                                                'guild_id': {'bsonType': ['int', 'long']},
                                                'reward': {'bsonType': ['int', 'long', 'null']},
                                                'role_id': {'bsonType': ['int',
                                                                         'long',
                                                                         'null']},
                                                'state': {'bsonType': 'string'}}}},
 'badge_showcases': {'$jsonSchema': {'bsonType': 'object',
                                     'properties': {'_id': {'bsonType': 'string'},
                                                    'at_ms': {'bsonType': ['int', 'long']},
                                                    'badges': {'bsonType': 'array',
                                                               'items': {'bsonType': 'string'}},
                                                    'guild_id': {'bsonType': ['int', 'long']},
                                                    'user_id': {'bsonType': ['int', 'long']}}}}}


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Validators first (a collection created with its validator), then the indexes."""
    await install_validators(db, VALIDATORS)
    # Awards have `_id` "<guild>:<badge>:<user>" (one per member and badge).
    await db["badge_awards"].create_indexes([
        _ix("guild_id", "user_id", "at_ms", name="guild_user_at"),
        _ix("guild_id", "badge", name="guild_badge"),
    ])
    await db["badge_defs"].create_indexes([_ix("guild_id", "no", name="guild_no_unique",
                                               unique=True)])
    await db["badge_log"].create_indexes([_ix("guild_id", "user_id", "at_ms",
                                              name="guild_user_at")])
    await db["badge_rules"].create_indexes([_ix("guild_id", "badge", name="guild_badge")])
    await db["badge_showcases"].create_indexes([_ix("guild_id", "user_id", name="guild_user")])
    # The rules' counts: events a member attended, guides a member published.
    await db["event_attendance"].create_indexes([_ix("guild_id", "user_id",
                                                     name="guild_user")])
    await db["guides"].create_indexes([_ix("guild_id", "author_id", "status",
                                           name="guild_author_status")])
