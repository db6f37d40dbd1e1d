"""Mentorship end to end through the sandbox: register (bio form), apply, proposal DMs with
buttons, private thread with a pinned goals card, goals rewarded once, end, rating window,
the last-slot race by clicks, restart with pending proposals, the lead's queue, bad input."""

from __future__ import annotations

import asyncio

import pytest

from economy.core.actor import Actor
from tests.e2e_fixtures import balance

pytestmark = pytest.mark.timeout(60)

HOURS = "mon-fri 18-21"


async def register(gc, who, skills="cad:4, casting:3", capacity=1, bio="Bench jeweller, 20 years"):
    await gc.slash(who, "profile timezone", zone="Europe/Paris")  # asked once, reused
    opened = await gc.slash(who, "mentor register", skills=skills,
                            availability=HOURS, languages="English, French", capacity=capacity)
    assert opened.modal is not None, opened.content
    return await gc.sb.submit_modal(gc[who], opened, {"A short bio for mentees": bio})


async def apply(gc, who, skills="cad:1", **extra):
    await gc.slash(who, "profile timezone", zone="Europe/Paris")
    return await gc.slash(who, "mentor find", skills=skills,
                          availability=HOURS, languages="fr", goals="Design my first ring",
                          **extra)


def proposal_dm(gc, who, number=None):
    for msg in reversed(gc.sb.dms(gc[who])):
        title = msg.embeds[0].title if msg.embeds else ""
        if title.startswith("Mentorship proposal #") and (
                number is None or title.endswith(f"#{number}")):
            return msg
    raise AssertionError(f"no proposal DM for {who}")


def thread_of(gc, number):
    for channel in gc.sb.world.channels.values():
        if channel.is_thread and channel.name.startswith(f"Mentorship #{number} "):
            return channel
    raise AssertionError(f"no thread for mentorship {number}")


def number_of(msg) -> int:
    return int(msg.embeds[0].title.rsplit("#", 1)[1])


async def mentorship_state(gc):
    out = []
    for name in ("mentors", "mentees", "mentorships", "mentor_goals", "mentor_ratings", "ledger",
                 "accounts"):
        out.append(sorted(map(repr, await gc.db[name].find({}, {"_id": 0}).to_list())))
    return out


async def test_full_flow_register_apply_accept_goal_reward_end_rate(gc):
    done = await register(gc, "alice")
    assert done.last.ephemeral and "You are a mentor now" in done.last.content
    applied = await apply(gc, "bob")
    assert applied.ephemeral and "Proposed: <@" in applied.content
    assert "1 of 1 skill, 15 h/week overlap, both speak French" in applied.text
    assert [b.label for b in applied.buttons] == ["Accept", "Decline"]  # also without DMs
    to_alice, to_bob = proposal_dm(gc, "alice"), proposal_dm(gc, "bob")
    number = number_of(to_alice)
    assert [b.label for b in to_alice.buttons] == ["Accept", "Decline"]

    forged = await gc.click("carol", to_bob, "Accept")
    assert forged.ephemeral and "someone else" in forged.content

    first = await gc.click("alice", to_alice, "Accept")
    assert "Accepted so far" in first.message.text and not first.message.buttons
    assert any("accepted proposal" in m.content for m in gc.sb.dms(gc["bob"]))
    await gc.click("bob", to_bob, "Accept")
    thread = thread_of(gc, number)
    assert thread.type == 12 and {gc["alice"].id, gc["bob"].id} <= thread.thread_members
    pinned = gc.sb.pinned(thread)
    assert len(pinned) == 1 and "goals" in pinned[0].embeds[0].title
    assert any("started" in m.content for m in gc.sb.dms(gc["alice"]))

    added = await gc.slash("alice", "mentor milestone add", text="Model a band ring in CAD",
                           in_channel=thread)
    assert added.ephemeral and "Goal 1 added" in added.content
    assert "Model a band ring in CAD" in gc.sb.pinned(thread)[0].text
    before = await mentorship_state(gc)
    own = await gc.slash("alice", "mentor milestone done", number=1, in_channel=thread)
    assert own.ephemeral and "can't confirm their own" in own.content
    assert await mentorship_state(gc) == before
    confirmed = await gc.slash("bob", "mentor milestone done", number=1, in_channel=thread)
    assert confirmed.ephemeral and "earned 💎 50 GEMS" in confirmed.content
    assert "✅" in gc.sb.pinned(thread)[0].text
    again = await gc.slash("bob", "mentor milestone done", number=1)
    assert again.ephemeral and "already confirmed" in again.content
    assert await balance(gc, "alice") == 50
    listed = await gc.slash("bob", "mentor milestone list")
    assert "Model a band ring" in listed.text

    before = await mentorship_state(gc)
    early = await gc.slash("bob", "mentor rate", stars=5, review="Great")
    assert early.ephemeral and "Ratings open 4 weeks" in early.content
    assert await mentorship_state(gc) == before
    ended = await gc.slash("bob", "mentor end", reason="completed", note="Learned a lot",
                           in_channel=thread)
    assert ended.ephemeral and "ended (completed)" in ended.content
    assert thread.archived
    assert any("ended this mentorship" in m.content for m in gc.sb.dms(gc["alice"]))
    await gc.advance(days=28)
    rated = await gc.slash("bob", "mentor rate", stars=5, review="Patient and clear")
    assert rated.ephemeral and "★★★★★" in rated.content
    profile = await gc.slash("carol", "mentor profile", member=gc["alice"])
    assert "★ 5.0 (1 rating) · 1 completed · 0 active" in profile.text
    assert "Bench jeweller" in profile.text and "cad ★★★★" in profile.text


