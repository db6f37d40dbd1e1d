"""The shop (economy/shop): indexes of its three collections (their `$jsonSchema` is declared in
economy/repos/schemas.py and installed by the validator step of the migrations runner)."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from economy.repos.schemas import validator
from migrations._frozen.validators import install_validators

COLLECTIONS = ("shop_holdings", "shop_items", "shop_purchases")


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Validators, then the indexes: items by number; a member's holdings; timed roles by end;
    purchases by status."""
    await install_validators(db, {name: validator(name) for name in COLLECTIONS})
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
