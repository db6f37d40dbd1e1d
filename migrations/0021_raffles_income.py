"""Raffles (economy/raffles) and role income (economy/income): indexes of `raffles`,
`raffle_tickets` and `income_rules` (their `$jsonSchema` is declared in economy/repos/schemas.py
and installed as validators here, as 0017 does)."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from migrations._frozen.validators import install_validators

COLLECTIONS = ("income_rules", "raffle_tickets", "raffles")
#: The collections' `$jsonSchema` as declared on 2026-12-07, frozen here (a later
#: change to economy/repos/schemas.py must not change what this migration installs).
VALIDATORS = {'income_rules': {'$jsonSchema': {'bsonType': 'object',
                                  'properties': {'_id': {'bsonType': 'string'},
                                                 'active': {'bsonType': 'bool'},
                                                 'amount': {'bsonType': ['int', 'long']},
                                                 'created_by': {'bsonType': ['int', 'long']},
                                                 'created_ms': {'bsonType': ['int', 'long']},
                                                 'guild_id': {'bsonType': ['int', 'long']},
                                                 'period': {'bsonType': 'string'},
                                                 'role_id': {'bsonType': ['int', 'long']},
                                                 'version': {'bsonType': ['int', 'long']}}}},
 'raffle_tickets': {'$jsonSchema': {'bsonType': 'object',
                                    'properties': {'_id': {'bsonType': 'string'},
                                                   'count': {'bsonType': ['int', 'long']},
                                                   'guild_id': {'bsonType': ['int', 'long']},
                                                   'paid': {'bsonType': ['int', 'long']},
                                                   'raffle_id': {'bsonType': ['int', 'long']},
                                                   'refunded': {'bsonType': 'bool'},
                                                   'user_id': {'bsonType': ['int', 'long']}}}},
 'raffles': {'$jsonSchema': {'bsonType': 'object',
                             'properties': {'_id': {'bsonType': 'string'},
                                            'announced': {'bsonType': 'bool'},
                                            'burn': {'bsonType': 'bool'},
                                            'channel_id': {'bsonType': ['int', 'long', 'null']},
                                            'created_by': {'bsonType': ['int', 'long']},
                                            'created_ms': {'bsonType': ['int', 'long']},
                                            'drawn_ms': {'bsonType': ['int', 'long', 'null']},
                                            'ends_ms': {'bsonType': ['int', 'long']},
                                            'guild_id': {'bsonType': ['int', 'long']},
                                            'max_per_member': {'bsonType': ['int', 'long']},
                                            'price': {'bsonType': ['int', 'long']},
                                            'prize': {'bsonType': 'string'},
                                            'raffle_id': {'bsonType': ['int', 'long']},
                                            'refunds_done': {'bsonType': 'bool'},
                                            'seed': {'bsonType': 'string'},
                                            'seed_hash': {'bsonType': 'string'},
                                            'status': {'bsonType': 'string'},
                                            'ticket_list': {'bsonType': 'array',
                                                            'items': {'bsonType': 'array',
                                                                      'items': {'bsonType': ['int',
                                                                                             'long']}}},
                                            'tickets_sold': {'bsonType': ['int', 'long']},
                                            'winners': {'bsonType': 'array',
                                                        'items': {'bsonType': ['int', 'long']}},
                                            'winners_count': {'bsonType': ['int', 'long']}}}}}


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Validators, then the indexes: raffles by number and by status (the sweep's work list:
    ended open raffles by end, closed, drawn not announced, cancelled with refunds left); a
    raffle's tickets by member; a member's tickets by raffle."""
    await install_validators(db, VALIDATORS)
    await db["raffles"].create_indexes([
        _ix("guild_id", "raffle_id", name="guild_raffle_unique", unique=True),
        _ix("guild_id", "status", "raffle_id", name="guild_status_raffle"),
        _ix("status", "ends_ms", name="status_ends"),
        _ix("status", "announced", name="status_announced"),
        _ix("status", "refunds_done", name="status_refunds_done"),
    ])
    await db["raffle_tickets"].create_indexes([
        _ix("guild_id", "raffle_id", "user_id", name="guild_raffle_user_unique", unique=True),
        _ix("guild_id", "user_id", "raffle_id", name="guild_user_raffle"),
    ])
    await db["income_rules"].create_indexes([
        _ix("guild_id", "active", "role_id", name="guild_active_role"),
    ])
