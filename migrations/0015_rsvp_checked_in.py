"""Event RSVPs carry `checked_in` (issue 22: only members holding a place check in, and a
member who checked in keeps the place: leaving is refused). RSVPs stored before get the flag
from their attendance record (same `_id` "<guild>:<event>:<user>")."""


async def up(db) -> None:
    """Set `checked_in` on every RSVP that lacks it (re-runnable: only missing flags)."""
    async for rsvp in db["event_rsvps"].find({}, {"_id": 1, "checked_in": 1}):
        if "checked_in" in rsvp:
            continue
        attended = await db["event_attendance"].find_one({"_id": rsvp["_id"]}, {"_id": 1})
        await db["event_rsvps"].update_one({"_id": rsvp["_id"]},
                                           {"$set": {"checked_in": attended is not None}})
