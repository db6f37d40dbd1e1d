"""Mentorship's services, reached as `services.mentorship.<part>.<method>`.

    mentors      mentor profiles: registration, approval, pause/resume/leave, skill verification
    proposals    applications, proposals and their answers, matching rounds, the proposal sweep
    pairings     active mentorships: lookups, rooms, goals and rewards, check-ins, endings
    recognition  ratings, reputations, the leaderboard, the monthly spotlight

Member guides are their own service (`services.guides`, economy/mentorship/guides.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from economy.core.clock import Clock
from economy.core.ledger import LedgerService
from economy.core.settings import SettingsService
from economy.core.signals import NO_SIGNALS, Signals
from economy.mentorship.mentors import MentorService
from economy.mentorship.pairings import PairingService
from economy.mentorship.proposals import ProposalService
from economy.mentorship.recognition import RecognitionService
from economy.mentorship.repo import MentorshipRepo
from economy.trades.repo import TradeRepo


@dataclass(frozen=True)
class Mentorship:
    """The mentorship feature's services (one object per seam, sharing one repository)."""

    mentors: MentorService
    proposals: ProposalService
    pairings: PairingService
    recognition: RecognitionService


def build_mentorship(repo: MentorshipRepo, ledger: LedgerService, settings: SettingsService,
                     trades: TradeRepo, clock: Clock, *,
                     signals: Signals = NO_SIGNALS) -> Mentorship:
    """Wire mentorship's services over one repository (`trades`: mentor qualification)."""
    mentors = MentorService(repo, settings, trades, clock)
    pairings = PairingService(repo, ledger, settings, clock, signals=signals)
    return Mentorship(
        mentors=mentors,
        proposals=ProposalService(repo, settings, clock, mentors, pairings),
        pairings=pairings,
        recognition=RecognitionService(repo, settings, clock),
    )
