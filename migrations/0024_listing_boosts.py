"""Listing boosts (economy/marketplace/boost.py): the index of the boosts that run now.

A results page reads the active listings of a guild whose `boosted_until_ms` lies after now
(`ListingRepo.boosted`): an equality on (guild_id, status) and a range on the boost's end, so
the read is as small as the live boosts on both stores, whatever the guild's size. The two new
listing fields (`boosted_until_ms`, `boosted_at_ms`, epoch-ms integers) are optional and
declared in economy/repos/schemas.py, installed with the current declarations by 0013 like the
listings' `collectible` (0023). Re-runnable.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel


async def up(db) -> None:
    """Create the boosts' index (create_indexes is a no-op when it exists)."""
    await db["listings"].create_indexes([IndexModel(
        [("guild_id", ASCENDING), ("status", ASCENDING), ("boosted_until_ms", ASCENDING)],
        name="browse_boosted")])
