"""Boost factors, weekend windows, stacking, sources, announcements and the legacy migration."""

from __future__ import annotations

import asyncio
import importlib
from datetime import UTC, datetime, timedelta

import pytest

from economy.boosts.service import Window, combine, parse_factor, weekend_window
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import InvalidInput
from economy.core.settings import GuildSettings
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)
G = 5


def test_factors_are_basis_points():
    assert [parse_factor(t) for t in ("2", "x1.5", "1.25x", "10", "1.1")] == [
        20_000, 15_000, 12_500, 100_000, 11_000]
    for bad in ("1", "10.01", "0", "-2", "nan", "inf", "1e1000", "2.005", ""):
        with pytest.raises(InvalidInput):
            parse_factor(bad)


def test_stacking_rules():
    a = Window("b1", 20_000, 0, 10)
    b = Window("b2", 15_000, 0, 10)
    assert combine([b, a], "highest").factor_bps == 20_000
    assert combine([b, a], "highest").boost_ids == ("b1",)
    both = combine([a, b], "multiply")
    assert (both.factor_bps, both.boost_ids) == (30_000, ("b1", "b2"))
    assert combine([Window("b3", 100_000, 0, 10)] * 2, "multiply").factor_bps == 100_000  # cap
    assert combine([b], "highest").apply(5) == 7  # rounds down


