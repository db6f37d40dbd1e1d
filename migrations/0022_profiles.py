"""Profiles (economy/profile/) and the badges' further rules (issue 25): the index of
`profile_privacy` (one document per member, `_id` "<guild>:<user>"), and the indexes the new
award rules read (event wins, season podiums) and of the role rewards still to give. Every index starts with guild_id.
Re-runnable (create_indexes with the same names and keys is a no-op)."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def up(db) -> None:
    """The profile's privacy choices by member; the new rules' counts by member."""
    await db["profile_privacy"].create_indexes([_ix("guild_id", "user_id", name="guild_user")])
    # Events a member won, seasons a member finished in the top 3 (multikey on the winners).
    await db["community_events"].create_indexes([_ix("guild_id", "winners",
                                                     name="guild_winners")])
    await db["season_results"].create_indexes([_ix("guild_id", "winners.user_id",
                                                   name="guild_winner_users")])
    # Awards whose role the bot has still to give (the `badge-roles` job).
    await db["badge_awards"].create_indexes([_ix("guild_id", "role_state", "at_ms",
                                                 name="guild_role_state")])
