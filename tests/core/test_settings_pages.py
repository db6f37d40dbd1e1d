"""Settings you can click (issue 24): /settings edit pages, through the sandbox."""

from __future__ import annotations

import dataclasses

import pytest

from cogs._shared.settings_fields import field_of, layout, sections
from discord_sandbox.state import Component
from economy.registry import GuildSettings
from tests.e2e_fixtures import db_state

pytestmark = pytest.mark.timeout(60)


async def _history(gc, key: str) -> list[dict]:
    return [h for h in await gc.services.settings.history(gc.guild.id, limit=100) if h["key"] == key]


async def _forge(gc, who, message, raw: dict, values: list):
    """A hostile client: the message carries a component whose custom id it chose."""
    forged = dataclasses.replace(message, raw_components=[{"type": 1, "components": [raw]}])
    comp = Component(type=raw["type"], custom_id=raw["custom_id"], label=None, raw=raw)
    return await gc.sb._component(gc[who], forged, comp, values, None)


async def test_an_admin_picks_a_channel_and_it_is_recorded_once(gc):
    r = await gc.slash("admin", "settings edit", page="trades")
    assert r.ephemeral and r.message.embeds[0].title == "Settings · Trades"
    assert "**Trade channel:** not set" in r.text
    rooms = gc.sb.create_channel(gc.guild, "trade-rooms")
    picked = await gc.sb.select(gc["admin"], r, "gset:s:ch:trade_channel_id", [rooms])
    assert f"✅ Saved: **Trade channel:** not set → <#{rooms.id}>" in picked.text
    assert f"**Trade channel:** <#{rooms.id}>" in picked.text
    assert (await gc.services.settings.get(gc.guild.id)).trade_channel_id == rooms.id
    again = await gc.sb.select(gc["admin"], picked, "gset:s:ch:trade_channel_id", [rooms])
    assert "No change." in again.text
    rows = await _history(gc, "trade_channel_id")
    assert len(rows) == 1 and rows[0]["new"] == rooms.id and rows[0]["actor_id"] == gc["admin"].id
    cleared = await gc.sb.select(gc["admin"], again, "gset:s:ch:trade_channel_id", [])
    assert "**Trade channel:** not set" in cleared.text
    assert (await gc.services.settings.get(gc.guild.id)).trade_channel_id is None
    assert len(await _history(gc, "trade_channel_id")) == 2


async def test_a_channel_select_offers_text_channels_and_shows_the_current_one(gc):
    r = await gc.slash("admin", "settings edit", page="trades")
    select = next(c for c in r.message.components if c.custom_id == "gset:s:ch:trade_channel_id")
    assert select.type == 8 and select.raw["channel_types"] == [0]
    assert select.raw["min_values"] == 0 and select.raw["max_values"] == 1
    rooms = gc.sb.create_channel(gc.guild, "trade-rooms")
    picked = await gc.sb.select(gc["admin"], r, "gset:s:ch:trade_channel_id", [rooms])
    select = next(c for c in picked.message.components if c.custom_id == "gset:s:ch:trade_channel_id")
    assert [(int(d["id"]), d["type"]) for d in select.raw["default_values"]] == [(rooms.id, "channel")]


async def test_roles_switches_and_choices(gc):
    r = await gc.slash("admin", "settings edit")
    assert r.message.embeds[0].title.startswith("Settings · Core")
    r = await gc.sb.select(gc["admin"], r, "gset:s:ro:moderator_role_id", [gc.mod_role])
    assert (await gc.services.settings.get(gc.guild.id)).moderator_role_id == gc.mod_role.id
    r = await gc.sb.select(gc["admin"], r, "gset:s:sec", ["boosts"])
    r = await gc.sb.select(gc["admin"], r, "gset:s:op:double_weekend", ["on"])
    assert "✅ Saved: **Double weekend:** off → on" in r.text
    r = await gc.sb.select(gc["admin"], r, "gset:s:op:boost_stacking", ["multiply"])
    settings = await gc.services.settings.get(gc.guild.id)
    assert settings.double_weekend is True and settings.boost_stacking == "multiply"
    history = await gc.services.settings.history(gc.guild.id)
    assert [h["key"] for h in history[:3]] == ["boost_stacking", "double_weekend", "moderator_role_id"]


