"""Community events: RSVPs, check-in, rewards and prizes."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.events.settings import EventsSettings


def build(core: Core) -> dict[str, Any]:
    """The events services, built from the core."""
    from economy.events.repo import EventRepo
    from economy.events.service import EventService

    return {"events": EventService(EventRepo(core.db), core.ledger, core.settings, core.clock,
                                   core.members, signals=core.signals)}


FEATURE = Feature(
    name="events",
    label="Events",
    settings=EventsSettings,
    build=build,
    personal_collections=frozenset({"event_rsvps"}),
    custom_id_prefixes=("ev",),
)