async def test_bad_input_is_refused_and_changes_nothing(gc):
    await register(gc, "alice")
    applied = await apply(gc, "bob")
    assert "Proposed" in applied.content
    before = await mentorship_state(gc)
    cases = [
        (lambda: gc.slash("alice", "mentor register", skills="cad:3",
                          availability=HOURS, languages="en", capacity=2), "already registered"),
        (lambda: gc.slash("carol", "mentor register", skills="knitting:3",
                          availability=HOURS, languages="en", capacity=2), "not a skill"),
        (lambda: gc.slash("carol", "mentor register", skills="cad:3",
                          availability=HOURS, languages="en", capacity=0), "1 to 10"),
        (lambda: gc.slash("carol", "mentor register", skills="cad:3",
                          availability=HOURS, languages="en", capacity=50), "1 to 10"),
        (lambda: gc.slash("carol", "mentor register", skills="cad:3",
                          availability="mon 21-18", languages="en", capacity=2),
         "end must be after"),
        (lambda: apply(gc, "carol", mentor=gc["carol"]), "own mentor"),
        (lambda: apply(gc, "bob"), "already have an open application"),
        (lambda: gc.slash("dave", "mentor milestone add", text="Something"), "no active mentorship"),
        (lambda: gc.slash("dave", "mentor find-cancel"), "no open application"),
    ]
    for run, expected in cases:
        r = await run()
        assert r.modal is None and r.ephemeral and expected in r.content, (expected, r.content)
    someone_else = await gc.click("carol", proposal_dm(gc, "bob"), "Decline")
    assert someone_else.ephemeral and "someone else" in someone_else.content
    assert await mentorship_state(gc) == before
    # An expired proposal cannot be accepted, even before the sweep ran.
    gc.clock.advance(hours=49)
    late = await gc.click("bob", proposal_dm(gc, "bob"), "Accept")
    assert late.ephemeral and "no longer open" in late.content
    assert await mentorship_state(gc) == before
    # Overlapping ranges are not an error: they are merged.
    opened = await gc.slash("carol", "mentor register", skills="casting:3",
                            availability="mon 18-21, mon 20-22, tue 9-10", languages="en",
                            capacity=1)
    await gc.sb.submit_modal(gc["carol"], opened, {})
    profile = await gc.slash("carol", "mentor profile")
    assert "mon 18-22, tue 9-10" in profile.text
    done = await gc.slash("bob", "mentor find-cancel")
    assert done.ephemeral and "withdrawn" in done.content
    assert any("withdrawn by the mentee" in m.content for m in gc.sb.dms(gc["alice"]))


