"""Linked wallets, one-time wallet-link tickets, NFT role rules and per-guild sync state.

One wallet belongs to one member per guild: a plain unique index on (guild_id, address) (the
embedded store ignores partialFilterExpression, so nothing relies on one). Addresses are stored
EIP-55 checksummed, so one address has one spelling.
"""

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Create the wallet and NFT indexes (re-runnable)."""
    await db["wallets"].create_indexes([
        _ix("guild_id", "address", name="guild_address_unique", unique=True),
        _ix("guild_id", "user_id", name="guild_user"),
    ])
    await db["wallet_links"].create_indexes([
        _ix("guild_id", "user_id", name="guild_user"),
    ])
    await db["nft_rules"].create_indexes([
        _ix("guild_id", "rule_id", name="guild_rule_unique", unique=True),
        _ix("guild_id", "role_id", name="guild_role"),
    ])
    # nft_problems: report-once markers keyed by _id "{guild_id}:{problem}".
    await db["nft_problems"].create_indexes([_ix("guild_id", name="guild")])
    await db["nft_media"].create_indexes([
        _ix("guild_id", "key", name="guild_key_unique", unique=True),
    ])
    await db["nft_sync"].create_indexes([
        _ix("guild_id", name="guild"),
        _ix("next_due_ms", name="due"),
    ])
