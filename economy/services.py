"""Builds the domain services over one database and one clock (no Discord, no globals).

The core (settings, members, boosts, ledger) is built here; every feature then builds its own
services from its declaration (economy/registry.py), in registry order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from economy.boosts.repo import MultiplierRepo
from economy.boosts.service import BoostService
from economy.core.clock import Clock
from economy.core.features import Core
from economy.core.ledger import LedgerService
from economy.core.member_prefs import MemberPrefsService
from economy.core.members import MemberService
from economy.core.modules import ModuleService
from economy.core.onboarding import OnboardingService
from economy.core.settings import SettingsService
from economy.core.signals import Signals
from economy.nft.chain import ChainRegistry
from economy.registry import FEATURES
from economy.repos.base import Database
from economy.repos.ledger_repo import LedgerRepo
from economy.repos.member_prefs_repo import MemberPrefsRepo
from economy.repos.member_repo import MemberRepo
from economy.repos.onboarding_repo import OnboardingRepo
from economy.repos.settings_repo import SettingsRepo


@dataclass
class Services:
    """Everything the cogs call: the core, plus every feature's services by name.

    A feature's service is reached as an attribute (`services.marketplace`, `services.events`):
    the names are the ones its declaration's `build` returns.
    """

    db: Database
    clock: Clock
    ledger: LedgerService
    settings: SettingsService
    members: MemberService
    member_prefs: MemberPrefsService
    modules: ModuleService
    onboarding: OnboardingService
    features: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        features = self.__dict__.get("features")
        if features is not None and name in features:
            return features[name]
        raise AttributeError(f"Services has no service {name!r}")


def build_services(db: Database, clock: Clock, *, chains: ChainRegistry | None = None,
                   nft_media_hosts: Sequence[str] = (), ipfs_gateway: str = "https://ipfs.io",
                   ledger_batch_max: int = 256, ledger_batch_wait_ms: float = 2.0,
                   ) -> Services:
    """Wire the core, then every declared feature, together.

    `chains`: the EVM chains the bot can read; `nft_media_hosts`/`ipfs_gateway`: where token
    metadata and images may be fetched from. `ledger_batch_*`: the ledger's group commit
    (economy/repos/ledger_writer.py; batch max 1 turns it off).
    """
    ledger_repo = LedgerRepo(db)
    multipliers = MultiplierRepo(db)
    settings = SettingsService(SettingsRepo(db), clock)
    # The ledger multiplies earnings by the active boosts, so boosts are built with the core.
    boosts = BoostService(multipliers, settings, clock)
    signals = Signals()
    ledger = LedgerService(ledger_repo, boosts, clock, batch_max=ledger_batch_max,
                           batch_wait_ms=ledger_batch_wait_ms, signals=signals)
    member_prefs = MemberPrefsService(MemberPrefsRepo(db), settings)
    members = MemberService(MemberRepo(db), member_prefs, clock)
    core = Core(db=db, clock=clock, settings=settings, ledger=ledger, members=members,
                options={"chains": chains, "nft_media_hosts": tuple(nft_media_hosts),
                         "ipfs_gateway": ipfs_gateway},
                shared={"boosts": boosts, "multipliers": multipliers,
                        "member_prefs": member_prefs},
                signals=signals)
    for feature in FEATURES:
        if feature.build is None:
            continue
        for name, service in feature.build(core).items():
            if name in core.built:
                raise TypeError(f"service {name!r} is built twice ({feature.name})")
            core.built[name] = service
    return Services(
        db=db, clock=clock, ledger=ledger, settings=settings, members=members,
        member_prefs=member_prefs, modules=ModuleService(settings),
        onboarding=OnboardingService(OnboardingRepo(db), clock),
        features=core.built)
