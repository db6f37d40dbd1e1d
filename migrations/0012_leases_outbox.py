"""Scale-out: the scheduler lease and the guild-work outbox.

`leases` needs no index beyond `_id` (one document per lease name). The outbox is polled per
shard across guilds, so its poll index starts with status and shard instead of guild_id; the
guild index serves per-guild views and clean-up.
"""

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name)


async def up(db) -> None:
    """Create the outbox indexes (re-runnable)."""
    await db["outbox"].create_indexes([
        _ix("status", "shard", "created_ms", name="poll"),
        _ix("guild_id", "created_ms", name="guild"),
    ])
