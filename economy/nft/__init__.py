"""Linked crypto wallets and roles for NFT holders."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.nft.settings import NftSettings


def build(core: Core) -> dict[str, Any]:
    """The nft services, built from the core."""
    from economy.nft.chain import ChainRegistry
    from economy.nft.media import NftMediaService
    from economy.nft.repo import NftRepo
    from economy.nft.service import NftService
    from economy.nft.wallet_repo import WalletRepo
    from economy.nft.wallets import WalletService

    nft_repo, wallet_repo = NftRepo(core.db), WalletRepo(core.db)
    options = core.options
    return {
        "wallets": WalletService(wallet_repo, core.clock),
        "nft": NftService(nft_repo, wallet_repo, options.get("chains") or ChainRegistry(),
                          core.clock, signals=core.signals),
        "nft_media": NftMediaService(nft_repo, core.clock,
                                     hosts=options.get("nft_media_hosts", ()),
                                     gateway=options.get("ipfs_gateway", "https://ipfs.io")),
    }


FEATURE = Feature(
    name="nft",
    label="Wallets and NFT roles",
    settings=NftSettings,
    build=build,
    personal_collections=frozenset({"wallets", "wallet_links"}),
    personal_slot_kinds=frozenset({"wallet", "wallet_link"}),
)