async def test_two_mentees_click_accept_for_the_last_slot_at_once(gc):
    await register(gc, "alice", capacity=1)
    await apply(gc, "bob")
    await apply(gc, "carol")
    bob_dm, carol_dm = proposal_dm(gc, "bob"), proposal_dm(gc, "carol")
    for dm in (bob_dm, carol_dm):
        await gc.click("alice", proposal_dm(gc, "alice", number_of(dm)), "Accept")
    await asyncio.gather(gc.click("bob", bob_dm, "Accept"), gc.click("carol", carol_dm, "Accept"))
    active = await gc.db["mentorships"].count_documents({"status": "active"})
    lapsed = await gc.db["mentorships"].count_documents({"status": "lapsed"})
    assert (active, lapsed) == (1, 1)
    mentor = await gc.db["mentors"].find_one({"user_id": gc["alice"].id})
    assert mentor["load"] == 1
    losers = [who for who in ("bob", "carol")
              if any("last place was just taken" in m.content for m in gc.sb.dms(gc[who]))]
    assert len(losers) == 1


async def test_pending_proposals_time_out_after_a_restart_and_the_next_is_proposed(gc):
    await register(gc, "alice", skills="cad:3")
    await register(gc, "dave", skills="cad:2")
    await apply(gc, "bob")
    first = proposal_dm(gc, "bob")
    assert "<@" + str(gc["alice"].id) + ">" in first.embeds[0].description
    await gc.restart_bot()
    await gc.advance(hours=47)
    assert proposal_dm(gc, "bob") is first
    await gc.advance(hours=2)
    assert any("expired" in m.content for m in gc.sb.dms(gc["alice"]))
    second = proposal_dm(gc, "bob")
    assert second is not first and str(gc["dave"].id) in second.embeds[0].description
    await gc.advance(minutes=5)  # sweeping again does nothing twice
    assert len([m for m in gc.sb.dms(gc["alice"]) if "expired" in m.content]) == 1
    # The new proposal's buttons work on the restarted bot.
    await gc.click("dave", proposal_dm(gc, "dave"), "Accept")
    await gc.click("bob", second, "Accept")
    assert thread_of(gc, number_of(second))


