"""Builds the domain services over one database and one clock (no Discord, no globals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from economy.activity import ActivityService
from economy.anniversaries import AnniversaryService
from economy.boosts import BoostService
from economy.chain import ChainRegistry
from economy.challenges.competitions import CompetitionService
from economy.challenges.progress import ChallengeProgress
from economy.challenges.service import ChallengeService
from economy.clock import Clock
from economy.escrow import EscrowService
from economy.events import EventService
from economy.gifts import GiftService
from economy.goals import GoalService
from economy.guides import GuideService
from economy.ledger import LedgerService
from economy.marketplace import MarketplaceService
from economy.member_prefs import MemberPrefsService
from economy.members import MemberService
from economy.mentorship import MentorshipService
from economy.modules import ModuleService
from economy.nft import NftService
from economy.nft_media import NftMediaService
from economy.onboarding import OnboardingService
from economy.payments import PaymentsService
from economy.privacy import PrivacyService
from economy.repos.base import Database
from economy.repos.challenge_repo import ChallengeRepo
from economy.repos.competition_repo import CompetitionRepo
from economy.repos.event_repo import EventRepo
from economy.repos.goal_repo import GoalRepo
from economy.repos.guide_repo import GuideRepo
from economy.repos.lease_repo import LeaseRepo
from economy.repos.ledger_repo import LedgerRepo
from economy.repos.listing_repo import ListingRepo
from economy.repos.market_member_repo import MarketMemberRepo
from economy.repos.member_prefs_repo import MemberPrefsRepo
from economy.repos.member_repo import MemberRepo
from economy.repos.mentorship_repo import MentorshipRepo
from economy.repos.multiplier_repo import MultiplierRepo
from economy.repos.nft_repo import NftRepo
from economy.repos.onboarding_repo import OnboardingRepo
from economy.repos.outbox_repo import OutboxRepo
from economy.repos.payment_repo import PaymentRepo
from economy.repos.privacy_repo import PrivacyRepo
from economy.repos.season_repo import SeasonRepo
from economy.repos.settings_repo import SettingsRepo
from economy.repos.trade_repo import TradeRepo
from economy.repos.wallet_repo import WalletRepo
from economy.seasons import SeasonService
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
    members: MemberService
    gifts: GiftService
    # --- events and boosts
    boosts: BoostService
    events: EventService
    seasons: SeasonService
    anniversaries: AnniversaryService
    goals: GoalService
    # --- challenges
    member_prefs: MemberPrefsService
    challenge_repo: ChallengeRepo
    challenges: ChallengeService
    challenge_progress: ChallengeProgress
    competitions: CompetitionService
    # --- mentorship
    mentorship: MentorshipService
    mentorship_repo: MentorshipRepo
    guides: GuideService
    # --- wallets and NFT roles
    wallets: WalletService
    nft: NftService
    nft_media: NftMediaService
    # --- onboarding
    onboarding: OnboardingService
    # --- data rights (/privacy)
    privacy: PrivacyService
    # --- scale-out: scheduler lease, guild-work outbox, per-guild feature switches
    lease_repo: LeaseRepo
    outbox: OutboxRepo
    modules: ModuleService
    # --- card payments (Stripe)
    payments: PaymentsService


def build_services(db: Database, clock: Clock, *, chains: ChainRegistry | None = None,
                   nft_media_hosts: Sequence[str] = (), ipfs_gateway: str = "https://ipfs.io",
                   ledger_batch_max: int = 256, ledger_batch_wait_ms: float = 2.0,
                   ) -> Services:
    """Wire repositories and services together.

    `chains`: the EVM chains the bot can read; `nft_media_hosts`/`ipfs_gateway`: where token
    metadata and images may be fetched from. `ledger_batch_*`: the ledger's group commit
    (economy/repos/ledger_writer.py; batch max 1 turns it off).
    """
    ledger_repo = LedgerRepo(db)
    multipliers = MultiplierRepo(db)
    settings = SettingsService(SettingsRepo(db), clock)
    boosts = BoostService(multipliers, settings, clock)
    ledger = LedgerService(ledger_repo, boosts, clock, batch_max=ledger_batch_max,
                           batch_wait_ms=ledger_batch_wait_ms)
    activity = ActivityService(ledger, settings, clock, boosts=boosts)
    trade_repo = TradeRepo(db)
    listing_repo = ListingRepo(db)
    member_repo = MemberRepo(db)
    member_prefs = MemberPrefsService(MemberPrefsRepo(db), settings)
    members = MemberService(member_repo, member_prefs, clock)
    escrow = EscrowService(trade_repo, ledger, settings, clock, listings=listing_repo,
                           members=members)
    marketplace = MarketplaceService(listing_repo, MarketMemberRepo(db, listing_repo), settings,
                                     clock, throttles=members)
    challenge_repo = ChallengeRepo(db)
    challenges = ChallengeService(challenge_repo, ledger, settings, member_prefs, clock)
    mentorship_repo = MentorshipRepo(db)
    nft_repo, wallet_repo = NftRepo(db), WalletRepo(db)
    payments = PaymentsService(PaymentRepo(db), trade_repo, listing_repo, escrow, ledger,
                               settings, clock)
    escrow.cash = payments  # card trades settle through the payments service
    return Services(
        db=db, clock=clock, ledger=ledger, settings=settings, activity=activity,
        ledger_repo=ledger_repo, multipliers=multipliers, escrow=escrow, trade_repo=trade_repo,
        marketplace=marketplace, listing_repo=listing_repo, members=members,
        gifts=GiftService(ledger, ledger_repo, member_repo, settings, clock),
        boosts=boosts, events=EventService(EventRepo(db), ledger, settings, clock, members),
        seasons=SeasonService(SeasonRepo(db), multipliers, ledger, settings, clock, members),
        anniversaries=AnniversaryService(ledger, settings, clock),
        goals=GoalService(GoalRepo(db), ledger, settings, clock, members),
        member_prefs=member_prefs, challenge_repo=challenge_repo, challenges=challenges,
        challenge_progress=ChallengeProgress(challenges, challenge_repo, settings, clock),
        competitions=CompetitionService(CompetitionRepo(db), ledger, settings, clock, members),
        mentorship=MentorshipService(mentorship_repo, ledger, settings, trade_repo, clock),
        mentorship_repo=mentorship_repo,
        guides=GuideService(GuideRepo(db), mentorship_repo, ledger, settings, clock),
        wallets=WalletService(wallet_repo, clock),
        nft=NftService(nft_repo, wallet_repo, chains or ChainRegistry(), clock),
        nft_media=NftMediaService(nft_repo, clock, hosts=nft_media_hosts, gateway=ipfs_gateway),
        onboarding=OnboardingService(OnboardingRepo(db), clock),
        privacy=PrivacyService(PrivacyRepo(db), ledger_repo, trade_repo, listing_repo, marketplace,
                               mentorship_repo, clock),
        lease_repo=LeaseRepo(db), outbox=OutboxRepo(db), modules=ModuleService(settings),
        payments=payments)