def test_weekend_window_is_local_and_dst_correct():
    s = GuildSettings(double_weekend=True, timezone="Europe/Berlin")
    window = weekend_window(s, datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert window is not None and window.boost_id == "wk-20261023"
    assert window.starts_at == datetime(2026, 10, 23, 16, tzinfo=UTC)  # 18:00 CEST
    assert window.ends_at == datetime(2026, 10, 25, 23, tzinfo=UTC)  # Monday 00:00 CET
    spring = weekend_window(s, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert spring.ends_at - spring.starts_at == timedelta(hours=53)  # clocks go forward
    assert weekend_window(s, datetime(2026, 10, 23, 15, 59, tzinfo=UTC)) is None
    off = GuildSettings(timezone="Europe/Berlin")
    assert weekend_window(off, datetime(2026, 10, 24, 12, tzinfo=UTC)) is None
    # A window that wraps the week (Saturday 10:00 to Wednesday 08:00) and weekday names.
    wrap = GuildSettings.model_validate({"double_weekend": True, "double_weekend_start_day": "sat",
                                         "double_weekend_start_hour": 10,
                                         "double_weekend_end_day": "wednesday",
                                         "double_weekend_end_hour": 8})
    inside = weekend_window(wrap, datetime(2026, 1, 13, 12, tzinfo=UTC))  # Tuesday
    assert inside is not None and inside.boost_id == "wk-20260110"


async def test_sources_decide_what_is_boosted(services, clock):
    await services.boosts.windows.add(G, 200, starts_at=clock.now(), ends_at=clock.now() + timedelta(hours=5),
                                   reason="x")
    daily = await services.ledger.claim_daily(G, 1, await services.settings.get(G))
    assert daily.amount == 200 and daily.movement.entries[0].boost_ids == ("b1",)
    await services.settings.set(G, Actor(1, is_admin=True), "boost_applies_to", "activity")
    clock.advance(days=1)
    daily = await services.ledger.claim_daily(G, 1, await services.settings.get(G))
    assert daily.amount == 110 and daily.movement.entries[0].multiplier_bps == 10_000
    reward = await services.ledger.earn(G, 2, 50, key="r1", kind="reward", source="event")
    assert reward.entries[0].delta == 50
    with pytest.raises(InvalidInput):
        await services.settings.set(G, Actor(1, is_admin=True), "boost_applies_to", "activity, everything")
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_two_processes_sweeping_announce_each_transition_once(store, clock):
    first, second = build_services(store.db, clock), build_services(store.db, clock)
    await first.settings.set(G, Actor(1, is_admin=True), "double_weekend", "on")
    await first.boosts.schedule(G, Actor(1, is_admin=True), factor="2", start="now", end="1h")
    clock.set(datetime(2026, 1, 9, 18, 30, tzinfo=UTC))  # inside b1? no: b1 ended; weekend on
    await first.boosts.schedule(G, Actor(1, is_admin=True), factor="1.5", start="now", end="30m")
    results = await asyncio.gather(*[svc.boosts.sweep() for svc in (first, second) * 5])
    kinds = sorted((n.window.boost_id, n.kind) for batch in results for n in batch)
    # b1 ended before any sweep saw it: retired silently, never announced.
    assert kinds == [("b2", "start"), ("wk-20260109", "start")]
    clock.advance(days=3)
    results = await asyncio.gather(*[svc.boosts.sweep() for svc in (first, second) * 5])
    kinds = sorted((n.window.boost_id, n.kind) for batch in results for n in batch)
    assert kinds == [("b2", "end"), ("wk-20260109", "end")]
    assert await first.boosts.sweep() == [] and await second.boosts.sweep() == []
    assert await store.db["multipliers"].count_documents({"end_announced": False}) == 0


async def test_activity_uses_the_factor_of_the_moment_the_message_was_sent(services, clock):
    from economy.currency.activity import ChatMessage

    def msg(text):
        return ChatMessage(guild_id=G, user_id=1, channel_id=1, role_ids=frozenset(),
                           content=text, author_is_bot=False, at=clock.now())

    await services.boosts.schedule(G, Actor(1, is_admin=True), factor="2", start="now", end="1h")
    await services.activity.record(msg("during the boost"))
    clock.advance(hours=1)
    await services.activity.record(msg("after the boost"))
    assert await services.activity.flush() == 15  # 10 at x2 + 5 at x1, in one flush
    entries = await services.db["ledger"].find({"kind": "activity"}).sort("leg").to_list()
    assert [(e["delta"], e["leg"], e["boost_ids"]) for e in entries] == [(5, 0, []), (10, 1, ["b1"])]


async def test_legacy_percent_windows_are_converted(store, clock):
    raw = store.db["multipliers"]
    now = clock.now()
    await raw.insert_one({"guild_id": G, "percent": 150, "reason": "old", "starts_at": now,
                          "ends_at": now + timedelta(hours=1)})
    migration = importlib.import_module("migrations.0006_events")
    await migration.up(store.db.raw)
    services = build_services(store.db, clock)
    movement = await services.ledger.earn(G, 1, 10, key="k")
    assert movement.entries[0].delta == 15 and movement.entries[0].boost_ids == ("legacy1",)
    assert await services.boosts.sweep() == []  # old windows are never announced late


async def test_windows_are_cached_and_changes_are_seen_at_once(services, clock):
    boosts = services.boosts
    calls = {"n": 0}
    real = services.boosts.windows.open_windows

    async def counting(*args, **kwargs):
        calls["n"] += 1
        return await real(*args, **kwargs)

    services.boosts.windows.open_windows = counting
    for _ in range(50):
        assert (await boosts.applied(1, clock.now(), "activity")).factor_bps == 10_000
    assert calls["n"] == 1
    await services.boosts.windows.add(1, 200, starts_at=clock.now(), ends_at=clock.now().replace(hour=23),
                                   reason="x")
    assert (await boosts.applied(1, clock.now(), "activity")).factor_bps == 20_000
    assert calls["n"] == 2


async def test_only_windows_that_can_still_be_active_are_read(services, clock):
    now = clock.now()
    for i in range(300):  # a long history of ended boosts
        await services.boosts.windows.add(G, 150, starts_at=now - timedelta(days=400 - i),
                                       ends_at=now - timedelta(days=399 - i), reason="old")
    await services.boosts.windows.add(G, 200, starts_at=now, ends_at=now + timedelta(hours=1),
                                   reason="now")
    from economy.boosts.repo import to_ms
    docs = await services.boosts.windows.open_windows(G, to_ms(now))
    assert [d["factor_bps"] for d in docs] == [20_000]
    assert (await services.boosts.applied(G, now, "activity")).factor_bps == 20_000


async def test_holder_perks_multiply_earnings_of_members_with_the_role(services, clock):
    from economy.currency.activity import ChatMessage
    holder_role, whale_role = 777, 888
    await services.settings.set(G, Actor(1, is_admin=True), "holder_perks", f"<@&{holder_role}>:1.5, {whale_role}:x2")
    settings = await services.settings.get(G)
    assert settings.perk_factors == {holder_role: 15_000, whale_role: 20_000}

    def said(user, roles):
        return ChatMessage(guild_id=G, user_id=user, channel_id=1, role_ids=frozenset(roles),
                           content=f"hello from member {user}", author_is_bot=False,
                           at=clock.now())

    await services.activity.record(said(1, ()))
    await services.activity.record(said(2, (holder_role,)))
    await services.activity.record(said(3, (holder_role, whale_role)))  # highest applies
    await services.activity.flush()
    assert [await services.ledger.balance(G, u) for u in (1, 2, 3)] == [5, 7, 10]
    entries = await services.db["ledger"].find({"guild_id": G, "user_id": 3}).to_list()
    assert entries[0]["boost_ids"] == [f"perk-{whale_role}"] and entries[0]["multiplier_bps"] == 20_000
    claim = await services.ledger.claim_daily(G, 2, settings, role_ids=frozenset({holder_role}))
    assert claim.amount == settings.daily_amount * 3 // 2
    await services.settings.set(G, Actor(1, is_admin=True), "boost_stacking", "multiply")
    clock.advance(days=1)
    claim = await services.ledger.claim_daily(G, 3, await services.settings.get(G),
                                              role_ids=frozenset({holder_role, whale_role}))
    assert claim.amount == settings.daily_amount * 3  # x1.5 * x2
    report = await audit(services.db)
    assert report.ok, report.render()


@pytest.mark.parametrize("bad", ["123:20", "123:1", "@Holder", "123:1.555", "abc:2"])
async def test_bad_holder_perks_are_refused(services, bad):
    with pytest.raises(InvalidInput, match="holder_perks"):
        await services.settings.set(G, Actor(1, is_admin=True), "holder_perks", bad)
    assert (await services.settings.get(G)).holder_perks == ""
