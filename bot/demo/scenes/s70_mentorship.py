"""Mentorship: a mentor registers, a mentee is matched with an explanation, both accept, a
private thread with a pinned goals card opens, a milestone pays the mentor, the pair ends
and rates each other."""

ORDER = 70
TITLE = "Mentorship: explainable matching, private room, goals and rewards"


def _proposal(gc, who):
    return next(m for m in reversed(gc.sb.dms(gc[who]))
                if m.embeds and m.embeds[0].title.startswith("Mentorship proposal #"))


def _thread(gc, number):
    return next(c for c in gc.sb.world.channels.values()
                if c.is_thread and c.name.startswith(f"Mentorship #{number} "))


async def _register(t, gc, who, skills, zone, hours, languages, capacity, bio):
    await t.slash(who, "profile timezone", zone=zone)  # asked once; mentoring reuses it
    opened = await t.slash(who, "mentor register", skills=skills,
                           availability=hours, languages=languages, capacity=capacity)
    t.act(who, f"fills in the bio form: \"{bio}\"")
    done = await gc.sb.submit_modal(gc[who], opened, {"A short bio for mentees": bio})
    t.answer(done)


async def play(t, gc) -> None:
    """Two mentors, one mentee; the best match is explained, accepted, worked and rated."""
    await t.slash("admin", "settings set", key="mentorship_rating_weeks", value="0")
    t.note("(For the demo, ratings open right away instead of after 4 weeks.)")
    await _register(t, gc, "carol", "cad:4, stone setting:5", "Europe/Paris",
                    "mon-fri 18-21, sat 10-13", "English, French", 2,
                    "Bench jeweller for 20 years; I teach setting and CAD.")
    await _register(t, gc, "dave", "cad:2, photography:4", "America/New_York",
                    "weekends 9-12", "English", 1, "Product photographer.")
    bad = await t.slash("bob", "mentor register", skills="cad:3",
                        availability="mon 21-18", languages="en", capacity=50)
    t.check(bad.ephemeral and bad.modal is None, "a backwards time range is refused before the form")

    await t.slash("erin", "profile timezone", zone="Europe/Berlin")
    applied = await t.slash("erin", "mentor find", skills="stone setting:1, cad:2",
                            availability="tue-thu 19-22",
                            languages="German, French", goals="Set my first bezel")
    t.check("2 of 2 skills" in applied.text and "both speak French" in applied.text,
            "the proposal explains itself")
    to_carol, to_erin = _proposal(gc, "carol"), _proposal(gc, "erin")
    number = int(to_carol.embeds[0].title.rsplit("#", 1)[1])
    t.note("Both got a DM with Accept / Decline (48 h to answer).")
    nosy = await gc.click("bob", to_erin, "Accept")
    t.check(nosy.ephemeral and "someone else" in nosy.content, "only the pair can answer")
    await t.click("carol", to_carol, "Accept")
    await t.click("erin", to_erin, "Accept")
    thread = _thread(gc, number)
    t.note(f"A private thread '{thread.name}' opened for carol and erin; its goals card is pinned.")
    t.check(len(gc.sb.pinned(thread)) == 1, "the goals card is pinned")

    await t.slash("carol", "mentor milestone add", text="Set a 6 mm bezel in silver", in_channel=thread)
    own = await t.slash("carol", "mentor milestone done", number=1, in_channel=thread)
    t.check("can't confirm their own" in own.content, "a mentor cannot confirm their own milestone")
    await t.slash("erin", "mentor milestone done", number=1, in_channel=thread)
    t.message(gc.sb.pinned(thread)[0])
    await t.slash("erin", "mentor end", reason="completed", note="Bezel done, thank you!",
                  in_channel=thread)
    await t.slash("erin", "mentor rate", stars=5, review="Patient and precise")
    await t.slash("alice", "mentor profile", member=gc["carol"])
    await t.slash("carol", "mentor leaderboard")

    guides = gc.sb.create_channel(gc.guild, "guides")
    queue = gc.sb.create_channel(gc.guild, "mentor-queue")
    await gc.sb.settle()
    await t.slash("admin", "settings set", key="guides_channel_id", value=f"<#{guides.id}>")
    await t.slash("admin", "settings set", key="mentorship_queue_channel_id", value=f"<#{queue.id}>")
    opened = await t.slash("erin", "mentor guide submit", skills="stone setting")
    t.act("erin", "writes her first guide in the form")
    t.answer(await gc.sb.submit_modal(gc["erin"], opened, {
        "Title": "Bezel setting in five steps",
        "The guide": "1. Check the seat. 2. Burnish opposite sides. 3. Work around. "
                     "4. Smooth the wall. 5. Polish."}))
    queued = gc.sb.channel_messages(queue)[-1]
    await t.click("carol", queued, "Approve")
    post = gc.sb.channel_messages(guides)[-1]
    t.note("The guide is published in #guides with an Upvote button; erin earned GEMS for it.")
    own = await gc.click("erin", post, "👍 Upvote")
    t.check("own guide" in own.content, "authors cannot upvote their own guide")
    await t.click("alice", post, "👍 Upvote")
    await t.slash("bob", "mentor guide search", query="bezel", skill="stone setting")
