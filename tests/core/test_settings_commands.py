"""/settings commands end to end through the sandbox."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import db_state

pytestmark = pytest.mark.timeout(60)


async def test_view_set_history(gc):
    r = await gc.slash("admin", "settings view")
    assert r.ephemeral and "`daily_amount` = **100**" in r.text
    r = await gc.slash("admin", "settings set", key="daily_amount", value="250")
    assert r.ephemeral and "**100** → **250**" in r.content
    r = await gc.slash("admin", "settings view")
    assert "`daily_amount` = **250** *(changed)*" in r.text
    r = await gc.slash("admin", "settings history")
    assert "`daily_amount`: 100 → 250" in r.text and f"<@{gc['admin'].id}>" in r.text
    daily = await gc.slash("bob", "gems daily")
    assert "💎 250 GEMS" in daily.content


async def test_set_says_on_off_and_records_only_real_changes(gc):
    r = await gc.slash("admin", "settings set", key="marketplace_approval", value="on")
    assert "`marketplace_approval`: **off** → **on**" in r.content
    again = await gc.slash("admin", "settings set", key="marketplace_approval", value="on")
    assert again.ephemeral and "already **on**; nothing changed" in again.content
    history = await gc.slash("admin", "settings history")
    assert history.text.count("marketplace_approval") == 1 and "off → on" in history.text


async def test_view_pages_show_every_setting_within_discord_limits(gc):
    from economy.core.settings import SETTING_KEYS
    first = await gc.slash("admin", "settings view")
    total = int(first.message.embeds[0].footer.text.split("/")[1].split(" ")[0])
    assert total >= 2  # too many settings for one embed
    seen = ""
    for page in range(1, total + 1):
        r = await gc.slash("admin", "settings view", page=page)
        assert f"Page {page}/{total}" in r.message.embeds[0].footer.text
        assert len(r.message.embeds[0].description) <= 4096
        seen += r.text
    assert all(f"`{key}`" in seen for key in SETTING_KEYS)
    found = await gc.slash("admin", "settings view", search="escrow")
    assert "`escrow_fee_bps`" in found.text and "`daily_amount`" not in found.text
    nothing = await gc.slash("admin", "settings view", search="zzz")
    assert nothing.ephemeral and "No setting name contains" in nothing.content


async def test_key_autocomplete(gc):
    choices = await gc.sb.autocomplete(gc["admin"], "settings set", "key", "daily")
    values = [c["value"] for c in choices]
    assert "daily_amount" in values and "currency_name" not in values
    assert all(len(c["name"]) <= 100 for c in choices)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("daily_amount", "lots", "not a valid value"),
        ("daily_amount", "0", "not a valid value"),
        ("daily_reset_hour", "25", "not a valid value"),
        ("timezone", "Mars/Base", "unknown time zone"),
        ("make_me_rich", "1", "no setting called"),
    ],
)
async def test_bad_values_are_refused_without_change(gc, key, value, expected):
    before = await db_state(gc)
    r = await gc.slash("admin", "settings set", key=key, value=value)
    assert r.ephemeral and expected in r.content, r.content
    assert await db_state(gc) == before
    assert await gc.db["settings_history"].count_documents({}) == 0


async def test_members_without_permission_are_refused(gc):
    before = await db_state(gc)
    for command, options in [("settings view", {}), ("settings history", {}),
                             ("settings set", {"key": "daily_amount", "value": "9999"})]:
        r = await gc.slash("bob", command, **options)
        assert r.ephemeral and "Only server admins" in r.content
    assert await db_state(gc) == before


async def test_view_fits_discord_limits_with_long_values(gc):
    channels = [gc.sb.create_channel(gc.guild, f"quiet-{i}") for i in range(12)]
    await gc.sb.settle()
    value = ",".join(str(c.id) for c in channels)
    for key in ("activity_excluded_channels", "activity_excluded_roles"):
        await gc.slash("admin", "settings set", key=key, value=value)
    r = await gc.slash("admin", "settings view")
    assert r.ephemeral and not r.errors
    for key in ("currency_name", "daily_amount", "activity_excluded_roles"):
        assert f"`{key}` =" in r.text
