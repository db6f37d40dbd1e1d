"""Events: a double-GEMS launch party, then a community quiz with RSVPs, check-ins and prizes."""

ORDER = 50
TITLE = "Events: a double-GEMS launch party and a community quiz"


async def play(t, gc) -> None:
    """Admin schedules a x2 boost; chat earns double while it runs; stats compare the week."""
    announce = gc.sb.create_channel(gc.guild, "announcements")
    await gc.sb.settle()
    page = await t.slash("admin", "settings edit")
    t.act("admin", "picks #announcements as the announcements channel")
    picked = await gc.sb.select(gc["admin"], page, "gset:s:ch:announcements_channel_id", [announce])
    t.answer(picked)
    bad = await t.slash("admin", "boost-admin schedule", factor="25", start="now", end="1h")
    t.check("between 1.1 and 10" in bad.content, "a factor out of range is refused")
    r = await t.slash("admin", "boost-admin schedule", factor="2", start="now", end="1h",
                      reason="Launch party")
    t.check("Scheduled boost" in r.content, "the admin schedules a x2 boost for one hour")
    posted = [m.content for m in gc.sb.channel_messages(announce)]
    t.check(len(posted) == 1 and "x2 GEMS" in posted[0], "the start is announced once")
    await t.say("carol", "Party time! Showing off my new opal.")
    await t.advance(minutes=1)
    entry = await gc.db["ledger"].find_one({"user_id": gc["carol"].id, "kind": "activity"},
                                           sort=[("at_ms", -1)])
    t.check(entry is not None and entry["multiplier_bps"] == 20_000,
            "carol's chat earned double, recorded with the factor and the boost id")
    await t.slash("admin", "boost-admin list")
    t.note("An hour passes…")
    await t.advance(hours=1)
    posted = [m.content for m in gc.sb.channel_messages(announce)]
    t.check(len(posted) == 2 and "has ended" in posted[1], "the end is announced once")
    await t.slash("admin", "boost-admin stats", boost="b1")

    t.note("The admin starts a gem-identification quiz (members join with the button or in Discord).")
    opened = await t.slash("admin", "event-admin create", type="contest", start="now", duration="90m")
    t.act("admin", "fills in the form: Gem ID quiz · Bring a loupe; ten stones to identify.")
    created = await gc.sb.submit_modal(gc["admin"], opened, {
        "Title": "Gem ID quiz", "Description": "Bring a loupe; ten stones to identify.",
        "Rewards in GEMS (optional)": "attend 10, complete 5, 1st 100, 2nd 50",
        "Places (empty: no limit)": "10"})
    t.answer(created)
    event_id = int(created.content.split("#")[1].split(":")[0])
    card = next(m for c in gc.guild.channels.values() for m in gc.sb.channel_messages(c)
                if m.embeds and f"Event #{event_id}" in (m.embeds[0].title or ""))
    t.check(len(gc.sb.scheduled_events(gc.guild)) == 1, "the event is mirrored in Discord's Events tab")
    for name in ("alice", "bob"):
        await t.click(name, card, "Join")
    gc.sb.set_interested(gc["carol"], int(gc.sb.scheduled_events(gc.guild)[0]["id"]))
    await gc.sb.settle()
    going = await t.slash("carol", "event attendees", event=event_id)
    t.check("Going (3)" in going.text, "pressing Interested in Discord counts as an RSVP")
    await t.advance(minutes=1)
    for name in ("alice", "bob", "carol"):
        await t.slash(name, "event checkin", event=event_id)
    twice = await t.slash("alice", "event checkin", event=event_id)
    t.check("already checked in" in twice.content, "checking in twice pays nothing more")
    walkin = await t.slash("dave", "event checkin", event=event_id)
    t.check("Checked in" in walkin.content and "Going (4)" in (await t.slash(
        "dave", "event attendees", event=event_id)).text,
        "dave never joined: checking in takes a free place on the spot (a full event refuses)")
    picker = await t.slash("admin", "event-admin complete", event=event_id)
    t.act("admin", "picks the winners in order: carol, alice")
    done = await gc.sb.select(gc["admin"], picker, f"ev:win:{event_id}:{gc['admin'].id}",
                              [gc["carol"], gc["alice"]])
    t.answer(done)
    summary = [m.content for c in gc.guild.channels.values() for m in gc.sb.channel_messages(c)
               if "is complete" in m.content]
    t.check(len(summary) == 1, "a summary with attendance, winners and GEMS paid is posted")

    t.note("A community goal: earn 40 GEMS together this week; everyone who helps gets 15.")
    await t.slash("admin", "goal-admin create", target=40, metric="gems_earned", deadline="7d",
                  reward=15, title="Chatty week")
    await t.advance(minutes=1)
    for name, text in (("dave", "What a quiz, I learned a lot about spinels"),
                       ("erin", "Same here! Next week again?")):
        await t.say(name, text)
    await t.advance(minutes=2)
    view = await t.slash("carol", "goal view", goal=1)
    t.check("goal.png" in view.files, "the goal shows a progress bar image")
    await t.slash("admin", "season-admin add", name="winter-festival")
    listed = await t.slash("bob", "season list")
    t.check("Winter Festival" in listed.text, "seasons: the shipped winter festival is enabled")