async def test_a_bad_number_in_a_form_changes_nothing(gc):
    r = await gc.slash("admin", "settings edit", page="currency")
    form = await gc.click("admin", r, "Edit 1–5")
    assert form.modal["title"] == "The wallet"
    before = await db_state(gc)
    bad = await gc.sb.submit_modal(gc["admin"], form, {"Daily amount": "lots",
                                                       "Daily streak bonus": "20"})
    assert bad.ephemeral and "`lots` is not a valid value for `daily_amount`" in bad.content
    assert await db_state(gc) == before  # the valid streak bonus was not stored either
    form = await gc.click("admin", r, "Edit 1–5")  # an answered form closes: open it again
    too_big = await gc.sb.submit_modal(gc["admin"], form, {"Daily amount": "5000000"})
    assert too_big.ephemeral and "not a valid value" in too_big.content
    assert await db_state(gc) == before
    form = await gc.click("admin", r, "Edit 1–5")
    good = await gc.sb.submit_modal(gc["admin"], form, {"Daily amount": "150"})
    assert "✅ Saved: **Daily amount:** 100 → 150" in good.text and "streak" not in good.text.split("\n")[1]
    history = await gc.services.settings.history(gc.guild.id)
    assert [h["key"] for h in history] == ["daily_amount"]  # the untouched lines: no records


async def test_members_cannot_open_or_click_the_pages(gc):
    denied = await gc.slash("bob", "settings edit")
    assert denied.ephemeral and "Only server admins" in denied.content
    r = await gc.slash("admin", "settings edit", page="trades")
    before = await db_state(gc)
    rooms = gc.sb.create_channel(gc.guild, "trade-rooms")
    hijack = (await gc.sb.select(gc["bob"], r, "gset:s:ch:trade_channel_id", [rooms])).last
    assert hijack.ephemeral and "Only server admins" in hijack.content
    switch = (await gc.sb.select(gc["bob"], r, "gset:s:op:escrow_wash_trade_block", ["on"])).last
    assert switch.ephemeral and "Only server admins" in switch.content
    form = await gc.click("bob", r, "Edit 1–5")
    assert form.modal is None and "Only server admins" in form.content
    page = await gc.sb.select(gc["bob"], r, "gset:s:sec", ["core"])
    assert "Only server admins" in page.content
    assert await db_state(gc) == before


async def test_forged_controls_change_nothing(gc):
    r = await gc.slash("admin", "settings edit", page="trades")
    before = await db_state(gc)
    rooms = gc.sb.create_channel(gc.guild, "trade-rooms")
    # A channel select claiming to set a number, a key that does not exist, a page out of range.
    for raw, values in (
        ({"type": 8, "custom_id": "gset:s:ch:daily_amount", "min_values": 0}, [rooms]),
        ({"type": 8, "custom_id": "gset:s:ch:no_such_channel_id", "min_values": 0}, [rooms]),
        ({"type": 2, "style": 1, "label": "x", "custom_id": "gset:s:go:trades:9:n"}, []),
        ({"type": 2, "style": 1, "label": "x", "custom_id": "gset:s:form:trades:0:7"}, []),
        ({"type": 2, "style": 1, "label": "x", "custom_id": "gset:s:go:nowhere:0:n"}, []),
    ):
        forged = await _forge(gc, "admin", r.message, raw, values)
        assert forged.ephemeral and "out of date" in forged.content, raw
    # A string select answering an option it never offered.
    odd = await _forge(gc, "admin", r.message, {"type": 3, "custom_id": "gset:s:op:boost_stacking",
                                                "options": [{"label": "x", "value": "all"}]}, ["all"])
    assert "out of date" in odd.content
    assert await db_state(gc) == before


