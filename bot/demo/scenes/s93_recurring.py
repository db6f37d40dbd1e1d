"""A weekly event series, the automatic double-GEMS weekend, and a boost called off."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from economy.boosts.service import next_weekend_window
from economy.core.clock import from_ms

ORDER = 93
TITLE = "Recurring events and the automatic double-GEMS weekend"


def _event_ids(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+)", text)]


async def play(t, gc) -> None:
    """Weekly series (list, view, join, leave, edit, the next occurrence, cancel); the weekend
    switched on, announced and paying double; a scheduled boost cancelled."""
    settings = await gc.services.settings.get(gc.guild.id)
    zone = ZoneInfo(settings.timezone)
    start = (gc.clock.now() + timedelta(days=1)).astimezone(zone).replace(
        hour=19, minute=0, second=0, microsecond=0)
    opened = await t.slash("admin", "event-admin create", type="social",
                           start=start.strftime("%Y-%m-%d %H:%M"), duration="60m")
    t.act("admin", "fills in the form: Polishing circle · Bring a cloth; we polish together. "
          "· attend 5 · weekly 3")
    created = await gc.sb.submit_modal(gc["admin"], opened, {
        "Title": "Polishing circle", "Description": "Bring a cloth; we polish together.",
        "Rewards in GEMS (optional)": "attend 5", "Repeat (optional)": "weekly 3"})
    t.answer(created)
    first = int(created.content.split("#")[1].split(":")[0])
    await t.slash("bob", "event list")
    await t.slash("bob", "event view", event=first)
    await t.slash("bob", "event join", event=first)
    await t.slash("erin", "event join", event=first)
    await t.slash("bob", "event leave", event=first)
    await t.slash("admin", "event-admin edit", event=first, capacity=12)
    t.note("A day passes and the first evening starts: the next week's occurrence appears.")
    await t.advance(seconds=max(0.0, (start - gc.clock.now()).total_seconds()) + 60)
    await t.slash("erin", "event checkin", event=first)
    listed = await t.slash("erin", "event list", which="upcoming")
    following = [n for n in _event_ids(listed.text) if n > first]
    t.check(bool(following), "the weekly series schedules its next occurrence")
    if following:
        cancelled = await t.slash("admin", "event-admin cancel", event=following[0])
        t.check(cancelled.ephemeral, "the host cancels one evening of the series")

    t.note("The double-GEMS weekend: switched on once, it returns every week by itself.")
    await t.slash("admin", "settings set", key="double_weekend", value="on")
    settings = await gc.services.settings.get(gc.guild.id)
    window = next_weekend_window(settings, gc.clock.now())
    t.check(window is not None, "the weekend has a next window")
    if window is None:
        return
    await t.slash("admin", "boost-admin list")
    t.note(f"Time passes until the weekend starts ({from_ms(window.starts_ms).astimezone(zone):%A %H:%M} "
           f"{settings.timezone}).")
    await t.advance(seconds=(from_ms(window.starts_ms) - gc.clock.now()).total_seconds() + 60)
    posted = [m for c in gc.guild.channels.values() for m in gc.sb.channel_messages(c)
              if "weekend" in m.content.lower()]
    t.check(bool(posted), "the weekend start is announced")
    await t.say("erin", "Weekend polishing marathon, who's in?")
    await t.advance(minutes=1)
    entry = await gc.db["ledger"].find_one({"user_id": gc["erin"].id, "kind": "activity"},
                                           sort=[("at_ms", -1)])
    t.check(entry is not None and entry.get("multiplier_bps") == 20_000,
            "chat earns double during the weekend, recorded with its factor")
    await t.slash("erin", "gems history")

    t.note("A x1.5 mid-week bonus is scheduled, then called off before it starts.")
    later = (gc.clock.now() + timedelta(days=3)).astimezone(zone).replace(minute=0, second=0,
                                                                           microsecond=0)
    r = await t.slash("admin", "boost-admin schedule", factor="1.5", start=later.strftime("%Y-%m-%d %H:%M"),
                      end="3h", reason="Mid-week bonus")
    boost = r.content.split("`")[1] if "`" in r.content else "b2"
    await t.slash("admin", "boost-admin cancel", boost=boost)