async def test_lead_approval_queue_and_round(gc):
    queue = gc.sb.create_channel(gc.guild, "mentor-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="mentorship_queue_channel_id", value=f"<#{queue.id}>")
    await gc.slash("admin", "settings set", key="mentor_approval", value="yes")
    await gc.slash("admin", "settings set", key="mentorship_lead_role_id",
                   value=f"<@&{gc.mod_role.id}>")
    done = await register(gc, "alice")
    assert "waits for the mentorship lead" in done.last.content
    listed = await gc.slash("mod", "mentor-admin applications")
    assert "1 mentor application waiting" in listed.messages[0].content
    assert [b.label for b in listed.messages[-1].buttons] == ["Approve", "Reject"]
    assert "Only the mentorship lead" in (await gc.slash("bob", "mentor-admin applications")).content
    posted = gc.sb.channel_messages(queue)[-1]
    refused = await gc.click("bob", posted, "Approve")
    assert refused.ephemeral and "Only the mentorship lead" in refused.content
    await gc.click("mod", posted, "Approve")
    assert "approved ✅" in posted.content and not posted.buttons
    assert any("approved" in m.content for m in gc.sb.dms(gc["alice"]))
    # Waiting applications are matched by a round.
    await gc.slash("admin", "settings set", key="mentor_approval", value="no")
    await gc.slash("alice", "mentor pause")
    waiting = await apply(gc, "bob")
    assert "No mentor with a free place" in waiting.content
    await gc.slash("alice", "mentor resume")
    denied = await gc.slash("bob", "mentor-admin round")
    assert denied.ephemeral and "Only the mentorship lead" in denied.last.content
    r = await gc.slash("mod", "mentor-admin round")
    assert "1 proposal sent" in r.last.content
    assert proposal_dm(gc, "bob")


async def test_skill_autocomplete_and_the_zone_asked_once(gc):
    choices = await gc.sb.autocomplete(gc["alice"], "mentor register", "skills", "cad:3, sto")
    assert [c["value"] for c in choices] == ["cad:3, stone setting", "cad:3, stone cutting"]
    # No command asks for a zone but /profile timezone (issue 24): mentoring reuses it.
    for name in ("mentor register", "mentor find"):
        group, sub = name.split()
        leaf = gc.bot.tree.get_command(group).get_command(sub)
        assert "timezone" not in [p.name for p in leaf.parameters], name
    await gc.slash("alice", "profile timezone", zone="Asia/Tokyo")
    opened = await gc.slash("alice", "mentor register", skills="cad:4", availability=HOURS,
                            languages="en", capacity=1)
    done = await gc.sb.submit_modal(gc["alice"], opened, {})
    assert "`Asia/Tokyo`" in done.content, done.content
    profile = await gc.slash("alice", "mentor profile")
    assert "Asia/Tokyo" in profile.text
    # without their own zone, a member's hours are read in the server's
    applied = await gc.slash("erin", "mentor find", skills="cad:1", availability=HOURS,
                             languages="en")
    assert applied.ephemeral and "read in `UTC`" in applied.content, applied.content
    mentee = await gc.db["mentees"].find_one({"user_id": gc["erin"].id})
    assert mentee["zone"] == "UTC"


async def test_levels_roles_leaderboard_and_monthly_spotlight_once(gc):
    role = gc.sb.create_role(gc.guild, "Mentor")
    spot = gc.sb.create_channel(gc.guild, "spotlight")
    await gc.sb.settle()
    for key, value in (("mentor_level_roles", f"<@&{role.id}>"), ("mentorship_rating_weeks", "0"),
                       ("mentorship_spotlight_channel_id", f"<#{spot.id}>")):
        r = await gc.slash("admin", "settings set", key=key, value=value)
        assert "→" in r.content, r.content
    await register(gc, "alice")
    await apply(gc, "bob")
    await gc.click("alice", proposal_dm(gc, "alice"), "Accept")
    await gc.click("bob", proposal_dm(gc, "bob"), "Accept")
    await gc.slash("bob", "mentor end", reason="completed")
    assert role.id in gc.sb.member(gc.guild, gc["alice"]).roles
    assert any("is now a **Mentor**" in m.content for m in gc.sb.dms(gc["alice"]))
    await gc.slash("bob", "mentor rate", stars=4, review="Helpful")
    board = await gc.slash("carol", "mentor leaderboard")
    assert "★ 4.0 (1 rating) · 1 completed · 0 active · Mentor" in board.text
    assert not board.ephemeral and board.message.allowed_mentions == {"parse": []}
    # January's spotlight is posted once, on the first sweep in February, even after a restart.
    await gc.advance(days=10)
    assert not gc.sb.channel_messages(spot)
    await gc.advance(days=17)  # 2026-02-01
    posted = [m for m in gc.sb.channel_messages(spot) if "spotlight for 2026-01" in m.content]
    assert len(posted) == 1 and str(gc["alice"].id) in posted[0].content
    await gc.restart_bot()
    await gc.advance(hours=1)
    assert len(gc.sb.channel_messages(spot)) == 1


async def test_checkin_reminder_after_silence_and_chat_counts_as_activity(gc):
    await register(gc, "alice")
    await apply(gc, "bob")
    number = number_of(proposal_dm(gc, "bob"))
    await gc.click("alice", proposal_dm(gc, "alice"), "Accept")
    await gc.click("bob", proposal_dm(gc, "bob"), "Accept")
    thread = thread_of(gc, number)

    def reminders():
        return [m for m in gc.sb.channel_messages(thread) if "Check-in" in m.content]

    await gc.advance(days=5)
    await gc.say("bob", "I finished the first sketch!", channel=thread)
    await gc.advance(days=5)
    assert reminders() == []  # the chat two days ago pushed the reminder back
    await gc.advance(days=2, minutes=1)
    assert len(reminders()) == 1
    await gc.advance(minutes=5)
    assert len(reminders()) == 1


async def test_skill_verification_rules_profile_and_matching(gc):
    await register(gc, "alice", skills="cad:4")
    await register(gc, "dave", skills="cad:3")
    before = await mentorship_state(gc)
    for who, options, expected in [
        ("alice", {"member": gc["alice"], "skill": "cad", "level": 3}, "your own skills"),
        ("alice", {"member": gc["bob"], "skill": "knitting", "level": 3}, "not a skill"),
        ("alice", {"member": gc["bob"], "skill": "cad", "level": 6}, "from 1 to 5"),
        ("alice", {"member": gc["bob"], "skill": "cad", "level": 5}, "up to your own level (4)"),
        ("alice", {"member": gc["bob"], "skill": "casting", "level": 2}, "Only mentors of casting"),
        ("carol", {"member": gc["bob"], "skill": "cad", "level": 1}, "Only mentors of cad"),
    ]:
        r = await gc.slash(who, "mentor-admin verify", **options)
        assert r.ephemeral and expected in r.content, (expected, r.content)
    assert await mentorship_state(gc) == before
    # dave claims cad 3; alice verifies him at 2. Bob says he is at level 0 but is verified at 1.
    ok = await gc.slash("alice", "mentor-admin verify", member=gc["dave"], skill="cad", level=2)
    assert ok.ephemeral and "Verified" in ok.content
    await gc.slash("admin", "settings set", key="mentorship_lead_role_id", value=f"<@&{gc.mod_role.id}>")
    lead = await gc.slash("mod", "mentor-admin verify", member=gc["bob"], skill="cad", level=1)
    assert "Verified" in lead.content
    profile = await gc.slash("bob", "mentor profile", member=gc["dave"])
    assert "cad ★★ ✔" in profile.text
    own = await gc.slash("bob", "mentor profile")  # not a mentor: the verified skills show
    assert "Verified skills" in own.text and "cad ★ ✔" in own.text
    nobody = await gc.slash("bob", "mentor profile", member=gc["erin"])
    assert nobody.ephemeral and "not registered as a mentor" in nobody.content
    applied = await apply(gc, "bob", skills="cad:0")
    # Declared, dave (gap 3: 0.9) would beat alice (gap 4: 0.6). Verified: bob 1, dave 2
    # (gap 1: 0.7), alice 4 (gap 3: 0.9) -> alice is proposed.
    assert str(gc["alice"].id) in applied.content


async def test_guides_submit_review_publish_upvote_search(gc):
    queue = gc.sb.create_channel(gc.guild, "mentor-queue")
    guides = gc.sb.create_channel(gc.guild, "guides")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="mentorship_queue_channel_id", value=f"<#{queue.id}>")
    await gc.slash("admin", "settings set", key="guides_channel_id", value=f"<#{guides.id}>")
    bad = await gc.slash("bob", "mentor guide submit", skills="knitting")
    assert bad.ephemeral and bad.modal is None and "not a skill" in bad.content
    opened = await gc.slash("bob", "mentor guide submit", skills="wax carving, cad")
    done = await gc.sb.submit_modal(gc["bob"], opened, {
        "Title": "Carving a bezel seat @everyone",
        "The guide": "Warm the wax, carve the bezel seat first, then the shoulders."})
    assert "waits for a mentor or moderator" in done.last.content
    queued = gc.sb.channel_messages(queue)[-1]
    assert "Carving a bezel seat" in queued.text and queued.allowed_mentions == {"parse": []}
    own = await gc.click("bob", queued, "Approve")
    assert own.ephemeral and "own guide" in own.content
    nobody = await gc.click("carol", queued, "Approve")
    assert nobody.ephemeral and "Only mentors and moderators" in nobody.content
    await register(gc, "alice")  # mentors may review
    assert "Only mentors and moderators" in (await gc.slash("carol", "mentor-admin guides")).content
    listed = await gc.slash("alice", "mentor-admin guides")
    assert "1 guide waiting" in listed.messages[0].content
    assert [b.label for b in listed.messages[-1].buttons] == ["Approve", "Reject"]
    await gc.click("alice", queued, "Approve")
    assert "approved ✅" in queued.content
    post = gc.sb.channel_messages(guides)[-1]
    assert "Guide #1" in post.text and [b.label for b in post.buttons] == ["👍 Upvote"]
    assert await balance(gc, "bob") == 100
    assert any("was published" in m.content for m in gc.sb.dms(gc["bob"]))

    before = await mentorship_state(gc)
    mine = await gc.click("bob", post, "👍 Upvote")
    assert mine.ephemeral and "your own guide" in mine.content
    assert await mentorship_state(gc) == before
    liked = await gc.click("carol", post, "👍 Upvote")
    assert liked.ephemeral and "has 1 upvote" in liked.content
    assert "Upvotes\n1" in post.text
    twice = await gc.slash("carol", "mentor guide upvote", guide_id=1)
    assert twice.ephemeral and "already upvoted" in twice.content
    await gc.restart_bot()  # the Upvote button survives restarts
    await gc.click("dave", post, "👍 Upvote")
    found = await gc.slash("erin", "mentor guide search", query="bezels", skill="cad")
    assert "Carving a bezel seat" in found.text and "👍 2" in found.text
    assert "No guide matches" in (await gc.slash("erin", "mentor guide search", query="platinum")).text