async def test_every_section_has_pages_that_show_all_its_settings(gc):
    r = await gc.slash("admin", "settings edit")
    offered = next(c for c in r.message.components if c.custom_id == "gset:s:sec").options
    assert [o["value"] for o in offered] == list(sections())
    shown, controls = "", set()
    for name in sections():
        page = await gc.sb.select(gc["admin"], r, "gset:s:sec", [name])
        for index in range(len(layout(name))):
            if index:
                page = await gc.click("admin", page, "▶")
            embed = page.message.embeds[0]
            assert embed.title.startswith(f"Settings · {sections()[name][0]}")
            assert len(embed.description) <= 4096 and len(page.message.components) <= 25
            rows = page.message.raw_components
            assert len(rows) <= 5
            shown += page.text
            controls |= {c.custom_id for c in page.message.components}
    for key in GuildSettings.model_fields:
        assert f"**{field_of(key).label}:**" in shown, key
        if field_of(key).kind != "form":
            assert any(c.endswith(f":{key}") for c in controls), key


async def test_a_switched_off_feature_has_no_page(gc):
    r = await gc.slash("admin", "settings edit")
    r = await gc.click("admin", r, "▶")
    r = await gc.sb.select(gc["admin"], r, "gset:s:op:disabled_features", ["trades", "events"])
    settings = await gc.services.settings.get(gc.guild.id)
    assert settings.disabled_features == ["events", "trades"]
    offered = next(c for c in r.message.components if c.custom_id == "gset:s:sec").options
    assert "trades" not in {o["value"] for o in offered} and "marketplace" in {o["value"] for o in offered}
    missing = await gc.slash("admin", "settings edit", page="trades")
    assert missing.ephemeral and "no settings page `trades`" in missing.content
    before = await db_state(gc)
    rooms = gc.sb.create_channel(gc.guild, "trade-rooms")
    forged = await _forge(gc, "admin", r.message, {"type": 8, "custom_id": "gset:s:ch:trade_channel_id",
                                                   "min_values": 0}, [rooms])
    assert "switched off" in forged.content
    assert await db_state(gc) == before
    choices = await gc.sb.autocomplete(gc["admin"], "settings edit", "page", "")
    assert "trades" not in {c["value"] for c in choices} and "core" in {c["value"] for c in choices}


async def test_setting_a_value_to_what_it_is_records_nothing(gc):
    same = await gc.slash("admin", "settings set", key="daily_amount", value="100")
    assert same.ephemeral and "already **100**; nothing changed" in same.content
    await gc.slash("admin", "settings set", key="double_weekend", value="off")
    assert await gc.services.settings.history(gc.guild.id) == []
    assert await gc.db["guild_settings"].count_documents({}) == 0


async def test_a_channel_the_bot_cannot_post_in_is_saved_with_a_warning(gc):
    from discord_sandbox import Overwrite

    send = 1 << 11
    hidden = gc.sb.create_channel(gc.guild, "staff-only", overwrites=[
        Overwrite(gc.sb.bot_user.id, 1, deny=send)])
    r = await gc.slash("admin", "settings edit", page="trades")
    picked = await gc.sb.select(gc["admin"], r, "gset:s:ch:dispute_channel_id", [hidden])
    assert f"✅ Saved: **Dispute channel:** not set → <#{hidden.id}>" in picked.text
    # No Send Messages also means no Embed Links / Attach Files (Discord's implicit denial).
    assert (f"⚠️ I can't work in <#{hidden.id}> yet: give my role **Send Messages, Embed Links, "
            "Attach Files** there.") in picked.text
    fine = gc.sb.create_channel(gc.guild, "disputes")
    picked = await gc.sb.select(gc["admin"], picked, "gset:s:ch:dispute_channel_id", [fine])
    assert "⚠️" not in picked.text


async def test_switches_read_on_and_off_in_the_typed_commands_too(gc):
    r = await gc.slash("admin", "settings set", key="marketplace_approval", value="on")
    assert "**off** → **on**" in r.content
    history = await gc.slash("admin", "settings history")
    assert "`marketplace_approval`: off → on" in history.text
