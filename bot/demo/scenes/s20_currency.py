"""Members earn, give and compare GEMS."""

ORDER = 20
TITLE = "Members earn and share GEMS"


async def play(t, gc) -> None:
    """Daily claims and streaks, chat earnings, gifts, refusals, leaderboard, history."""
    for name in ("alice", "bob", "carol"):
        await t.slash(name, "gems daily")
    again = await t.slash("alice", "gems daily")
    # What alice reads is private: the answer itself, or (when a loaded machine made the bot
    # acknowledge first) the private followup after the acknowledgement.
    t.check(again.last.ephemeral and "already claimed" in (again.last.content or ""),
            "a second daily the same day is refused")
    t.note("A day passes…")
    await t.advance(hours=24)
    streak = await t.slash("alice", "gems daily")
    t.check("streak **2**" in streak.content, "alice's streak grows to 2")

    await t.say("alice", "Just got a lovely emerald, photos soon!")
    await t.say("bob", "Congrats! What cut is it?")
    await t.say("bob", "Congrats! What cut is it?")
    t.note("Chat earns GEMS (not the repeated message); earnings are written every few seconds.")
    await t.advance(seconds=30)

    gift = await t.slash("alice", "gems give", member=gc["bob"], amount=60,
                         note="for the polishing tips @everyone")
    t.check("gave" in gift.content and "@\u200beveryone" in gift.content, "gift notes never ping")
    broke = await t.slash("dave", "gems give", member=gc["bob"], amount=10)
    t.check("Not enough GEMS" in broke.content, "dave cannot give what he does not have")
    self_gift = await t.slash("carol", "gems give", member=gc["carol"], amount=5)
    t.check("yourself" in self_gift.content, "giving to yourself is refused")
    await gc.advance(minutes=2)
    told = [m for m in gc.sb.dms(gc["bob"]) if "gave you" in m.content]
    t.note("Two minutes later bob is told by DM (several gifts in a row arrive as one DM):")
    for message in told[-1:]:
        t.message(message)
    t.check(bool(told), "the recipient of a gift is told by DM")

    await t.slash("admin", "gems-admin grant", member=gc["dave"], amount=250, reason="welcome bonus")
    denied = await t.slash("bob", "gems-admin grant", member=gc["bob"], amount=1000, reason="I want it")
    t.check("Only server admins" in denied.content, "members cannot grant GEMS")

    await t.slash("carol", "gems leaderboard")
    await t.slash("bob", "gems balance")
    await t.slash("alice", "gems history")
    review = await t.slash("mod", "gems-admin member", member=gc["bob"])
    t.check(review.ephemeral, "staff see a member's records privately")

    from datetime import timedelta
    gc.add_member("newcomer", created_at=gc.clock.now() - timedelta(days=1))
    await gc.sb.settle()
    t.note("An account created yesterday joins: it can't farm dailies or funnel GEMS yet.")
    fresh = await t.slash("newcomer", "gems daily")
    t.check("New members can't" in fresh.content, "brand-new accounts can't claim dailies")
    await t.slash("dave", "gems dms", setting="off")
    await t.slash("dave", "gems dms", setting="on")
