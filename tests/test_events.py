"""Community events in the domain: RSVP capacity races, check-ins, exactly-once rewards, sweeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from economy.audit import audit
from economy.errors import InvalidInput, NotPermitted
from economy.events import WinnersNeedConfirmation
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
    return await services.events.create(G, HOST, draft, title="Gem quiz", description="Fun")


async def _ok(services):
    report = await audit(services.ledger_repo)
    assert report.ok, report.render()


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
        await services.events.complete(G, event.event_id, 20, [20], is_manager=False)
    with pytest.raises(WinnersNeedConfirmation):
        await services.events.complete(G, event.event_id, HOST, [20, 77], is_manager=False)
    results = await asyncio.gather(*[
        services.events.complete(G, event.event_id, actor, [21, 20, 22], is_manager=actor != HOST)
        for actor in (HOST, 2, HOST, 2)])
    assert sum(not r.already for r in results) == 1
    balances = [await services.ledger.balance(G, u) for u in (20, 21, 22, 23)]
    assert balances == [10 + 5 + 50, 10 + 5 + 100, 10 + 5 + 25, 15]
    again = await services.events.complete(G, event.event_id, HOST, [23], is_manager=True)
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
        await first.events.complete(G, event.event_id, HOST, [30], is_manager=False)
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
    payout = await a.events.complete(G, event.event_id, HOST, [], is_manager=False)
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
    await services.events.cancel(G, other.event_id, HOST, is_manager=False)
    with pytest.raises(InvalidInput, match="cancelled"):
        await services.events.join(G, other.event_id, 6)
    await _ok(services)


async def test_weekly_series_expands_once_per_occurrence_across_dst(store, clock):

    a, b = build_services(store.db, clock), build_services(store.db, clock)
    await a.settings.set(G, 1, "timezone", "Europe/Berlin")
    clock.set(datetime(2026, 3, 20, 12, tzinfo=UTC))
    draft = await a.events.draft(G, type="social", start="2026-03-24 19:00", duration_minutes=60,
                                 channel_id=None, capacity=None, repeat="weekly", repeat_count=3)
    first = await a.events.create(G, HOST, draft, title="Tuesday chat", description=None)
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

    from economy.events import _next_start
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
        services.events.edit(G, event.event_id, HOST, is_manager=False, capacity=5),
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
            await services.events.edit(G, event.event_id, HOST, is_manager=False, capacity=5)
        return found

    services.events.get = get_then_edit
    try:
        with pytest.raises(InvalidInput, match="full"):
            await services.events.join(G, event.event_id, 300)
    finally:
        services.events.get = real_get
    final = await services.events.get(G, event.event_id)
    assert (final.capacity, final.rsvp_count) == (5, 5)
