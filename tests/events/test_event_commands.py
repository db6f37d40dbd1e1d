"""Community events end to end through the sandbox: the form, RSVP buttons, Interested,
check-in, winners, the mirrored Discord event, reminders, summary and reward roles."""

from __future__ import annotations

import dataclasses

import pytest

from discord_sandbox.interactions import InteractionNotAnswered
from discord_sandbox.state import Component
from economy.core.actor import Actor
from tests.e2e_fixtures import balance, db_state
from tests.events import event_form

pytestmark = pytest.mark.timeout(60)


async def _create(gc, who="admin", **options):
    options = {"type": "contest", "start": "2026-01-06 18:00", "duration": 120,
               "reward_attend": 10, "reward_complete": 5, "prize_1st": 100, "prize_2nd": 50,
               **options}
    opened, done = await event_form.create(gc, who, title="Gem ID quiz @everyone",
                                           description="Bring a loupe", **options)
    assert opened.modal is not None, opened.content
    assert "Created event #" in done.content, done.content
    return int(done.content.split("#")[1].split(":")[0])


def _posts(gc) -> list:
    """Messages the bot posted in the guild's channels (the event's channel is where the
    command ran: the guild's first text channel)."""
    return [m for c in gc.guild.channels.values() for m in gc.sb.channel_messages(c)]


def _card(gc):
    return next(m for m in _posts(gc) if m.embeds and "Event #" in (m.embeds[0].title or ""))


async def _events_state(gc):
    docs = []
    for name in ("community_events", "event_rsvps", "event_attendance", "event_role_grants"):
        docs += await gc.db[name].find({}, {"_id": 0}).to_list()
    return await db_state(gc), sorted(map(repr, docs))


async def test_event_lifecycle_through_discord(gc, clock):
    prize_role = gc.sb.create_role(gc.guild, "Quiz champ")
    await gc.sb.settle()
    event_id = await _create(gc, capacity=3, reward_role=prize_role, role_days=7)
    card = _card(gc)
    mirrored = gc.sb.scheduled_events(gc.guild)
    assert len(mirrored) == 1 and mirrored[0]["status"] == 1
    assert mirrored[0]["entity_metadata"]["location"] == "#general"
    # RSVP: a button, a command, and "Interested" on the Discord event.
    r = await gc.click("alice", card, "Join")
    assert r.ephemeral and "You're going" in r.content
    r = await gc.click("alice", card, "Join")
    assert r.ephemeral and "already joined" in r.content
    await gc.slash("bob", "event join", event=event_id)
    gc.sb.set_interested(gc["carol"], int(mirrored[0]["id"]))
    await gc.sb.settle()
    full = await gc.slash("dave", "event join", event=event_id)
    assert full.ephemeral and "full" in full.content
    going = await gc.slash("erin", "event attendees", event=event_id)
    assert "Going (3)" in going.text
    # Reminders 24 h and 1 h before, by DM, once each.
    await gc.advance(hours=6, minutes=1)     # 2026-01-05 18:01: 24 h before
    await gc.advance(minutes=1)
    await gc.advance(hours=23)               # 2026-01-06 17:02: 1 h before
    for name in ("alice", "bob", "carol"):
        dms = [m.content for m in gc.sb.dms(gc[name]) if "Reminder" in m.content]
        assert len(dms) == 2 and "24 hours" in dms[0] and "1 hour" in dms[1], dms
    early = await gc.slash("alice", "event checkin", event=event_id)
    assert early.ephemeral and "opens 15 minutes before" in early.content
    await gc.advance(hours=1)                # live
    assert any("is live now" in m.content for m in _posts(gc))
    assert gc.sb.scheduled_events(gc.guild)[0]["status"] == 2
    stranger = await gc.slash("erin", "event checkin", event=event_id)  # holds no place
    assert stranger.ephemeral and "full (3 places)" in stranger.content, stranger.content
    for name in ("alice", "bob", "carol"):
        r = await gc.slash(name, "event checkin", event=event_id)
        assert "Checked in" in r.content and "+💎 10 GEMS" in r.content, r.content
    twice = await gc.slash("alice", "event checkin", event=event_id)
    assert twice.ephemeral and "already checked in" in twice.content
    # Complete: only the host/managers; winners through a user select; absent winners confirmed.
    denied = await gc.slash("bob", "event-admin complete", event=event_id)
    assert denied.ephemeral and "host or an event manager" in denied.content
    picker = await gc.slash("admin", "event-admin complete", event=event_id)
    stranger = await gc.sb.select(gc["bob"], picker, f"ev:win:{event_id}:{gc['admin'].id}",
                                  [gc["bob"]])
    assert "belongs to someone else" in stranger.content
    asked = await gc.sb.select(gc["admin"], picker, f"ev:win:{event_id}:{gc['admin'].id}",
                               [gc["bob"], gc["dave"]])
    assert "did not check in" in asked.text and f"<@{gc['dave'].id}>" in asked.text
    done = await gc.click("admin", asked, "Confirm winners")
    assert "completed" in done.text
    again = await gc.click("admin", asked, "Confirm winners")  # a double press pays nothing
    assert "already completed" in again.text
    assert [await balance(gc, n) for n in ("alice", "bob", "carol", "dave", "erin")] == [
        15, 115, 15, 50, 0]
    summary = [m.content for m in _posts(gc) if "is complete" in m.content]
    assert len(summary) == 1 and "3 members checked in" in summary[0]
    assert "🥇" in summary[0] and "💎 195 GEMS" in summary[0], summary
    assert gc.sb.scheduled_events(gc.guild)[0]["status"] == 3
    member = gc.sb.member(gc.guild, gc["alice"])
    assert prize_role.id in member.roles
    # The reward role goes away after 7 days, also across a restart.
    await gc.restart_bot()
    await gc.advance(days=7, minutes=1)
    assert prize_role.id not in gc.sb.member(gc.guild, gc["alice"]).roles
    history = await gc.slash("erin", "event list", which="past")
    assert f"#{event_id}" in history.text


