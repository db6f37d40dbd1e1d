"""/setup: an admin walks through currency, roles and channels; nobody else changes anything."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import db_state

pytestmark = pytest.mark.timeout(60)


async def test_an_admin_walks_through_setup(gc):
    r = await gc.slash("admin", "setup")
    assert r.ephemeral and "1/2" in r.embeds[0].title
    assert "⚠️ **Moderator role:** not set" in r.embeds[0].description
    r = await gc.sb.select(gc["admin"], r, "setup:role:moderator_role_id", [gc.mod_role])
    assert f"✅ **Moderator role:** <@&{gc.mod_role.id}>" in r.embeds[0].description
    r = await gc.click("admin", r, "Currency & earning…")
    r = await gc.sb.submit_modal(gc["admin"], r, {"Currency name": "Shards",
                                                  "Emoji (one, e.g. 💎 or :yourgem:)": "🔷",
                                                  "Daily claim amount": "150",
                                                  "GEMS per chat message (0 = off)": "3"})
    assert "🔷 Shards · daily 150 · per message 3" in r.embeds[0].description
    r = await gc.click("admin", r, "Next: channels ▶")
    assert "2/2" in r.embeds[0].title
    channel = gc.sb.create_channel(gc.guild, "market")
    r = await gc.sb.select(gc["admin"], r, "setup:chan:marketplace_channel_id", [channel])
    assert f"✅ **Marketplace channel (new listings):** <#{channel.id}>" in r.embeds[0].description
    r = await gc.click("admin", r, "Done")
    assert "set up" in r.embeds[0].title
    settings = await gc.services.settings.get(gc.guild.id)
    assert (settings.currency_name, settings.currency_emoji, settings.daily_amount,
            settings.activity_amount, settings.moderator_role_id,
            settings.marketplace_channel_id) == ("Shards", "🔷", 150, 3, gc.mod_role.id, channel.id)
    history = await gc.services.settings.history(gc.guild.id)
    assert {h["key"] for h in history} >= {"currency_name", "moderator_role_id"}


async def test_a_bad_form_changes_nothing(gc):
    r = await gc.slash("admin", "setup")
    r = await gc.click("admin", r, "Currency & earning…")
    before = await db_state(gc)
    bad = await gc.sb.submit_modal(gc["admin"], r, {"Currency name": "Shards",
                                                    "Emoji (one, e.g. 💎 or :yourgem:)": "not one",
                                                    "Daily claim amount": "150",
                                                    "GEMS per chat message (0 = off)": "3"})
    assert bad.ephemeral and "must be one emoji" in bad.content
    assert await db_state(gc) == before  # the valid name was not stored either


async def test_members_cannot_use_setup_or_its_controls(gc):
    denied = await gc.slash("bob", "setup")
    assert denied.ephemeral and "Only server admins" in denied.content
    r = await gc.slash("admin", "setup")
    before = await db_state(gc)
    hijack = (await gc.sb.select(gc["bob"], r, "setup:role:moderator_role_id", [gc.mod_role])).last
    assert hijack.ephemeral and "Only server admins" in hijack.content
    assert await db_state(gc) == before
