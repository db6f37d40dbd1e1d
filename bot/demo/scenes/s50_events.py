"""Double GEMS: a launch-party boost, announced once, visible in earnings and stats."""

ORDER = 50
TITLE = "Boosts: a double-GEMS launch party"


async def play(t, gc) -> None:
    """Admin schedules a x2 boost; chat earns double while it runs; stats compare the week."""
    announce = gc.sb.create_channel(gc.guild, "announcements")
    await gc.sb.settle()
    await t.slash("admin", "settings set", key="announcements_channel_id", value=f"<#{announce.id}>")
    bad = await t.slash("admin", "boost schedule", factor="25", start="now", end="1h")
    t.check("between 1.1 and 10" in bad.content, "a factor out of range is refused")
    r = await t.slash("admin", "boost schedule", factor="2", start="now", end="1h",
                      reason="Launch party")
    t.check("Scheduled boost" in r.content, "the admin schedules a x2 boost for one hour")
    posted = [m.content for m in gc.sb.channel_messages(announce)]
    t.check(len(posted) == 1 and "x2 GEMS" in posted[0], "the start is announced once")
    await t.say("carol", "Party time! Showing off my new opal.")
    await gc.advance(minutes=1)
    entry = await gc.db["ledger"].find_one({"user_id": gc["carol"].id, "kind": "activity"},
                                           sort=[("at_ms", -1)])
    t.check(entry is not None and entry["multiplier_bps"] == 20_000,
            "carol's chat earned double, recorded with the factor and the boost id")
    await t.slash("admin", "boost list")
    t.note("An hour passes…")
    await gc.advance(hours=1)
    posted = [m.content for m in gc.sb.channel_messages(announce)]
    t.check(len(posted) == 2 and "has ended" in posted[1], "the end is announced once")
    await t.slash("admin", "boost stats", boost="b1")
