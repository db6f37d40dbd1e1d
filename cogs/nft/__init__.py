"""Wallets and NFT-holder roles: signed wallet links, ownership rules, batched re-checks."""

from cogs.nft._cog import NftCog
from cogs.nft._web import link_routes


async def setup(bot) -> None:
    """Register the cog, the wallet-link web routes and the periodic sync sweep."""
    cog = NftCog(bot)
    bot.web.add_routes(link_routes(cog))
    # Every minute: guilds whose next periodic sync (nft_sync_minutes) is due are claimed once.
    # Both per process: each process syncs the roles of the guilds of its own shards.
    bot.jobs.add("nft-sync", cog.sync.sync_due, every_seconds=60, per_process=True)
    # Every minute: Transfer logs of rule contracts since the last poll; only their parties.
    bot.jobs.add("nft-transfers", cog.sync.follow_transfers, every_seconds=60, per_process=True)
    await bot.add_cog(cog)