async def test_event_refusals_change_nothing(gc, clock):
    before = await _events_state(gc)
    # refused by the command itself: no form opens
    for options, expected in [
        ({"start": "2026-01-01 10:00"}, "in the past"),
        ({"start": "yesterday"}, "not a date or time"),
        ({"start": "2030-01-01 10:00"}, "at most a year ahead"),
        ({"duration": 31 * 24 * 60 + 1}, "at most 31 days"),
        ({"duration": "32d"}, "at most 31 days"),
        ({"duration": 0}, "longer than zero"),
        ({"duration": "a while"}, "as a duration"),
    ]:
        r = await gc.slash("admin", "event-admin create", **{"type": "social", "start": "now",
                                                       "duration": 60, **options})
        assert r.modal is None and r.ephemeral and expected in r.content, (options, r.content)
    # refused when the form is submitted: a friendly private answer, nothing stored
    for options, expected in [
        ({"capacity": 0}, "capacity must be at least 1"),
        ({"capacity": -4}, "capacity must be at least 1"),
        ({"capacity": "lots"}, "whole number"),
        ({"reward_attend": -5}, "between 0 and"),
        ({"reward_attend": "ten"}, "not a whole number"),
        ({"role_days": 3}, "reward_role"),
        ({"repeat": "weekly", "repeat_count": 99}, "2 to 52"),
    ]:
        opened, done = await event_form.create(gc, "admin", type="social", start="now",
                                               duration=60, **options)
        assert opened.modal is not None, (options, opened.content)
        assert done.ephemeral and expected in done.content, (options, done.content)
    opened = await event_form.open_form(gc, "admin", type="social", start="now", duration=60)
    done = await gc.sb.submit_modal(gc["admin"], opened, {"Title": "Swap",
                                                          "Rewards in GEMS (optional)": "tips 5"})
    assert done.ephemeral and "couldn't read `tips 5`" in done.content
    opened = await event_form.open_form(gc, "admin", type="social", start="now", duration=60)
    done = await gc.sb.submit_modal(gc["admin"], opened, {"Title": "Swap",
                                                          "Repeat (optional)": "daily"})
    assert done.ephemeral and "weekly 4" in done.content
    r = await gc.slash("bob", "event-admin create", type="social", start="now", duration=60)
    assert r.ephemeral and "Only event managers" in r.content
    r = await gc.slash("admin", "event-admin create", type="social", start="now", duration=60,
                       reward_role=gc.mod_role)
    assert r.modal is None and "moderation or admin permissions" in r.content
    assert await _events_state(gc) == before
    event_id = await _create(gc, start="now", duration=30)
    before = await _events_state(gc)
    for who, command, options, expected in [
        ("bob", "event-admin cancel", {}, "host or an event manager"),
        ("bob", "event-admin edit", {"title": "Mine now"}, "host or an event manager"),
        ("admin", "event-admin edit", {"capacity": 0}, "at least 1"),
        ("admin", "event-admin edit", {"start": "2020-01-01 00:00"}, "in the past"),
        ("carol", "event leave", {}, "haven't joined"),
        ("carol", "event view", {"event": 999}, "doesn't exist"),
    ]:
        r = await gc.slash(who, command, **{"event": event_id, **options})
        assert r.ephemeral and expected in r.content, (command, r.content)
    assert await _events_state(gc) == before
    await gc.slash("admin", "event-admin cancel", event=event_id)
    assert gc.sb.scheduled_events(gc.guild)[0]["status"] == 4
    for command, expected in [("event join", "cancelled"), ("event checkin", "cancelled")]:
        r = await gc.slash("dave", command, event=event_id)
        assert r.ephemeral and expected in r.content, r.content
    forged = await gc.sb.click(gc["dave"], _card(gc), "Join")
    assert "cancelled" in forged.content


