"""What a feature declares about itself, so the central lists are derived, not edited.

Every feature package (`economy/<feature>/__init__.py`) exports one `Feature`; economy/registry.py
lists them in build order. From the declarations come: the module switches (/settings modules), the
interaction gate's custom-id prefixes (bot/modules_gate.py), the personal-data collections of
/privacy, the guild settings model and its reference (`/settings`, docs/settings.md), and the
services (economy/services.py). A feature's `__init__` stays light: it imports its settings
section only; `build` imports the services when called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from economy.core.signals import Signals

if TYPE_CHECKING:
    from economy.core.clock import Clock
    from economy.core.ledger import LedgerService
    from economy.core.members import MemberService
    from economy.core.sections import Section
    from economy.core.settings import SettingsService
    from economy.repos.base import Database


@dataclass
class Core:
    """What every feature's services are built from: the store, the clock and the core services.

    `built` holds the services of the features built so far (registry order), by name, for the
    few features that work with another one (payments settle escrow trades, privacy reaches
    every feature's data). `options` carries process settings a feature needs (chains, hosts).
    """

    db: Database
    clock: Clock
    settings: SettingsService
    ledger: LedgerService
    members: MemberService
    built: dict[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    #: What just happened to members (economy/core/signals.py): senders and listeners meet here.
    signals: Signals = field(default_factory=Signals)


#: Builds a feature's services: name -> service object (each name is reachable as
#: `services.<name>`).
Builder = Callable[[Core], Mapping[str, Any]]


@dataclass(frozen=True)
class Feature:
    """One feature's declaration.

    name: the package name, the same under economy/, cogs/ and tests/ (and the /settings modules key).
    label: what members read ("The marketplace", "Events").
    switchable: False for the core features a server cannot turn off.
    settings: the feature's settings section (None: it has no settings of its own).
    build: builds its services from the core (None: it has none of its own).
    personal_collections: collections that hold one member's personal data only; /privacy
        deletes their documents outright (others are anonymised in place).
    personal_slot_kinds: kinds of cap places (`cap_slots`) that are personal and deleted too.
    shared_collections: collections whose documents describe many members at once (the
        insights rollups' snapshots and active sets): /privacy export leaves them out (they would
        show other members' data), /privacy delete still re-points the member's id in them.
    custom_id_prefixes: prefixes of the feature's persistent (non-dynamic) component ids, so the
        interaction gate can tell which feature a click belongs to.
    settling_custom_ids / settling_commands: interactions that still run while the feature is
        switched off, because they only settle GEMS already held (a member's held GEMS never
        wait on a switch).
    """

    name: str
    label: str
    switchable: bool = True
    settings: type[Section] | None = None
    build: Builder | None = None
    personal_collections: frozenset[str] = frozenset()
    personal_slot_kinds: frozenset[str] = frozenset()
    shared_collections: frozenset[str] = frozenset()
    custom_id_prefixes: Sequence[str] = ()
    settling_custom_ids: Sequence[str] = ()
    settling_commands: Sequence[str] = ()
