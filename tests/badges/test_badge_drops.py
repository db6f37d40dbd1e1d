"""Event and season editions (`/badge-admin give-event|give-season`): a badge given to an
event's check-ins or winners, or a season's top 3, once per member, never past its supply."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from tests.badges.test_badge_rules import finished_season
from tests.badges.test_badges import STAFF
from tests.directory import install

pytestmark = pytest.mark.timeout(60)
G = 251


async def quiz(services, *checked_in: int):
    install(services)  # the member directory: winners must be current members
    draft = await services.events.draft(
        G, type="contest", start="now", duration_minutes=60, channel_id=None, capacity=None,
        reward_attend=0, reward_complete=0, prizes=(0, 0, 0), role_id=None, role_days=0)
    event = await services.events.create(G, STAFF, draft, title="Gem quiz", description="Fun")
    for user in checked_in:
        await services.events.checkin(G, event.event_id, user)
    return event


async def edition(services, supply: int = 2):
    return await services.badges.create(G, STAFF, name="Quiz night 2026", description="Was there",
                                        emoji="🎟️", rarity="epic", supply=supply,
                                        tradeable=True)


async def holders(services, key: str) -> dict[int, int]:
    return {a["user_id"]: a["serial"]
            async for a in services.db["badge_awards"].find({"guild_id": G, "badge": key})}


async def test_an_events_attendees_get_numbered_editions_until_sold_out(services):
    event = await quiz(services, 21, 22, 23)
    badge = await edition(services, supply=2)
    drop = await services.badge_drops.to_event(G, STAFF, badge.key, event.event_id, "attendees")
    assert drop.given == (21, 22) and drop.sold_out == (23,) and drop.already == ()
    assert await holders(services, badge.key) == {21: 1, 22: 2}
    again = await services.badge_drops.to_event(G, STAFF, badge.key, event.event_id, "attendees")
    assert again.given == () and again.already == (21, 22) and again.sold_out == (23,)
    assert await holders(services, badge.key) == {21: 1, 22: 2}  # nothing twice, nothing more


async def test_winners_only_once_the_event_is_completed(services):
    event = await quiz(services, 21, 22)
    badge = await edition(services, supply=5)
    with pytest.raises(InvalidInput, match="complete it first"):
        await services.badge_drops.to_event(G, STAFF, badge.key, event.event_id, "winners")
    await services.events.complete(G, event.event_id, STAFF, [22])
    drop = await services.badge_drops.to_event(G, STAFF, badge.key, event.event_id, "winners")
    assert drop.given == (22,) and await holders(services, badge.key) == {22: 1}


async def test_refusals_give_nothing(services):
    event = await quiz(services, 21)
    badge = await edition(services)
    member, other_admin = Actor(21), Actor(9, is_admin=True, guild_id=G + 1)
    for actor in (member, other_admin):
        with pytest.raises(NotPermitted):
            await services.badge_drops.to_event(G, actor, badge.key, event.event_id, "attendees")
    with pytest.raises(NotFound):
        await services.badge_drops.to_event(G, STAFF, "nope", event.event_id, "attendees")
    with pytest.raises(NotFound):
        await services.badge_drops.to_event(G, STAFF, badge.key, 999, "attendees")
    empty = await quiz(services)
    with pytest.raises(InvalidInput, match="Nobody"):
        await services.badge_drops.to_event(G, STAFF, badge.key, empty.event_id, "attendees")
    with pytest.raises(NotFound, match="not finished"):
        await services.badge_drops.to_season(G, STAFF, badge.key, "spooky-gems")
    assert await holders(services, badge.key) == {}


async def test_a_seasons_top_three_get_the_season_edition(services, clock):
    await finished_season(services, clock, G)
    badge = await edition(services, supply=3)
    drop = await services.badge_drops.to_season(G, STAFF, badge.key, "spooky-gems")
    assert drop.given == (11, 12, 13)
    assert await holders(services, badge.key) == {11: 1, 12: 2, 13: 3}
