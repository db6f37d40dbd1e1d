"""Settings section of events: community events.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import Section


class EventsSettings(Section):
    """Community events."""

    event_manager_role_id: int | None = Field(None, description="Role that may create and run community events (besides admins)")
