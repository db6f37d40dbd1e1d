"""Raffles (economy/raffles) and role income (economy/income): indexes of `raffles`,
`raffle_tickets` and `income_rules` (their `$jsonSchema` is declared in economy/repos/schemas.py
and installed as validators here, as 0017 does)."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from economy.repos.schemas import validator
from migrations._frozen.validators import install_validators

COLLECTIONS = ("income_rules", "raffle_tickets", "raffles")


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Validators, then the indexes: raffles by number and by status (the sweep's work list:
    ended open raffles by end, closed, drawn not announced, cancelled with refunds left); a
    raffle's tickets by member; a member's tickets by raffle."""
    await install_validators(db, {name: validator(name) for name in COLLECTIONS})
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