async def test_guide_with_an_image_is_cleaned_and_published_with_it(gc):
    import io

    from PIL import Image

    queue = gc.sb.create_channel(gc.guild, "mentor-queue")
    guides = gc.sb.create_channel(gc.guild, "guides")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="mentorship_queue_channel_id", value=f"<#{queue.id}>")
    await gc.slash("admin", "settings set", key="guides_channel_id", value=f"<#{guides.id}>")
    text = {"Title": "Polishing with tripoli", "The guide": "Start coarse, clean between compounds."}
    fake = gc.sb.attachment("diagram.png", b"%PDF-1.4 not an image", "image/png")
    opened = await gc.slash("bob", "mentor guide submit", skills="polishing", image=fake)
    refused = await gc.sb.submit_modal(gc["bob"], opened, text)
    assert refused.last.ephemeral and "image" in refused.last.content.lower()
    assert await gc.db["guides"].count_documents({}) == 0
    png = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(png, "PNG")
    photo = gc.sb.attachment("diagram.png", png.getvalue(), "image/png")
    opened = await gc.slash("bob", "mentor guide submit", skills="polishing", image=photo)
    await gc.sb.submit_modal(gc["bob"], opened, text)
    queued = gc.sb.channel_messages(queue)[-1]
    assert "guide-1.jpg" in queued.files
    await gc.click("mod", queued, "Approve")
    post = gc.sb.channel_messages(guides)[-1]
    assert post.files["guide-1.jpg"][:2] == b"\xff\xd8"  # re-encoded as JPEG
    assert post.raw_embeds[0]["image"]["url"] == "attachment://guide-1.jpg"
    viewed = await gc.slash("erin", "mentor guide view", guide_id=1)
    assert "guide-1.jpg" in viewed.message.files


