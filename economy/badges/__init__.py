"""Badges: achievements awarded by rules on what members do, or by staff; limited editions,
showcases and the member profile."""

from __future__ import annotations

from typing import Any

from economy.badges.settings import BadgesSettings
from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The badges service, listening to the signals of the features it rewards."""
    from economy.badges.repo import BadgeRepo
    from economy.badges.rules import FACTS_OF_SIGNAL
    from economy.badges.service import BadgeService

    badges = BadgeService(BadgeRepo(core.db), core.ledger, core.settings, core.clock)
    for signal in FACTS_OF_SIGNAL:
        core.signals.connect(signal, badges.on_signal)
    return {"badges": badges}


FEATURE = Feature(
    name="badges",
    label="Badges",
    settings=BadgesSettings,
    build=build,
    # Awards, showcases and the staff log are one member's data; the rewards they paid stay in
    # the ledger (anonymised like every entry), so balances still equal their entries.
    personal_collections=frozenset({"badge_awards", "badge_showcases", "badge_log"}),
    personal_slot_kinds=frozenset({"badge_edition"}),
)