async def test_managers_by_role_and_edit_mirrors_discord(gc, clock):
    helpers = gc.sb.create_role(gc.guild, "Event team")
    gc.sb.give_role(gc["carol"], helpers)
    await gc.sb.settle()
    await gc.services.settings.set(gc.guild.id, Actor.system(), "event_manager_role_id", str(helpers.id))
    event_id = await _create(gc, who="carol")
    r = await gc.slash("carol", "event-admin edit", event=event_id, title="Gem ID quiz, round 2",
                       start="2026-01-07 18:00", duration=90)
    assert "Updated event" in r.text
    mirrored = gc.sb.scheduled_events(gc.guild)[0]
    assert mirrored["name"] == "Gem ID quiz, round 2"
    assert mirrored["scheduled_start_time"].startswith("2026-01-07T18:00")
    view = await gc.slash("alice", "event view", event=event_id)
    assert "round 2" in view.text and [b.label for b in view.buttons] == ["Join", "Leave", "Check in"]


async def test_restart_during_a_live_event_repeats_nothing(gc, clock):
    event_id = await _create(gc, start="2026-01-05 12:30", duration=60)
    await gc.slash("alice", "event join", event=event_id)
    await gc.advance(minutes=31)  # live
    await gc.slash("alice", "event checkin", event=event_id)
    await gc.restart_bot()
    await gc.advance(minutes=1)
    await gc.advance(minutes=1)
    twice = await gc.slash("alice", "event checkin", event=event_id)
    assert "already checked in" in twice.content
    r = await gc.click("bob", _card(gc), "Check in")  # the card's button survived the restart
    assert "Checked in" in r.content
    live = [m for m in _posts(gc) if "is live now" in m.content]
    reminders = [m for m in gc.sb.dms(gc["alice"]) if "Reminder" in m.content]
    assert len(live) == 1 and len(reminders) == 0  # the first sweep ran after the start: no late reminder
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (10, 10)