def _check_command(payload, path=""):
    import re

    name = payload["name"]
    where = f"{path}/{name}"
    assert re.fullmatch(r"[-_\w]{1,32}", name) and name == name.lower(), where
    assert 1 <= len(payload.get("description", "x")) <= 100, where
    options = payload.get("options") or []
    assert len(options) <= 25, where
    for option in options:
        if option["type"] in (1, 2):  # subcommand, group
            _check_command(option, where)
        else:
            assert re.fullmatch(r"[-_\w]{1,32}", option["name"]), (where, option["name"])
            assert 1 <= len(option["description"]) <= 100, (where, option["name"])
            assert len(option.get("choices") or []) <= 25, (where, option["name"])


async def test_mentorship_commands_fit_discord_limits(gc):
    tree = gc.bot.tree
    names = {"mentor", "mentor-admin"}  # one member group, one staff group
    found = [c for c in tree.get_commands() if c.name in names]
    assert {c.name for c in found} == names
    for command in found:
        _check_command(command.to_dict(tree))
    staff = next(c for c in found if c.name == "mentor-admin").to_dict(tree)
    assert int(staff["default_member_permissions"]) == 1 << 13  # Manage Messages: reviewers too


async def test_guides_channel_may_be_a_forum(gc):
    from discord_sandbox import ChannelType

    forum = gc.sb.create_channel(gc.guild, "guides", type=ChannelType.FORUM)
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="guides_channel_id", value=f"<#{forum.id}>")
    opened = await gc.slash("bob", "mentor guide submit", skills="appraisal")
    await gc.sb.submit_modal(gc["bob"], opened, {
        "Title": "Reading a hallmark", "The guide": "Look for the maker's mark, then the assay."})
    await gc.services.guides.review(gc.guild.id, Actor(gc["mod"].id, is_moderator=True), 1, approve=True)
    from cogs.mentorship._guides import publish

    await publish(gc.bot, await gc.services.guides.get(gc.guild.id, 1))
    post = next(c for c in gc.sb.world.channels.values()
                if c.is_thread and c.parent_id == forum.id)
    assert post.name == "Reading a hallmark"
    starter = gc.sb.channel_messages(post)[0]
    assert starter.id == post.id and "Guide #1" in starter.text
    await gc.click("carol", starter, "👍 Upvote")
    assert "Upvotes\n1" in starter.text
