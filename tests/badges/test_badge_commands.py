"""/profile and /badge-admin end to end through the Discord sandbox: a limited badge created,
given and refused when sold out, the list, the showcase, the profile embed, rules switched and
paid, refusals that change nothing, and the module switch."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import db_state

pytestmark = pytest.mark.timeout(90)


async def badge_state(gc) -> tuple:
    names = ("badge_defs", "badge_awards", "badge_rules", "badge_showcases", "badge_log")
    return await db_state(gc), [await gc.db[n].count_documents({}) for n in names]


async def test_create_give_list_showcase_profile_and_revoke(gc):
    before = await badge_state(gc)
    for who, command, options, expected in [
        ("bob", "badge-admin create", {"name": "Helper", "description": "Helped out",
                                       "emoji": "🛟", "rarity": "rare"}, "Only server admins"),
        ("admin", "badge-admin create", {"name": "Helper", "description": "Helped out",
                                         "emoji": "hi", "rarity": "rare"}, "one emoji"),
        ("admin", "badge-admin give", {"badge": "nope", "member": gc["bob"],
                                       "reason": "because"}, "no badge `nope`"),
        ("bob", "profile showcase", {"first": "first_sale"}, "don't hold"),
        ("admin", "badge-admin revoke", {"badge": "first_sale", "member": gc["bob"],
                                         "reason": "because"}, "does not hold"),
    ]:
        r = await gc.sb.slash(gc[who], command, options)
        assert r.ephemeral and expected in r.content, (command, r.content)
    assert await badge_state(gc) == before

    r = await gc.sb.slash(gc["admin"], "badge-admin create", {
        "name": "Founder", "description": "One of two", "emoji": "🌟", "rarity": "legendary",
        "supply": 2})
    assert r.ephemeral and "**Founder** `c1` (legendary) · limited to 2" in r.content
    for who in ("alice", "bob"):
        r = await gc.slash("admin", "badge-admin give", badge="c1", member=gc[who],
                           reason="was here first")
        assert "now holds" in r.content and "of 2" in r.content
    r = await gc.slash("admin", "badge-admin give", badge="c1", member=gc["carol"], reason="me too")
    assert r.ephemeral and "sold out" in r.content
    listed = await gc.slash("carol", "profile badges", member=gc["alice"])
    assert "Founder" in listed.embeds[0].description and "#1 of 2" in listed.embeds[0].description
    assert "First sale" in listed.embeds[0].fields[0].value  # still to earn
    r = await gc.slash("alice", "profile showcase", first="c1")
    assert "Your showcase: 🌟 Founder" in r.content
    card = await gc.slash("bob", "profile view", member=gc["alice"])
    assert not card.ephemeral
    fields = {f.name: f.value for f in card.embeds[0].fields}
    assert "Founder" in fields["Showcase"] and fields["Badges"] == "1 held"
    assert card.files["profile.png"].startswith(b"\x89PNG")
    r = await gc.slash("admin", "badge-admin revoke", badge="c1", member=gc["bob"],
                       reason="left the server")
    assert "Took 🌟 **Founder** back" in r.content
    r = await gc.slash("admin", "badge-admin give", badge="c1", member=gc["carol"], reason="next")
    assert "now holds" in r.content


async def test_rule_reward_pays_on_the_daily_claim_and_the_switch_turns_it_off(gc):
    r = await gc.slash("admin", "badge-admin rule", badge="earned_1k", enabled=True, reward=30)
    assert "`earned_1k` is on; it pays" in r.content and "30" in r.content
    await gc.services.ledger.earn(gc.guild.id, gc["alice"].id, 1000, key="work")
    await gc.slash("alice", "gems daily")
    awards = await gc.services.badges.awards(gc.guild.id, gc["alice"].id)
    assert [a.badge.key for a in awards] == ["earned_1k"] and awards[0].reward == 30
    await gc.slash("admin", "settings modules disable", feature="badges")
    r = await gc.slash("alice", "profile badges")
    assert r.ephemeral and "turned off" in r.content


async def test_an_admin_creates_an_automatic_limited_badge(gc):
    r = await gc.sb.slash(gc["admin"], "badge-admin create", {
        "name": "Early bird", "description": "First to 1k", "emoji": "🐦", "rarity": "epic",
        "supply": 1, "rule": "earned", "at_least": 1000})
    assert r.ephemeral and "awarded automatically" in r.content and "limited to 1" in r.content
    for who in ("alice", "bob"):
        await gc.services.ledger.earn(gc.guild.id, gc[who].id, 1000, key=f"work:{who}")
        await gc.slash(who, "gems daily")
    listed = await gc.slash("carol", "profile badges", member=gc["alice"])
    assert "Early bird" in listed.embeds[0].description and "#1 of 1" in listed.embeds[0].description
    assert await gc.db["badge_awards"].count_documents({"badge": "c1"}) == 1  # bob: sold out


async def test_a_rule_gives_its_role_once_through_the_roles_job(gc):
    helper = gc.sb.create_role(gc.guild, "Thousandaire")
    r = await gc.sb.slash(gc["admin"], "badge-admin rule", {"badge": "earned_1k", "enabled": True,
                                                            "role": helper})
    assert r.ephemeral and "gives" in r.content
    await gc.services.ledger.earn(gc.guild.id, gc["alice"].id, 1000, key="work")
    await gc.slash("alice", "gems daily")
    cog = gc.bot.get_cog("BadgesCog")
    assert await cog.grant_roles() == 1
    await gc.sb.settle()
    assert helper.id in gc.sb.member(gc.guild, gc["alice"]).roles
    assert await cog.grant_roles() == 0  # given once
    award = await gc.db["badge_awards"].find_one({"badge": "earned_1k"})
    assert award["role_state"] == "given"
    # The bot's own managed role (or @everyone) is refused, nothing stored.
    before = await gc.db["badge_rules"].find_one({"badge": "earned_1k"})
    everyone = gc.sb.world.guild(gc.guild.id).roles[gc.guild.id]
    r = await gc.sb.slash(gc["admin"], "badge-admin rule", {"badge": "earned_1k", "enabled": True,
                                                            "role": everyone})
    assert r.ephemeral and "normal role" in r.content
    assert await gc.db["badge_rules"].find_one({"badge": "earned_1k"}) == before


async def test_an_event_edition_is_given_to_its_attendees_from_discord(gc):
    from economy.core.actor import Actor

    g, staff = gc.guild.id, Actor.system()
    badge = await gc.services.badges.create(g, staff, name="Quiz night", description="Was there",
                                            emoji="🎟️", rarity="rare", supply=1, tradeable=True)
    draft = await gc.services.events.draft(
        g, type="contest", start="now", duration_minutes=60, channel_id=None, capacity=None,
        reward_attend=0, reward_complete=0, prizes=(0, 0, 0), role_id=None, role_days=0)
    event = await gc.services.events.create(g, staff, draft, title="Quiz", description="Fun")
    for name in ("alice", "bob"):
        await gc.services.events.checkin(g, event.event_id, gc[name].id)
    refused = await gc.slash("bob", "badge-admin give-event", badge=badge.key,
                             event_id=event.event_id, group="attendees")
    assert refused.ephemeral and "admin" in refused.text.lower()
    assert await gc.db["badge_awards"].count_documents({"badge": badge.key}) == 0
    r = await gc.slash("admin", "badge-admin give-event", badge=badge.key,
                       event_id=event.event_id, group="attendees")
    assert r.ephemeral and "Gave" in r.text and "1 member" in r.text and "Sold out before" in r.text
    awards = await gc.db["badge_awards"].find({"badge": badge.key}).to_list()
    assert [(a["user_id"], a["serial"]) for a in awards] == [(gc["alice"].id, 1)]
