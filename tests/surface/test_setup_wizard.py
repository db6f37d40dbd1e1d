"""/setup: an admin walks through the essentials of every feature switched on; nobody else
changes anything."""

from __future__ import annotations

import pytest

from cogs._shared.settings_fields import layout, sections
from tests.e2e_fixtures import db_state

pytestmark = pytest.mark.timeout(90)


async def test_an_admin_walks_through_setup(gc):
    r = await gc.slash("admin", "setup")
    steps = sum(len(layout(name, setup=True)) for name in sections())
    assert r.ephemeral and r.message.embeds[0].title == f"GEMS setup · 1/{steps} · Core"
    assert "**Moderator role:** not set" in r.embeds[0].description
    r = await gc.sb.select(gc["admin"], r, "gset:w:ro:moderator_role_id", [gc.mod_role])
    assert f"**Moderator role:** <@&{gc.mod_role.id}>" in r.embeds[0].description
    assert "1/" in r.message.embeds[0].title  # a change keeps the admin on the same step
    form = await gc.click("admin", r, "Edit 1–3")
    r = await gc.sb.submit_modal(gc["admin"], form, {"Currency name": "Shards",
                                                     "Currency emoji": "🔷"})
    assert "**Currency name:** Shards" in r.embeds[0].description
    r = await gc.click("admin", r, "Next ▶")
    assert r.message.embeds[0].title == f"GEMS setup · 2/{steps} · The wallet"
    form = await gc.click("admin", r, "Edit 1–5")
    assert [c["components"][0]["label"] for c in form.modal["components"]][:1] == ["Daily amount"]
    r = await gc.sb.submit_modal(gc["admin"], form, {"Daily amount": "150", "Activity amount": "3"})
    r = await gc.click("admin", r, "Next ▶")
    assert "· Trades" in r.message.embeds[0].title
    rooms = gc.sb.create_channel(gc.guild, "trade-rooms")
    r = await gc.sb.select(gc["admin"], r, "gset:w:ch:trade_channel_id", [rooms])
    assert f"**Trade channel:** <#{rooms.id}>" in r.embeds[0].description
    r = await gc.click("admin", r, "◀ Back")
    assert "· The wallet" in r.message.embeds[0].title
    for _ in range(steps - 2):
        r = await gc.click("admin", r, "Next ▶")
    r = await gc.click("admin", r, "Done")
    assert "set up" in r.embeds[0].title
    settings = await gc.services.settings.get(gc.guild.id)
    assert (settings.currency_name, settings.currency_emoji, settings.daily_amount,
            settings.activity_amount, settings.moderator_role_id,
            settings.trade_channel_id) == ("Shards", "🔷", 150, 3, gc.mod_role.id, rooms.id)
    keys = [h["key"] for h in await gc.services.settings.history(gc.guild.id)]
    # Only real changes are recorded: the untouched lines of the forms (timezone, streaks) are not.
    assert sorted(keys) == sorted(["moderator_role_id", "currency_name", "currency_emoji",
                                   "daily_amount", "activity_amount", "trade_channel_id"])


async def test_setup_skips_a_switched_off_feature(gc):
    r = await gc.slash("admin", "setup")
    r = await gc.sb.select(gc["admin"], r, "gset:w:op:disabled_features", ["trades"])
    assert (await gc.services.settings.get(gc.guild.id)).disabled_features == ["trades"]
    steps = sum(len(layout(name, setup=True)) for name in sections() if name != "trades")
    assert r.message.embeds[0].title == f"GEMS setup · 1/{steps} · Core"
    titles = []
    for _ in range(steps - 1):  # steps 2..N
        r = await gc.click("admin", r, "Next ▶")
        titles.append(r.message.embeds[0].title.split(" · ")[-1])
    assert "Trades" not in titles and "The marketplace" in titles and "Mentorship" in titles
    assert titles[0] == "The wallet" and titles[1] == "The marketplace"
    assert any(c.label == "Done" for c in r.message.components)
    fresh = await gc.slash("admin", "setup")
    assert fresh.message.embeds[0].title == f"GEMS setup · 1/{steps} · Core"


async def test_a_bad_form_changes_nothing(gc):
    r = await gc.slash("admin", "setup")
    form = await gc.click("admin", r, "Edit 1–3")
    before = await db_state(gc)
    bad = await gc.sb.submit_modal(gc["admin"], form, {"Currency name": "Shards",
                                                       "Currency emoji": "not one"})
    assert bad.ephemeral and "must be one emoji" in bad.content
    assert await db_state(gc) == before  # the valid name was not stored either


async def test_members_cannot_use_setup_or_its_controls(gc):
    denied = await gc.slash("bob", "setup")
    assert denied.ephemeral and "Only server admins" in denied.content
    r = await gc.slash("admin", "setup")
    before = await db_state(gc)
    hijack = (await gc.sb.select(gc["bob"], r, "gset:w:ro:moderator_role_id", [gc.mod_role])).last
    assert hijack.ephemeral and "Only server admins" in hijack.content
    skip = await gc.click("bob", r, "Next ▶")
    assert "Only server admins" in skip.content
    assert await db_state(gc) == before
