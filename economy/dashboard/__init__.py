"""The web dashboard's domain side: login states and sessions, health numbers, the audit trail.

The web layer (cogs/dashboard/) signs cookies and renders pages; what is stored and what the
overview counts live here. Sessions are not bound to a guild (one login serves every guild the
member may manage); who may see a guild's pages is decided at every request from the bot's view
of the guild, not from the session.
"""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The dashboard service, built from the core."""
    from economy.dashboard.repo import DashboardRepo
    from economy.dashboard.service import DashboardService

    return {"dashboard": DashboardService(DashboardRepo(core.db), core.ledger, core.settings,
                                          core.clock, listings=core.built["marketplace"].listings,
                                          disputes=core.built["disputes"])}


FEATURE = Feature(name="dashboard", label="Web dashboard", switchable=False, build=build)
