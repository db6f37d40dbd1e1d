"""Community events in the domain: RSVP capacity races, check-ins, exactly-once rewards, sweeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput, NotPermitted
from economy.events.service import WinnersNeedConfirmation
from economy.services import build_services
from tests.directory import install

pytestmark = pytest.mark.timeout(60)
G, HOST = 3, 1


async def _event(services, *, start="now", minutes=60, capacity=None, attend=10, complete=5,
                 prizes=(100, 50, 25), role_id=None, role_days=0):
    draft = await services.events.draft(
        G, type="contest", start=start, duration_minutes=minutes, channel_id=None,
        capacity=capacity, reward_attend=attend, reward_complete=complete, prizes=prizes,
        role_id=role_id, role_days=role_days)
    return await services.events.create(G, Actor(HOST, is_admin=True), draft, title="Gem quiz", description="Fun")


async def _ok(services):
    report = await audit(services.db)
    assert report.ok, report.render()


@pytest.mark.slow
async def test_200_concurrent_checkins_pay_once_each(services):
    event = await _event(services)
    users = list(range(100, 300))
    results = await asyncio.gather(
        *[services.events.checkin(G, event.event_id, u) for u in users + users[:50]],
        return_exceptions=True)
    paid = [r for r in results if r == 10]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(paid) == 200 and len(refused) == 50, [r for r in results if r not in (10,)][:3]
    assert await services.db["event_attendance"].count_documents({}) == 200
    assert await services.db["ledger"].count_documents({"kind": "reward"}) == 200
    await _ok(services)


async def test_capacity_holds_under_a_join_race(services):
    event = await _event(services, start="2026-01-06 12:00", capacity=5)
    results = await asyncio.gather(*[services.events.join(G, event.event_id, u)
                                     for u in range(10, 40)], return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 5
    assert all("full" in r.message for r in results if isinstance(r, Exception))
    assert (await services.events.get(G, event.event_id)).rsvp_count == 5
    with pytest.raises(InvalidInput, match="already joined"):
        await services.events.join(G, event.event_id, 10)
    await services.events.leave(G, event.event_id, 10)
    await services.events.join(G, event.event_id, 99)
    with pytest.raises(InvalidInput, match="haven't joined"):
        await services.events.leave(G, event.event_id, 10)


async def test_completion_pays_once_with_two_managers_and_double_presses(services, clock):
    install(services)
    event = await _event(services)
    for u in (20, 21, 22, 23):
        await services.events.checkin(G, event.event_id, u)
    with pytest.raises(NotPermitted):
        await services.events.complete(G, event.event_id, Actor(20), [20])
    with pytest.raises(WinnersNeedConfirmation):
        await services.events.complete(G, event.event_id, Actor(HOST), [20, 77])
    results = await asyncio.gather(*[
        services.events.complete(G, event.event_id, Actor(actor, is_admin=actor != HOST), [21, 20, 22])
        for actor in (HOST, 2, HOST, 2)])
    assert sum(not r.already for r in results) == 1
    balances = [await services.ledger.balance(G, u) for u in (20, 21, 22, 23)]
    assert balances == [10 + 5 + 50, 10 + 5 + 100, 10 + 5 + 25, 15]
    again = await services.events.complete(G, event.event_id, Actor(HOST, is_admin=True), [23])
    assert again.already and again.paid == 0
    assert (await services.events.get(G, event.event_id)).winners == [21, 20, 22]
    await _ok(services)


async def test_restart_in_the_middle_of_a_payout_finishes_it_once(store, clock, monkeypatch):
    first = build_services(store.db, clock)
    install(first)
    event = await _event(first)
    for u in range(30, 40):
        await first.events.checkin(G, event.event_id, u)
    real = first.ledger.earn
    calls = {"n": 0}

    async def crash_after_three(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise ConnectionError("the process died")
        return await real(*args, **kwargs)

    monkeypatch.setattr(first.ledger, "earn", crash_after_three)
    with pytest.raises(ConnectionError):
        await first.events.complete(G, event.event_id, Actor(HOST), [30])
    second, third = build_services(store.db, clock), build_services(store.db, clock)
    notices = await asyncio.gather(second.events.sweep(), third.events.sweep())
    assert sum(n.kind == "payout" for batch in notices for n in batch) >= 1
    assert [await second.ledger.balance(G, u) for u in range(30, 40)] == [115] + [15] * 9
    assert await second.events.sweep() == []  # payout_done: nothing left
    await _ok(second)


async def test_reminders_live_and_role_expiry_happen_once(store, clock):
    a, b = build_services(store.db, clock), build_services(store.db, clock)
    event = await _event(a, start="2026-01-07 12:00", role_id=555, role_days=2)
    await a.events.join(G, event.event_id, 50)
    clock.advance(hours=24, minutes=1)  # 2026-01-06 12:01: 24 h reminder due
    kinds = [n.kind for batch in await asyncio.gather(a.events.sweep(), b.events.sweep())
             for n in batch]
    assert kinds == ["remind24"]
    clock.advance(hours=23)
    kinds = [n.kind for batch in await asyncio.gather(a.events.sweep(), b.events.sweep())
             for n in batch]
    assert kinds == ["remind1"]
    clock.advance(hours=1)
    batches = await asyncio.gather(a.events.sweep(), b.events.sweep())
    assert [n.kind for batch in batches for n in batch] == ["live"]
    await a.events.checkin(G, event.event_id, 50)
    payout = await a.events.complete(G, event.event_id, Actor(HOST), [])
    assert payout.role_grants == [50]
    clock.advance(days=2, minutes=1)
    batches = await asyncio.gather(a.events.sweep(), b.events.sweep())
    expired = [n for batch in batches for n in batch]
    assert [(n.kind, n.users, n.role_id) for n in expired] == [("role_expired", (50,), 555)]


@pytest.mark.parametrize(("options", "expected"), [
    ({"start": "2026-01-01 10:00"}, "in the past"),
    ({"minutes": 0}, "at least 1 minute"),
    ({"minutes": 31 * 24 * 60 + 1}, "at most 31 days"),
    ({"capacity": 0}, "capacity must be at least 1"),
    ({"capacity": -3}, "capacity must be at least 1"),
    ({"attend": -1}, "between 0 and"),
    ({"role_id": 5, "role_days": 0}, "role_days"),
    ({"start": "someday"}, "not a date"),
])
async def test_bad_event_input_changes_nothing(services, options, expected):
    with pytest.raises(InvalidInput, match=expected):
        await _event(services, **options)
    assert await services.db["community_events"].count_documents({}) == 0


async def test_join_and_checkin_refusals(services, clock):
    event = await _event(services, start="2026-01-06 12:00", minutes=60)
    with pytest.raises(InvalidInput, match="opens 15 minutes before"):
        await services.events.checkin(G, event.event_id, 5)
    clock.advance(hours=23, minutes=50)
    assert await services.events.checkin(G, event.event_id, 5) == 10
    with pytest.raises(InvalidInput, match="already checked in"):
        await services.events.checkin(G, event.event_id, 5)
    clock.advance(hours=2)
    with pytest.raises(InvalidInput, match="over"):
        await services.events.checkin(G, event.event_id, 6)
    with pytest.raises(InvalidInput, match="over"):
        await services.events.join(G, event.event_id, 6)
    other = await _event(services, start="2026-01-09 12:00")
    await services.events.cancel(G, other.event_id, Actor(HOST))
    with pytest.raises(InvalidInput, match="cancelled"):
        await services.events.join(G, other.event_id, 6)
    await _ok(services)


async def test_weekly_series_expands_once_per_occurrence_across_dst(store, clock):

    a, b = build_services(store.db, clock), build_services(store.db, clock)
    await a.settings.set(G, Actor(1, is_admin=True), "timezone", "Europe/Berlin")
    clock.set(datetime(2026, 3, 20, 12, tzinfo=UTC))
    draft = await a.events.draft(G, type="social", start="2026-03-24 19:00", duration_minutes=60,
                                 channel_id=None, capacity=None, repeat="weekly", repeat_count=3)
    first = await a.events.create(G, Actor(HOST, is_admin=True), draft, title="Tuesday chat", description=None)
    assert await a.events.sweep() == []  # not started: nothing expanded yet
    starts = [first.starts_at]
    for _ in range(4):
        clock.set(starts[-1] + timedelta(minutes=1))
        batches = await asyncio.gather(a.events.sweep(), b.events.sweep())
        new = [n.event for batch in batches for n in batch if n.kind == "new"]
        if new:
            assert len(new) == 1
            starts.append(new[0].starts_at)
    # 19:00 local every Tuesday: 18:00 UTC before the DST change (29 March), 17:00 after.
    assert starts == [datetime(2026, 3, 24, 18, tzinfo=UTC), datetime(2026, 3, 31, 17, tzinfo=UTC),
                      datetime(2026, 4, 7, 17, tzinfo=UTC)]
    assert await store.db["community_events"].count_documents({}) == 3
    with pytest.raises(InvalidInput, match="2 to 52"):
        await a.events.draft(G, type="social", start="now", duration_minutes=60, channel_id=None,
                             capacity=None, repeat="monthly", repeat_count=1)


def test_monthly_occurrences_keep_the_day_or_the_last_day():
    from zoneinfo import ZoneInfo

    from economy.events.service import _next_start
    zone = ZoneInfo("UTC")
    assert _next_start(datetime(2026, 1, 31, 18, tzinfo=UTC), "monthly", zone) == datetime(
        2026, 2, 28, 18, tzinfo=UTC)
    assert _next_start(datetime(2026, 12, 15, 18, tzinfo=UTC), "monthly", zone) == datetime(
        2027, 1, 15, 18, tzinfo=UTC)


async def test_lowering_capacity_never_ends_below_the_joined_count(services):
    event = await _event(services, start="2026-01-06 12:00", capacity=10)
    for u in range(5):
        await services.events.join(G, event.event_id, 100 + u)
    results = await asyncio.gather(
        services.events.edit(G, event.event_id, Actor(HOST), capacity=5),
        *[services.events.join(G, event.event_id, 200 + u) for u in range(3)],
        return_exceptions=True)
    final = await services.events.get(G, event.event_id)
    assert final.rsvp_count <= (final.capacity or 0), (final, results)
    assert await services.db["event_rsvps"].count_documents({}) == final.rsvp_count


async def test_a_join_that_read_the_old_capacity_is_checked_against_the_new_one(services):
    """Deterministic form of the race above: the join reads capacity 10, an edit lowers it to 5
    (5 joined), then the join writes. It must be refused, not make it 6 of 5."""
    event = await _event(services, start="2026-01-06 12:00", capacity=10)
    for u in range(5):
        await services.events.join(G, event.event_id, 100 + u)
    real_get = services.events.get
    edited = False

    async def get_then_edit(guild_id, event_id):
        nonlocal edited
        found = await real_get(guild_id, event_id)
        if not edited:
            edited = True
            await services.events.edit(G, event.event_id, Actor(HOST), capacity=5)
        return found

    services.events.get = get_then_edit
    try:
        with pytest.raises(InvalidInput, match="full"):
            await services.events.join(G, event.event_id, 300)
    finally:
        services.events.get = real_get
    final = await services.events.get(G, event.event_id)
    assert (final.capacity, final.rsvp_count) == (5, 5)


# --- issue 22: fairness ---------------------------------------------------------------------
async def test_twenty_strangers_at_a_two_place_event_get_two_places_and_two_rewards(services):
    event = await _event(services, capacity=2, attend=50)
    results = await asyncio.gather(*[services.events.checkin(G, event.event_id, u)
                                     for u in range(400, 420)], return_exceptions=True)
    paid = [r for r in results if r == 50]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(paid) == 2 and len(refused) == 18, results
    assert all("full (2 places)" in r.message and "only members who joined" in r.message
               for r in refused)
    assert (await services.events.get(G, event.event_id)).rsvp_count == 2
    assert await services.db["event_rsvps"].count_documents({}) == 2
    assert await services.db["event_attendance"].count_documents({}) == 2
    assert await services.db["ledger"].count_documents({"kind": "reward"}) == 2
    await _ok(services)


async def test_place_holders_check_in_and_a_used_place_is_kept(services):
    event = await _event(services, capacity=2, attend=50)
    await services.events.join(G, event.event_id, 1)
    await services.events.join(G, event.event_id, 2)
    with pytest.raises(InvalidInput, match="full"):
        await services.events.checkin(G, event.event_id, 3)
    assert await services.events.checkin(G, event.event_id, 1) == 50
    with pytest.raises(InvalidInput, match="already checked in"):
        await services.events.leave(G, event.event_id, 1)  # the place can't go to someone else
    await services.events.leave(G, event.event_id, 2)  # not checked in: the place frees up
    assert await services.events.checkin(G, event.event_id, 3) == 50  # joins on the spot
    with pytest.raises(InvalidInput, match="full"):
        await services.events.checkin(G, event.event_id, 2)
    assert sorted(await services.events.attendees(G, event.event_id)) == [[1, 3], [1, 3]]


async def test_without_a_capacity_checking_in_counts_as_joining(services):
    event = await _event(services, attend=5)
    await services.events.join(G, event.event_id, 1)
    assert await services.events.checkin(G, event.event_id, 1) == 5
    assert await services.events.checkin(G, event.event_id, 2) == 5
    rsvps, checkins = await services.events.attendees(G, event.event_id)
    assert (rsvps, checkins) == ([1, 2], [1, 2])
    assert (await services.events.get(G, event.event_id)).rsvp_count == 2


async def test_a_member_who_left_between_the_read_and_the_write_is_not_paid(services):
    event = await _event(services, capacity=2, attend=50)
    await services.events.join(G, event.event_id, 1)
    repo = services.events._repo
    real_rsvp = repo.rsvp

    async def rsvp_then_leave(g, e, u):
        found = await real_rsvp(g, e, u)  # the check-in sees the place...
        await repo.leave(g, e, u)  # ...and the leave lands before its transaction
        return found

    repo.rsvp = rsvp_then_leave
    try:
        with pytest.raises(InvalidInput, match="no longer hold a place"):
            await services.events.checkin(G, event.event_id, 1)
    finally:
        repo.rsvp = real_rsvp
    assert await services.db["ledger"].count_documents({"kind": "reward"}) == 0
    assert await services.db["event_attendance"].count_documents({}) == 0
    await _ok(services)


@pytest.mark.parametrize(("winners", "expected"), [
    ([900], "Only current members"),         # a bot
    ([901], "Only current members"),         # left the server
    ([0], "Only current members"),           # the treasury
    ([-(10**12) - 1], "Only current members"),  # a deleted member's tombstone
])
async def test_winners_must_be_current_human_members(services, winners, expected):
    install(services, bots={900}, gone={901})
    event = await _event(services, prizes=(1_000_000, 0, 0))
    await services.events.checkin(G, event.event_id, 20)
    with pytest.raises(InvalidInput, match=expected):
        await services.events.complete(G, event.event_id, Actor(HOST), winners,
                                       confirm_absent=True)
    assert (await services.events.get(G, event.event_id)).status == "scheduled"
    assert await services.db["ledger"].count_documents({"kind": "reward",
                                                        "delta": 1_000_000}) == 0


async def test_winners_are_refused_when_membership_is_unknown(services):
    event = await _event(services)  # no directory: this process can't tell who is a member
    with pytest.raises(InvalidInput, match="can't check this server's members"):
        await services.events.complete(G, event.event_id, Actor(HOST), [20],
                                       confirm_absent=True)
    install(services)
    payout = await services.events.complete(G, event.event_id, Actor(HOST), [])
    assert payout.paid == 0  # no winners needs no directory answer


async def test_a_deleted_attendee_and_winner_are_paid_nothing_more(services):
    install(services)
    event = await _event(services, attend=10, complete=5, prizes=(100, 0, 0))
    for user in (20, 21):
        await services.events.checkin(G, event.event_id, user)
    await services.privacy.delete(G, 21)
    payout = await services.events.complete(G, event.event_id, Actor(HOST), [20])
    assert payout.paid == 5 + 100
    tomb = await services.db["accounts"].find_one({"guild_id": G, "user_id": {"$lt": -(10**12)}})
    assert tomb["balance"] == 10  # what it held at deletion, nothing more
    await _ok(services)


async def test_the_ledger_never_credits_a_tombstone(services):
    from economy.core.errors import DeletedAccount
    tomb = -(10**12) - 7
    for call in (
        services.ledger.earn(G, tomb, 5, key="e", kind="reward"),
        services.ledger.grant(G, Actor(1, is_admin=True), tomb, 5, reason="prize", key="g"),
    ):
        with pytest.raises((DeletedAccount, InvalidInput)):
            await call
    await services.ledger.grant(G, Actor(1, is_admin=True), 5, 50, reason="seed", key="s")
    with pytest.raises(DeletedAccount):
        await services.ledger.transfer(G, 5, tomb, 5, key="t")
    assert await services.ledger.earn_batch(G, {tomb: 5, 6: 5}, batch_key="b") == 5
    assert await services.db["ledger"].count_documents({"user_id": tomb}) == 0
    await _ok(services)
