"""Guild scheduled events: what Discord refuses, and members pressing "Interested".

Rules (Discord API v10, Guild Scheduled Event): name 1-100 characters, description at most 1,000,
privacy_level 2 (GUILD_ONLY); an EXTERNAL event (entity_type 3) needs
`entity_metadata.location` (1-100) and a `scheduled_end_time`, and has no channel; the end must
be after the start. Status moves only SCHEDULED(1) -> ACTIVE(2) or CANCELED(4), and
ACTIVE(2) -> COMPLETED(3); a completed or canceled event cannot change any more. (The rule that
a new event must start in the future is not modelled: the bot under test runs on an injected
clock, the sandbox on the real one.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .state import Guild, Member, ScheduledEvent
from .world import DiscordError, World

SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
_NEXT = {SCHEDULED: {SCHEDULED, ACTIVE, CANCELED}, ACTIVE: {ACTIVE, COMPLETED}}


def _invalid(field: str, message: str) -> DiscordError:
    return DiscordError(400, f"Invalid Form Body ({field}: {message})", 50035)


def _when(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise _invalid(field, "not a valid ISO8601 timestamp") from None


def check_event(data: dict[str, Any], *, old_status: int | None = None) -> None:
    """Raise the 400 Discord answers when the (merged) event payload is invalid."""
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise _invalid("name", "must be 1-100 characters")
    description = data.get("description")
    if description is not None and len(description) > 1000:
        raise _invalid("description", "must be at most 1000 characters")
    if data.get("privacy_level") != 2:
        raise _invalid("privacy_level", "must be 2 (GUILD_ONLY)")
    start = _when(data.get("scheduled_start_time"), "scheduled_start_time")
    if start is None:
        raise _invalid("scheduled_start_time", "required")
    end = _when(data.get("scheduled_end_time"), "scheduled_end_time")
    if data.get("entity_type") == 3:
        location = (data.get("entity_metadata") or {}).get("location")
        if not isinstance(location, str) or not 1 <= len(location) <= 100:
            raise _invalid("entity_metadata.location", "required for external events (1-100)")
        if end is None:
            raise _invalid("scheduled_end_time", "required for external events")
        if data.get("channel_id") is not None:
            raise _invalid("channel_id", "must be null for external events")
    if end is not None and end <= start:
        raise _invalid("scheduled_end_time", "must be after the start")
    status = data.get("status", SCHEDULED)
    if old_status is not None and status not in _NEXT.get(old_status, set()):
        raise _invalid("status", f"cannot change from {old_status} to {status}")


def set_interested(world: World, guild: Guild, event_id: int, member: Member,
                   interested: bool) -> ScheduledEvent:
    """A member presses (or un-presses) "Interested"; dispatches GUILD_SCHEDULED_EVENT_USER_ADD
    or _REMOVE like Discord, and keeps `user_count` in step."""
    event = guild.scheduled_events.get(event_id)
    if event is None:
        raise DiscordError(404, "Unknown Guild Scheduled Event", 10070)
    users: set[int] = getattr(event, "interested", None) or set()
    event.interested = users  # type: ignore[attr-defined]
    if interested == (member.id in users):
        return event
    if interested:
        users.add(member.id)
    else:
        users.discard(member.id)
    event.data["user_count"] = len(users)
    world.emit("GUILD_SCHEDULED_EVENT_USER_ADD" if interested else "GUILD_SCHEDULED_EVENT_USER_REMOVE",
               {"guild_scheduled_event_id": str(event.id), "user_id": str(member.id),
                "guild_id": str(guild.id)}, guild.id)
    return event
