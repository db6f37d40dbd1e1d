"""Profiles against the embedded store: what a member's profile shows (standing, streak,
badges, seller rating, mentor level, NFT holdings, season standing), what they hide from
others, refusals that store nothing, and /privacy covering the new collection."""

from __future__ import annotations

import json

import pytest

from economy.core.errors import InvalidInput
from economy.profile.service import ProfileHidden
from tests.badges.test_badges import ADMIN, BUYER, SELLER, STAFF, complete_trade
from tests.conftest import relax_offer_limits

pytestmark = pytest.mark.timeout(120)
G = 251  # the guild of tests/badges (complete_trade uses it)
OTHER = 9


async def test_a_profile_gathers_every_feature_number(services):
    await relax_offer_limits(services, G)
    await complete_trade(services, price=300)
    trade = (await services.db["trades"].find_one({"guild_id": G}))["trade_id"]
    await services.ratings.rate(G, trade, BUYER, 5, "lovely ring")
    db = services.db
    await db.write(lambda: db["mentors"].insert_one(
        {"guild_id": G, "user_id": SELLER, "status": "active", "skills": [], "completed": 5}))
    await db.write(lambda: db["wallets"].insert_one(
        {"guild_id": G, "user_id": SELLER, "address": "0x" + "ab" * 20, "linked_ms": 1}))
    await db.write(lambda: db["nft_rules"].insert_one(
        {"guild_id": G, "rule_id": 1, "role_id": 777, "chain_id": 1, "contract": "0x" + "cd" * 20,
         "standard": "erc721", "min_count": 1}))
    await services.badges.set_showcase(G, SELLER, ["first_sale"])
    await services.seasons.add(G, STAFF, "winter-festival")  # running on the clock's 5 January
    await services.ledger.earn(G, SELLER, 50, key="work")  # earned (a sale is not earnings)
    view = await services.profiles.view(G, OTHER, SELLER, role_ids=frozenset({777, 5}))
    balance = (await services.ledger.account(G, SELLER)).balance
    assert view.balance == balance > 0 and view.rank == 1 and view.daily_streak == 0
    assert view.badges_held == 1 and [a.badge.key for a in view.showcase] == ["first_sale"]
    assert (view.rating_average, view.ratings, view.completed_trades) == (5.0, 1, 1)
    assert view.mentor_level == (2, "Senior mentor")
    assert view.nft is not None and view.nft.wallets == 1 and view.nft.rule_roles == (777,)
    assert view.season is not None and view.season.name == "Winter Festival"
    assert view.season.running and view.season.position == 1 and view.season.earned == 50
    assert not view.own and view.withheld == frozenset()
    # A member without a wallet shows no NFT line at all.
    assert (await services.profiles.view(G, OTHER, BUYER)).nft is None


async def test_hidden_parts_are_left_out_for_others_only(services):
    await services.ledger.earn(G, BUYER, 500, key="work")
    hidden = await services.profiles.set_hidden(G, BUYER, "balance", True)
    assert hidden == frozenset({"balance"})
    await services.profiles.set_hidden(G, BUYER, "badges", True)
    other = await services.profiles.view(G, OTHER, BUYER)
    assert other.balance is None and other.rank is None and other.badges_held is None
    assert other.daily_streak == 0 and other.withheld == {"balance", "badges"}
    own = await services.profiles.view(G, BUYER, BUYER)
    assert own.own and own.balance == 500 and own.badges_held == 0
    assert own.hidden == {"balance", "badges"} and own.withheld == frozenset()
    with pytest.raises(ProfileHidden, match="badges and showcase private"):
        await services.profiles.badges_of(G, OTHER, BUYER)
    assert await services.profiles.badges_of(G, BUYER, BUYER) == []
    # Shown again.
    assert await services.profiles.set_hidden(G, BUYER, "balance", False) == {"badges"}
    assert (await services.profiles.view(G, OTHER, BUYER)).balance == 500


async def test_a_whole_hidden_profile_is_refused_to_others(services):
    await services.profiles.set_hidden(G, BUYER, "all", True)
    with pytest.raises(ProfileHidden, match="keeps their profile private"):
        await services.profiles.view(G, OTHER, BUYER)
    with pytest.raises(ProfileHidden):
        await services.profiles.badges_of(G, OTHER, BUYER)
    assert (await services.profiles.view(G, BUYER, BUYER)).balance == 0


async def test_a_bad_part_is_refused_and_stores_nothing(services):
    for part in ("wallet", "", "ALL!"):
        with pytest.raises(InvalidInput, match="profile part"):
            await services.profiles.set_hidden(G, BUYER, part, True)
    assert await services.db["profile_privacy"].count_documents({}) == 0


async def test_privacy_export_and_delete_cover_the_hidden_parts(services):
    await services.profiles.set_hidden(G, BUYER, "season", True)
    exported = json.loads(await services.privacy.export(G, BUYER))
    assert "profile_privacy" in json.dumps(exported)
    await services.privacy.delete(G, BUYER)
    assert await services.db["profile_privacy"].count_documents({"user_id": BUYER}) == 0
    assert ADMIN != BUYER  # the admin's data is untouched by another member's deletion
