"""Process settings and guild settings: parsing, validation, history, bad input."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings
from economy.core.actor import Actor
from economy.core.errors import InvalidInput, NotFound
from economy.core.settings import GuildSettings, format_value, parse_value

G = 5


def test_process_settings_parse_lists_and_blank_token(monkeypatch):
    monkeypatch.setenv("OWNER_IDS", "1, 2 3")
    monkeypatch.setenv("DISCORD_TOKEN", "  ")
    settings = load_settings(_env_file=None)
    assert settings.owner_ids == [1, 2, 3]
    assert settings.discord_token is None
    assert settings.embedded


def test_process_settings_report_every_problem(monkeypatch):
    monkeypatch.setenv("WEB_PORT", "99999")
    monkeypatch.setenv("MONGODB_URI", "postgres://x")
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    text = "\n".join(info.value.problems)
    assert "WEB_PORT" in text and "MONGODB_URI" in text and "LOG_LEVEL" in text
    assert len(info.value.problems) == 3


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("daily_amount", "250", 250),
        ("admin_role_id", "<@&123456789012345678>", 123456789012345678),
        ("admin_role_id", "none", None),
        ("activity_excluded_channels", "<#11>, 22 <#33>", [11, 22, 33]),
        ("activity_excluded_channels", "none", []),
        ("timezone", "Europe/Berlin", "Europe/Berlin"),
        ("currency_name", "Shards", "Shards"),
        ("currency_name", "Gold Coins", "Gold Coins"),
        ("currency_emoji", "🔷", "🔷"),
        ("currency_emoji", "👨‍👩‍👧", "👨‍👩‍👧"),  # a ZWJ sequence is one emoji
        ("currency_emoji", "🇩🇪", "🇩🇪"),
        ("currency_emoji", "<:gem:123456789012345678>", "<:gem:123456789012345678>"),
        ("currency_emoji", "<a:spin:123456789012345678>", "<a:spin:123456789012345678>"),
    ],
)
def test_parse_value_accepts(key, raw, expected):
    assert parse_value(key, raw) == expected


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("daily_amount", "lots"), ("daily_amount", "0"), ("daily_amount", "1.5"),
        ("daily_reset_hour", "24"), ("timezone", "Mars/Olympus"), ("admin_role_id", "@admins"),
        ("currency_name", "@everyone"), ("currency_name", "x" * 30),
        ("currency_name", "**GEMS**"), ("currency_name", "Ge\u200bms"), ("currency_name", "<@1>"),
        ("currency_name", "gems.example/x"), ("currency_emoji", "x"), ("currency_emoji", "💎💎"),
        ("currency_emoji", "@everyone"), ("currency_emoji", "<@&123456789012345678>"),
        ("currency_emoji", "[💎](https://evil.example)"), ("currency_emoji", "💎\u200b"),
    ],
)
def test_parse_value_rejects(key, raw):
    with pytest.raises(InvalidInput):
        parse_value(key, raw)


def test_unknown_key_is_not_found():
    with pytest.raises(NotFound):
        parse_value("make_me_rich", "1")


async def test_set_records_history_and_bad_values_change_nothing(services):
    assert (await services.settings.get(G)).daily_amount == 100
    old, new = await services.settings.set(G, Actor(77, is_admin=True), "daily_amount", "250")
    assert (old, new) == (100, 250)
    assert (await services.settings.get(G)).daily_amount == 250
    with pytest.raises(InvalidInput):
        await services.settings.set(G, Actor(77, is_admin=True), "daily_amount", "-1")
    with pytest.raises(NotFound):
        await services.settings.set(G, Actor(77, is_admin=True), "nope", "1")
    history = await services.settings.history(G)
    assert [(h["key"], h["old"], h["new"], h["actor_id"]) for h in history] == [
        ("daily_amount", 100, 250, 77)]
    await services.settings.set(G, Actor(77, is_admin=True), "daily_amount", "100")  # back to default drops override
    assert await services.db["guild_settings"].find_one({"guild_id": G, "values.daily_amount": {"$exists": True}}) is None
    assert (await services.settings.get(G + 1)) == GuildSettings()


async def test_setting_a_value_it_already_has_records_nothing(services):
    """`/setup` submits every field of its form: unchanged ones are not history (issue 24)."""
    await services.settings.set(G, Actor(77, is_admin=True), "daily_amount", "250")
    version = (await services.db["guild_settings"].find_one({"guild_id": G}))["version"]
    assert await services.settings.set(G, Actor(77, is_admin=True), "daily_amount", "250") == (250, 250)
    assert await services.settings.set(G, Actor(77, is_admin=True), "currency_name", "GEMS") == ("GEMS", "GEMS")
    assert await services.settings.set(G, Actor(77, is_admin=True), "marketplace_approval", "off") == (False, False)
    history = await services.settings.history(G)
    assert [(h["key"], h["old"], h["new"]) for h in history] == [("daily_amount", 100, 250)]
    assert (await services.db["guild_settings"].find_one({"guild_id": G}))["version"] == version


def test_booleans_are_shown_as_on_and_off():
    assert (format_value(True), format_value(False)) == ("on", "off")
    assert parse_value("marketplace_approval", "on") is True


def test_money_formatting():
    assert GuildSettings().money(1250) == "💎 1,250 GEMS"


def test_env_example_copied_as_is_loads(tmp_path, monkeypatch):
    """The README's first step is `cp .env.example .env`: every key in it, blank or not, loads."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.discord_token is None and settings.shard_count is None
    assert settings.mongodb_uri is None and settings.shard_ids == []