async def test_weekly_event_posts_its_next_occurrence_once(gc, clock):
    event_id = await _create(gc, start="2026-01-06 18:00", repeat="weekly", repeat_count=2)
    await gc.advance(days=1, hours=6, minutes=1)  # the first occurrence has started
    await gc.restart_bot()
    await gc.advance(minutes=1)
    cards = [m for m in _posts(gc) if m.embeds and "Event #" in (m.embeds[0].title or "")]
    assert [c.embeds[0].title.split(":")[0] for c in cards] == [
        f"🗓️ Event #{event_id}", f"🗓️ Event #{event_id + 1}"]
    mirrored = sorted(e["scheduled_start_time"] for e in gc.sb.scheduled_events(gc.guild))
    assert [m[:16] for m in mirrored] == ["2026-01-06T18:00", "2026-01-13T18:00"]
    await gc.advance(days=7)  # the last occurrence starts: nothing more to expand
    assert len(gc.sb.scheduled_events(gc.guild)) == 2


@pytest.mark.slow
@pytest.mark.deadline  # see tests/bot/test_burst_gives.py
@pytest.mark.xdist_group("deadline")
async def test_200_members_press_check_in_at_once(gc, clock):
    import asyncio

    event_id = await _create(gc, start="now", duration=60, reward_attend=7)
    crowd = [gc.add_member(f"fan{i:03d}") for i in range(200)]
    await gc.sb.settle()
    card = _card(gc)
    results = await asyncio.gather(*[gc.sb.click(m, card, "Check in", timeout=30)
                                     for m in crowd + crowd[:20]])
    texts = [r.text for r in results]
    assert gc.sb.deadline_violations == []  # every press answered (deferred) within 3 s
    assert sum("Checked in" in t for t in texts) == 200
    assert sum("already checked in" in t for t in texts) == 20
    assert await gc.db["event_attendance"].count_documents({"event_id": event_id}) == 200
    assert await gc.db["ledger"].count_documents({"kind": "reward"}) == 200
    assert {await balance(gc, f"fan{i:03d}") for i in range(200)} == {7}


async def test_check_in_with_the_code_the_host_reads_out(gc, clock):
    _opened, done = await event_form.create(gc, "admin", type="educational", start="now",
                                            duration="1h", reward_attend=3, require_code=True,
                                            title="Cutting class")
    code = done.content.split("**")[-2]
    assert len(code) == 6 and "Check-in code" in done.content
    event_id = int(done.content.split("#")[1].split(":")[0])
    before = await _events_state(gc)
    r = await gc.slash("alice", "event checkin", event=event_id)
    assert r.ephemeral and "needs the check-in code" in r.content
    r = await gc.slash("alice", "event checkin", event=event_id, code="WRONG1")
    assert r.ephemeral and "not right" in r.content
    assert await _events_state(gc) == before
    r = await gc.slash("alice", "event checkin", event=event_id, code=code.lower())
    assert "Checked in" in r.content
    form = await gc.click("bob", _card(gc), "Check in")
    assert form.modal is not None
    r = await gc.sb.submit_modal(gc["bob"], form, {"Check-in code": code})
    assert "Checked in" in r.content
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (3, 3)


async def test_event_ids_autocomplete_and_history_shows_boosts(gc, clock):
    event_id = await _create(gc, start="2026-01-06 18:00")
    choices = await gc.sb.autocomplete(gc["bob"], "event join", "event", "quiz")
    assert [c["value"] for c in choices] == [event_id] and "Gem ID quiz" in choices[0]["name"]
    await gc.slash("admin", "boost-admin schedule", factor="2", start="now", end="1h")
    await gc.slash("bob", "gems daily")
    history = await gc.slash("bob", "gems history")
    assert "boost x2" in history.text


async def test_a_long_event_list_fits_discord_limits(gc):
    events = gc.services.events
    for i in range(25):
        draft = await events.draft(gc.guild.id, type="social", start="2026-02-01 10:00",
                                   duration_minutes=60, channel_id=None, capacity=None)
        await events.create(gc.guild.id, Actor(gc["admin"].id, is_admin=True), draft, title=f"{i} " + "_" * 97,
                            description=None)
    listed = await gc.slash("bob", "event list")
    assert not listed.errors and "more" in listed.text


