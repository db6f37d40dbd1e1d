"""Mentorship service against the embedded store: registration rules, proposals, the last-slot
race, timeouts swept by two processes, goals with rewards, endings, ratings, batch rounds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import GemsError, InvalidInput, NotPermitted
from economy.mentorship.repo import MentorshipRepo
from economy.mentorship.rules import MentorshipUnavailable
from economy.mentorship.services import Mentorship
from economy.services import build_services
from economy.trades.repo import TradeRepo

pytestmark = pytest.mark.timeout(60)
G = 7
EVENINGS = "mon-fri 18-21"


async def mentor(services, uid, skills="cad:4, casting:3", *, capacity=1, langs="en",
                 zone="Europe/Paris", hours=EVENINGS, joined_days=400):
    return await services.mentorship.mentors.register_mentor(
        G, uid, joined_at=services.clock.now() - timedelta(days=joined_days), skills=skills,
        zone=zone, availability=hours, languages=langs, capacity=capacity, bio="I set stones.")


async def apply(services, uid, wanted="cad:1", *, langs="en", zone="Europe/Paris",
                hours=EVENINGS, mentor_id=None):
    return await services.mentorship.proposals.apply(G, uid, wanted=wanted, zone=zone, availability=hours,
                                           languages=langs, goals="Learn CAD", mentor_id=mentor_id)


async def accept_both(ms: Mentorship, proposal):
    await ms.proposals.respond(G, proposal.mentorship_id, proposal.mentor_id, accept=True)
    return await ms.proposals.respond(G, proposal.mentorship_id, proposal.mentee_id, accept=True)


async def snapshot(services):
    db = services.db
    out = []
    for name in ("mentors", "mentees", "mentorships", "mentor_goals", "mentor_ratings", "ledger"):
        out.append(sorted(map(repr, await db[name].find({}, {"_id": 0}).to_list())))
    return out


async def test_registration_rules_and_bad_input_change_nothing(services):
    reg = await mentor(services, 1)
    assert not reg.needs_approval and reg.mentor.status == "active"
    assert reg.mentor.skill_levels == {"cad": 4, "casting": 3}
    before = await snapshot(services)
    bad = [
        ({"uid": 1}, "already registered"),
        ({"uid": 2, "skills": "knitting:3"}, "not a skill"),
        ({"uid": 2, "capacity": 0}, "1 to 10"),
        ({"uid": 2, "capacity": 50}, "1 to 10"),
        ({"uid": 2, "hours": "mon 21-18"}, "end must be after"),
        ({"uid": 2, "zone": "Mars/Olympus"}, "time zone"),
        ({"uid": 2, "langs": "klingon"}, "not a language"),
    ]
    for kwargs, message in bad:
        with pytest.raises(GemsError, match=message):
            await mentor(services, **kwargs)
    with pytest.raises(InvalidInput, match="own mentor"):
        await apply(services, 1, mentor_id=1)
    assert await snapshot(services) == before
    # Overlapping ranges are merged, not refused.
    reg = await mentor(services, 3, hours="mon 18-21, mon 20-22")
    assert reg.mentor.availability == [[18, 22]]


async def test_qualification_goes_to_the_lead_or_is_refused(services):
    ms = services.mentorship
    await services.settings.set(G, Actor.system(), "mentor_min_days", "30")
    with pytest.raises(NotPermitted, match="30 days in the server"):
        await mentor(services, 5, joined_days=3)
    await services.settings.set(G, Actor.system(), "mentorship_lead_role_id", "999")
    reg = await mentor(services, 5, joined_days=3)
    assert reg.needs_approval and reg.mentor.status == "pending" and "30 days" in reg.reason
    with pytest.raises(NotPermitted):
        await ms.mentors.decide_mentor(G, Actor(6), 5, approve=True)
    assert (await ms.mentors.decide_mentor(G, Actor(6, is_admin=True), 5, approve=True)).status == "active"
    with pytest.raises(MentorshipUnavailable):
        await ms.mentors.decide_mentor(G, Actor(6, is_admin=True), 5, approve=False)
    await mentor(services, 7, joined_days=3)
    assert (await ms.mentors.decide_mentor(G, Actor(6, is_admin=True), 7, approve=False)).status == "rejected"
    assert (await mentor(services, 7, joined_days=3)).needs_approval  # may apply again
    await services.settings.set(G, Actor.system(), "mentor_min_days", "0")
    await services.settings.set(G, Actor.system(), "mentor_min_trades", "2")
    reg = await mentor(services, 8)
    assert reg.needs_approval and "2 completed trades" in reg.reason
    # Or a trading reputation: member 9 has one 5-star trade rating.
    await services.settings.set(G, Actor.system(), "mentor_min_rating", "4")
    await TradeRepo(services.db).add_rating({"guild_id": G, "trade_id": 1, "rater_id": 3,
                                          "ratee_id": 9, "stars": 5, "at": services.clock.now()})
    assert not (await mentor(services, 9)).needs_approval
    reg = await mentor(services, 10)
    assert reg.needs_approval and "or a trade rating of 4★" in reg.reason


async def test_propose_accept_decline_and_never_again(services):
    ms = services.mentorship
    await mentor(services, 1, "cad:3")       # cad gap 2: fit 1.0
    await mentor(services, 2, "cad:2")       # gap 1: 0.7
    p = await apply(services, 10)
    assert p.mentor_id == 1 and p.explanation == "1 of 1 skill, 15 h/week overlap, both speak English"
    with pytest.raises(NotPermitted, match="someone else"):
        await ms.proposals.respond(G, p.mentorship_id, 99, accept=True)
    r = await ms.proposals.respond(G, p.mentorship_id, 10, accept=False)
    assert r.pairing.status == "declined" and r.next_proposal.mentor_id == 2
    with pytest.raises(MentorshipUnavailable):
        await ms.proposals.respond(G, p.mentorship_id, 1, accept=True)
    r = await ms.proposals.respond(G, r.next_proposal.mentorship_id, 2, accept=False)  # mentor declines
    assert r.next_proposal is None  # mentor 1 was declined before: never re-proposed
    assert (await MentorshipRepo(services.db).mentee(G, 10))["proposal_id"] == 0


async def test_both_accept_starts_and_slot_is_counted(services):
    ms = services.mentorship
    await mentor(services, 1, capacity=1)
    p = await apply(services, 10)
    waiting = await ms.proposals.respond(G, p.mentorship_id, 10, accept=True)
    assert waiting.note == "waiting" and not waiting.started
    with pytest.raises(MentorshipUnavailable, match="already accepted"):
        await ms.proposals.respond(G, p.mentorship_id, 10, accept=True)
    done = await ms.proposals.respond(G, p.mentorship_id, 1, accept=True)
    assert done.started and done.pairing.status == "active"
    assert (await ms.mentors.mentor(G, 1)).load == 1
    assert await apply(services, 11) is None  # the only mentor is full


async def test_two_mentees_race_for_the_last_slot(services):
    ms = services.mentorship
    await mentor(services, 1, capacity=1)
    p1 = await apply(services, 10)
    p2 = await apply(services, 11)  # no other mentor fits: offered too, first to accept wins
    assert p1.mentor_id == p2.mentor_id == 1
    for p in (p1, p2):
        await ms.proposals.respond(G, p.mentorship_id, 1, accept=True)
    results = await asyncio.gather(*(ms.proposals.respond(G, p.mentorship_id, p.mentee_id, accept=True)
                                     for p in (p1, p2)))
    assert sorted(r.note for r in results) == ["slot_taken", "started"]
    assert (await ms.mentors.mentor(G, 1)).load == 1
    lapsed = next(r for r in results if r.note == "slot_taken")
    assert lapsed.pairing.status == "lapsed"
    assert (await MentorshipRepo(services.db).mentee(G, lapsed.pairing.mentee_id))["status"] == "open"


async def test_many_racers_for_few_slots(services):
    ms = services.mentorship
    await mentor(services, 1, capacity=3)
    proposals = [await apply(services, 100 + i) for i in range(8)]
    assert all(p.mentor_id == 1 for p in proposals)
    for p in proposals:
        await ms.proposals.respond(G, p.mentorship_id, 1, accept=True)
    results = await asyncio.gather(*(ms.proposals.respond(G, p.mentorship_id, p.mentee_id, accept=True)
                                     for p in proposals))
    assert sum(r.started for r in results) == 3
    assert (await ms.mentors.mentor(G, 1)).load == 3


async def test_timeouts_swept_by_two_processes_propose_the_next(services, store, clock):
    await mentor(services, 1, "cad:3")
    await mentor(services, 2, "cad:2")
    p = await apply(services, 10)
    clock.advance(hours=47)
    assert (await services.mentorship.proposals.sweep()).expired == []
    clock.advance(hours=2)
    with pytest.raises(MentorshipUnavailable, match="no longer open"):
        await services.mentorship.proposals.respond(G, p.mentorship_id, 10, accept=True)
    other = build_services(store.db, clock)  # a second bot process on the same database
    a, b = await asyncio.gather(services.mentorship.proposals.sweep(), other.mentorship.proposals.sweep())
    assert len(a.expired) + len(b.expired) == 1
    proposed = a.proposed + b.proposed
    assert [x.mentor_id for x in proposed] == [2]
    pending = await MentorshipRepo(services.db).pairs_in(G, "proposed")
    assert len(pending) == 1


async def test_goals_rewards_once_end_and_rating_window(services, clock):
    ms = services.mentorship
    await mentor(services, 1)
    p = await apply(services, 10)
    pairing = (await accept_both(ms, p)).pairing
    goal = await ms.pairings.add_goal(pairing, 1, "Model a simple band ring in CAD")
    assert goal.goal_no == 1 and goal.status == "open"
    with pytest.raises(NotPermitted, match="can't confirm their own"):
        await ms.pairings.confirm_goal(pairing, 1, 1)
    results = await asyncio.gather(*(ms.pairings.confirm_goal(pairing, 10, 1) for _ in range(5)),
                                   return_exceptions=True)
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 1 and ok[0].reward == 50
    assert all(isinstance(r, MentorshipUnavailable) for r in results if isinstance(r, Exception))
    assert await services.ledger.balance(G, 1) == 50
    with pytest.raises(MentorshipUnavailable):
        await ms.pairings.confirm_goal(pairing, 10, 1)
    with pytest.raises(InvalidInput, match="Ratings open 4 weeks"):
        await ms.recognition.rate(pairing, 10, 5, "great")
    result = await ms.pairings.end(pairing, 10, "completed", "Learned a lot")
    ended = result.pairing
    assert ended.status == "ended" and result.reached_level == 1
    with pytest.raises(MentorshipUnavailable):
        await ms.pairings.end(pairing, 1, "completed", None)
    mentor_after = await ms.mentors.mentor(G, 1)
    assert (mentor_after.load, mentor_after.completed) == (0, 1)
    clock.advance(days=28)
    await ms.recognition.rate(ended, 10, 5, "Patient and clear")
    with pytest.raises(InvalidInput, match="already rated"):
        await ms.recognition.rate(ended, 10, 4, None)
    await ms.recognition.rate(ended, 1, 4, None)
    summary = await ms.recognition.summary(G, 1)
    assert summary.render() == "★ 5.0 (1 rating) · 1 completed · 0 active"
    assert (await audit(services.db)).ok
    # The mentee may apply again; the old pair is not proposed again.
    assert await apply(services, 10) is None


async def test_checkin_reminder_once_per_silence(services, clock):
    ms = services.mentorship
    await mentor(services, 1)
    pairing = (await accept_both(ms, await apply(services, 10))).pairing
    clock.advance(days=6)
    assert (await ms.proposals.sweep()).checkins == []
    clock.advance(days=1, minutes=1)
    assert [c.mentorship_id for c in (await ms.proposals.sweep()).checkins] == [pairing.mentorship_id]
    assert (await ms.proposals.sweep()).checkins == []
    await ms.pairings.touch(pairing)
    clock.advance(days=6)
    assert (await ms.proposals.sweep()).checkins == []


@pytest.mark.slow
async def test_round_uses_global_assignment(services):
    ms = services.mentorship
    # Applications arrive while no mentor exists, so they wait for the round.
    assert await apply(services, 10, "cad:0") is None
    assert await apply(services, 11, "cad:1") is None
    await mentor(services, 1, "cad:2")
    await mentor(services, 2, "cad:1")
    with pytest.raises(NotPermitted):
        await ms.proposals.round(G, Actor(1))
    made = await ms.proposals.round(G, Actor.system())
    assert {(p.mentee_id, p.mentor_id) for p in made} == {(10, 2), (11, 1)}
    assert await ms.proposals.round(G, Actor.system()) == []  # pending proposals are not proposed twice


async def test_requested_mentor(services):
    await mentor(services, 1, "cad:3")
    await mentor(services, 2, "gemology:5")
    with pytest.raises(InvalidInput, match="doesn't fit"):
        await apply(services, 10, mentor_id=2)
    with pytest.raises(InvalidInput, match="not an active mentor"):
        await apply(services, 10, mentor_id=3)
    p = await apply(services, 10, mentor_id=1)
    assert p.mentor_id == 1


async def test_pause_resume_leave(services):
    ms = services.mentorship
    await mentor(services, 1)
    assert (await ms.mentors.set_mentor_state(G, 1, "pause")).status == "paused"
    assert await apply(services, 10) is None  # paused mentors get no proposals
    with pytest.raises(InvalidInput, match="can't pause"):
        await ms.mentors.set_mentor_state(G, 1, "pause")
    assert (await ms.mentors.set_mentor_state(G, 1, "resume")).status == "active"
    assert (await ms.mentors.set_mentor_state(G, 1, "leave")).status == "left"
    reg = await mentor(services, 1, capacity=2)  # may register anew
    assert reg.mentor.capacity == 2


async def test_spotlight_once_with_two_processes(services, store, clock):
    ms = services.mentorship
    await services.settings.set(G, Actor.system(), "mentorship_spotlight_channel_id", "555")
    await services.settings.set(G, Actor.system(), "mentorship_rating_weeks", "0")
    for mentor_id, mentee_id, stars in ((1, 10, 4), (2, 11, 5)):
        await mentor(services, mentor_id)
        p = (await accept_both(ms, await apply(services, mentee_id))).pairing
        await ms.recognition.rate(p, mentee_id, stars, None)
    clock.advance(days=27)  # 2026-02-01
    other = build_services(store.db, clock)
    a, b = await asyncio.gather(ms.recognition.spotlights(), other.mentorship.recognition.spotlights())
    spots = a + b
    assert [(s.month, s.user_id, s.average, s.channel_id) for s in spots] == [
        ("2026-01", 2, 5.0, 555)]
    assert await ms.recognition.spotlights() == []


async def test_weekly_round_runs_once_per_week(services, store, clock):
    ms = services.mentorship
    assert await apply(services, 10) is None             # cad gap 3 with either mentor: 0.9
    assert await apply(services, 11, "cad:3") is None    # gap 1: 0.7
    await mentor(services, 1, capacity=1)
    assert await ms.proposals.weekly_rounds() == []  # off by default
    await services.settings.set(G, Actor.system(), "mentorship_weekly_round", "yes")
    other = build_services(store.db, clock)
    a, b = await asyncio.gather(ms.proposals.weekly_rounds(), other.mentorship.proposals.weekly_rounds())
    assert [p.mentee_id for p in a + b] == [10]
    await mentor(services, 2, capacity=1)
    assert await ms.proposals.weekly_rounds() == []  # this week's round already ran
    clock.advance(days=7)
    assert [p.mentee_id for p in await ms.proposals.weekly_rounds()] == [11]


async def test_both_sides_accepting_at_once_start_it_once(services):
    ms = services.mentorship
    for capacity, mentee in ((1, 10), (2, 11)):
        await mentor(services, mentee - 9, capacity=capacity)
        p = await apply(services, mentee)
        a, b = await asyncio.gather(ms.proposals.respond(G, p.mentorship_id, p.mentor_id, accept=True),
                                    ms.proposals.respond(G, p.mentorship_id, p.mentee_id, accept=True))
        notes = sorted(r.note for r in (a, b))
        assert notes in (["already_started", "started"], ["started", "waiting"]), notes
        assert (await ms.pairings.get(G, p.mentorship_id)).status == "active"
        assert (await ms.mentors.mentor(G, p.mentor_id)).load == 1
    # Force the interleaving: both answers saw both acceptances and start at the same moment.
    for capacity, mentee in ((1, 20), (2, 21)):
        await mentor(services, mentee + 10, capacity=capacity)
        p = await apply(services, mentee, mentor_id=mentee + 10)
        for side in ("mentor", "mentee"):
            await MentorshipRepo(services.db).mark_side(G, p.mentorship_id, side, 0)
        ready = await ms.pairings.get(G, p.mentorship_id)
        a, b = await asyncio.gather(ms.proposals._start(ready), ms.proposals._start(ready))
        assert sorted(r.note for r in (a, b)) == ["already_started", "started"]
        assert (await ms.mentors.mentor(G, p.mentor_id)).load == 1


async def test_withdraw_closes_the_application_and_its_proposal(services):
    ms = services.mentorship
    await mentor(services, 1)
    p = await apply(services, 10)
    withdrawn = await ms.proposals.withdraw(G, 10)
    assert withdrawn.mentorship_id == p.mentorship_id and withdrawn.status == "withdrawn"
    with pytest.raises(InvalidInput, match="no open application"):
        await ms.proposals.withdraw(G, 10)
    with pytest.raises(MentorshipUnavailable):
        await ms.proposals.respond(G, p.mentorship_id, 1, accept=True)
    assert (await apply(services, 10)) is None  # applying again; the old pair is not re-proposed


async def test_reads_the_cog_makes_history_pending_and_rooms(services):
    ms = services.mentorship
    await services.settings.set(G, Actor.system(), "mentorship_lead_role_id", "999")
    await services.settings.set(G, Actor.system(), "mentor_min_days", "30")
    await mentor(services, 5, joined_days=3)
    await mentor(services, 6, joined_days=3)
    assert [m.user_id for m in await ms.mentors.pending(G, Actor.system())] == [5, 6]  # oldest first
    await ms.mentors.decide_mentor(G, Actor(9, is_admin=True), 5, approve=True)
    assert [m.user_id for m in await ms.mentors.pending(G, Actor.system())] == [6]
    first = await apply(services, 10)
    declined = await ms.proposals.respond(G, first.mentorship_id, 5, accept=False)
    assert declined.next_proposal is None
    await mentor(services, 1)
    second = (await accept_both(ms, await apply(services, 11))).pairing
    assert [p.mentorship_id for p in await ms.pairings.history(G, 10)] == [first.mentorship_id]
    assert [(p.mentorship_id, p.status) for p in await ms.pairings.history(G, 1)] == [
        (second.mentorship_id, "active")]
    assert await ms.pairings.history(G, 10, ("active", "ended")) == []
    await ms.pairings.attach_room(G, second.mentorship_id, thread_id=4242, card_message_id=None)
    assert await ms.pairings.is_room(G, 4242) and not await ms.pairings.is_room(G, 4243)
