"""The services check the Actor themselves (the cog's early refusal is only a friendly answer):
a plain member, or an admin/moderator of ANOTHER guild, is refused with NotPermitted and
nothing changes (balances, settings, listing status, trade status, events)."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.errors import NotPermitted
from tests.conftest import relax_offer_limits

pytestmark = pytest.mark.timeout(60)

G = 4242
OWNER, ALICE, BOB, MOD = 1, 11, 12, 13
ADMIN = Actor(OWNER, is_admin=True, is_moderator=True, guild_id=G)


def outsiders(user_id: int = 9) -> tuple[Actor, ...]:
    """A plain member here, and a member holding every flag and role in another guild."""
    return (Actor(user_id, guild_id=G),
            Actor(user_id, is_admin=True, is_moderator=True, guild_id=G + 1))


async def test_ledger_grant_and_take_refuse_members_and_other_guilds_admins(services):
    await services.ledger.grant(G, ADMIN, ALICE, 100, reason="seed", key="seed")
    for actor in outsiders():
        with pytest.raises(NotPermitted):
            await services.ledger.grant(G, actor, BOB, 10, reason="sneaky", key=f"g{actor}")
        with pytest.raises(NotPermitted):
            await services.ledger.take(G, actor, ALICE, 10, reason="sneaky", key=f"t{actor}")
    assert await services.ledger.balance(G, ALICE) == 100
    assert await services.ledger.balance(G, BOB) == 0
    assert (await services.ledger.history(G, BOB)).total == 0


async def test_settings_and_modules_refuse_members_and_other_guilds_admins(services):
    for actor in outsiders():
        with pytest.raises(NotPermitted):
            await services.settings.set(G, actor, "admin_role_id", "<@&77>")
        with pytest.raises(NotPermitted):
            await services.modules.switch(G, actor, "events", on=False)
    settings = await services.settings.get(G)
    assert settings.admin_role_id is None and not settings.disabled_features
    assert await services.settings.history(G) == []
    await services.settings.set(G, ADMIN, "admin_role_id", "<@&77>")
    assert (await services.settings.get(G)).admin_role_id == 77


async def test_listing_approval_refuses_members_and_other_guilds_moderators(services):
    await services.settings.set(G, ADMIN, "marketplace_approval", "on")
    draft = await services.marketplace.listings.create_draft(
        G, ALICE, category="rings", condition="new", title="Blue sapphire ring",
        description="A lovely 2 ct sapphire.", specs="metal: platinum", tags="sapphire",
        price_gems=500)
    pending = (await services.marketplace.listings.publish(G, ALICE, draft.listing_id)).listing
    assert pending.status == "pending"
    listings = services.marketplace.listings
    for actor in outsiders(BOB):
        with pytest.raises(NotPermitted):
            await listings.approve(G, actor, pending.listing_id)
        with pytest.raises(NotPermitted):
            await listings.reject(G, actor, pending.listing_id, "not for you to say")
        with pytest.raises(NotPermitted):
            await listings.pending(G, actor)
    after = await listings.get(G, pending.listing_id)
    assert after.status == "pending" and after.model_dump() == pending.model_dump()
    approved = await listings.approve(G, Actor(MOD, is_moderator=True, guild_id=G), pending.listing_id)
    assert approved.listing.status == "active"


async def test_dispute_resolve_refuses_members_and_other_guilds_moderators(services):
    await relax_offer_limits(services, G)
    await services.ledger.grant(G, ADMIN, BOB, 5000, reason="seed", key="seed")
    offer = await services.trades.offer(G, ALICE, BOB, 1000, "A sapphire ring, size 7")
    await services.trades.accept(G, offer.trade_id, BOB)
    await services.disputes.open(G, offer.trade_id, BOB, "It never arrived")

    async def state():
        trade = await services.trades.get(G, offer.trade_id, ADMIN)
        return (trade.status, trade.version, await services.ledger.balance(G, ALICE),
                (await services.ledger.account(G, BOB)).held)

    before = await state()
    for actor in outsiders(MOD):
        with pytest.raises(NotPermitted):
            await services.disputes.resolve(G, offer.trade_id, actor, "release")
        with pytest.raises(NotPermitted):
            await services.disputes.find(G, actor)
        with pytest.raises(NotPermitted):
            await services.trades.get(G, offer.trade_id, actor)
    assert await state() == before == ("disputed", before[1], 0, 1000)
    result = await services.disputes.resolve(G, offer.trade_id,
                                             Actor(MOD, is_moderator=True, guild_id=G), "refund")
    assert result.trade.status == "resolved"


async def test_event_create_refuses_members_and_other_guilds_managers(services):
    await services.settings.set(G, ADMIN, "event_manager_role_id", "<@&555>")
    draft = await services.events.draft(
        G, type="contest", start="now", duration_minutes=60, channel_id=None, capacity=None,
        reward_attend=10, reward_complete=5, prizes=(100, 50, 25), role_id=None, role_days=0)
    for actor in (*outsiders(ALICE), Actor(ALICE, role_ids=frozenset({555}), guild_id=G + 1)):
        with pytest.raises(NotPermitted):
            await services.events.create(G, actor, draft, title="Gem quiz", description=None)
    assert await services.db["community_events"].count_documents({"guild_id": G}) == 0
    manager = Actor(ALICE, role_ids=frozenset({555}), guild_id=G)  # the feature role, here
    event = await services.events.create(G, manager, draft, title="Gem quiz", description=None)
    assert event.host_ids == [ALICE]
    for actor in outsiders(BOB):
        with pytest.raises(NotPermitted):
            await services.events.cancel(G, event.event_id, actor)
    assert (await services.events.get(G, event.event_id)).status == "scheduled"
