"""Builds the domain services over one database and one clock (no Discord, no globals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from economy.activity import ActivityService
from economy.chain import ChainRegistry
from economy.clock import Clock
from economy.escrow import EscrowService
from economy.ledger import LedgerService
from economy.marketplace import MarketplaceService
from economy.nft import NftService
from economy.nft_media import NftMediaService
from economy.repos.base import Database
from economy.repos.ledger_repo import LedgerRepo
from economy.repos.listing_repo import ListingRepo
from economy.repos.market_member_repo import MarketMemberRepo
from economy.repos.multiplier_repo import MultiplierRepo
from economy.repos.nft_repo import NftRepo
from economy.repos.settings_repo import SettingsRepo
from economy.repos.trade_repo import TradeRepo
from economy.repos.wallet_repo import WalletRepo
from economy.settings import SettingsService
from economy.wallets import WalletService


@dataclass
class Services:
    """Everything the cogs call. The bot object carries one of these."""

    db: Database
    clock: Clock
    ledger: LedgerService
    settings: SettingsService
    activity: ActivityService
    ledger_repo: LedgerRepo
    multipliers: MultiplierRepo
    escrow: EscrowService
    trade_repo: TradeRepo
    marketplace: MarketplaceService
    listing_repo: ListingRepo
    # --- wallets and NFT roles
    wallets: WalletService
    nft: NftService
    nft_media: NftMediaService


def build_services(db: Database, clock: Clock, *, chains: ChainRegistry | None = None,
                   nft_media_hosts: Sequence[str] = (), ipfs_gateway: str = "https://ipfs.io",
                   ) -> Services:
    """Wire repositories and services together.

    `chains`: the EVM chains the bot can read; `nft_media_hosts`/`ipfs_gateway`: where token
    metadata and images may be fetched from.
    """
    ledger_repo = LedgerRepo(db)
    multipliers = MultiplierRepo(db)
    ledger = LedgerService(ledger_repo, multipliers, clock)
    settings = SettingsService(SettingsRepo(db), clock)
    activity = ActivityService(ledger, settings, clock)
    trade_repo = TradeRepo(db)
    listing_repo = ListingRepo(db)
    escrow = EscrowService(trade_repo, ledger, settings, clock, listings=listing_repo)
    marketplace = MarketplaceService(listing_repo, MarketMemberRepo(db, listing_repo), settings,
                                     clock)
    return Services(db=db, clock=clock, ledger=ledger, settings=settings, activity=activity,
                    ledger_repo=ledger_repo, multipliers=multipliers, escrow=escrow,
                    trade_repo=trade_repo, marketplace=marketplace, listing_repo=listing_repo,
                    wallets=WalletService(WalletRepo(db), clock),
                    nft=NftService(NftRepo(db), WalletRepo(db), chains or ChainRegistry(), clock),
                    nft_media=NftMediaService(NftRepo(db), clock, hosts=nft_media_hosts,
                                              gateway=ipfs_gateway))
