"""Badges (economy/badges/): indexes of the five badge collections, indexes for the counts the
award rules read (events attended and guides published per member), and the `$jsonSchema`
validators of the badge collections (economy/repos/schemas.py; MongoDB keeps them, the embedded
store keeps none). Every index starts with guild_id. Re-runnable."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from economy.repos.schemas import validator
from migrations._frozen.validators import install_validators

COLLECTIONS = ("badge_awards", "badge_defs", "badge_log", "badge_rules", "badge_showcases")


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Validators first (a collection created with its validator), then the indexes."""
    await install_validators(db, {name: validator(name) for name in COLLECTIONS})
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