# --- issue 22: fairness ---------------------------------------------------------------------
async def _forge(gc, who, message, custom_id):
    """What a hostile client can send: a click whose message carries a button with a custom id
    of its choosing (discord.py only runs a DynamicItem whose id is on the message)."""
    raw = {"type": 2, "style": 1, "label": "forged", "custom_id": custom_id}
    forged = dataclasses.replace(message, raw_components=[{"type": 1, "components": [raw]}])
    comp = Component(type=2, custom_id=custom_id, label="forged", raw=raw)
    return await gc.sb._component(gc[who], forged, comp, [], None)


async def test_twenty_members_without_a_place_press_check_in_at_a_two_place_event(gc, clock):
    import asyncio

    event_id = await _create(gc, start="now", duration=60, capacity=2, reward_attend=50,
                             reward_complete=0, prize_1st=0, prize_2nd=0)
    crowd = [gc.add_member(f"walkin{i:02d}") for i in range(20)]
    await gc.sb.settle()
    card = _card(gc)
    results = await asyncio.gather(*[gc.sb.click(m, card, "Check in", timeout=30) for m in crowd])
    texts = [r.text for r in results]
    assert sum("Checked in" in t and "+💎 50 GEMS" in t for t in texts) == 2, texts
    refused = [t for t in texts if "Checked in" not in t]
    assert len(refused) == 18 and all("full (2 places)" in t and "/event join" in t
                                      for t in refused), refused
    assert await gc.db["ledger"].count_documents({"kind": "reward"}) == 2
    assert sum([await balance(gc, f"walkin{i:02d}") for i in range(20)]) == 100
    going = await gc.slash("alice", "event attendees", event=event_id)
    assert "Going (2)" in going.text
    # A member who checked in keeps the place: leaving can't hand it to someone else.
    winner = next(m for m, t in zip(crowd, texts, strict=True) if "Checked in" in t)
    kept = await gc.sb.click(winner, card, "Leave")
    assert "already checked in" in kept.text


async def test_the_bot_leavers_and_forged_ids_win_no_prize(gc, clock):
    event_id = await _create(gc, start="now", duration=60, reward_attend=0, reward_complete=0,
                             prize_1st=1_000_000, prize_2nd=0)
    await gc.slash("alice", "event checkin", event=event_id)
    gc.add_member("leaver")
    await gc.sb.settle()
    leaver = gc["leaver"]
    gc.sb.remove_member(gc.guild, leaver)
    await gc.sb.settle()
    before = await _events_state(gc)
    picker = await gc.slash("admin", "event-admin complete", event=event_id)
    select = f"ev:win:{event_id}:{gc['admin'].id}"
    me = gc.sb.member(gc.guild, gc.sb.bot_user)
    for chosen in (me, gc["otherbot"]):
        r = await gc.sb.select(gc["admin"], picker, select, [chosen])
        assert "Only current members" in r.text, r.text
    # A confirm button forged with arbitrary ids: the bot, the treasury, someone who left.
    for ids in (str(gc.sb.bot_user.id), "0", str(leaver.id)):
        r = await _forge(gc, "admin", picker.messages[0], f"ev:winok:{event_id}:{gc['admin'].id}:{ids}")
        assert "Only current members" in r.text, (ids, r.text)
    assert await _events_state(gc) == before  # nobody paid, the event still open
    done = await gc.sb.select(gc["admin"], picker, select, [gc["alice"]])
    assert "completed" in done.text
    assert await balance(gc, "alice") == 1_000_000


async def test_a_forged_event_id_with_leading_zeros_is_not_an_event(gc, clock):
    event_id = await _create(gc, start="now", duration=60)
    assert event_id == 1
    before = await _events_state(gc)
    for forged in ("ev:join:000000000001", "ev:join:01", "ev:join:+1", "ev:checkin:١"):
        with pytest.raises(InteractionNotAnswered):  # no component has that id: nothing runs
            await _forge(gc, "bob", _card(gc), forged)
    assert await _events_state(gc) == before
    r = await gc.click("bob", _card(gc), "Join")  # the genuine button still works
    assert "You're going" in r.content
