"""The sandbox refuses what Discord's OpenAPI spec refuses, with Discord's 400 / 50035 error tree.

The schemas come from the npm package pinned in tests/contracts/discord/package.json (see
discord_sandbox/contract.py and the "Contracts" paragraph of docs/development.md).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from discord_sandbox import DiscordSandbox
from discord_sandbox import contract as contract_mod
from discord_sandbox.contract import (
    SPEC_DIR,
    Contract,
    ContractUnavailable,
    ensure_schemas,
    load_contract,
    pinned_version,
    schema_path,
)

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
COMMAND = {"name": "nft", "description": "NFT roles", "type": 1}


async def _send(sb: DiscordSandbox, method: str, path: str, body: Any) -> tuple[int, Any]:
    """A raw REST call with the bot's token, as discord.py would make it."""
    headers = {"Authorization": f"Bot {sb.token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.request(
        method, f"{sb.base_url}/api/v10{path}", data=json.dumps(body), headers=headers
    ) as resp:
        text = await resp.text()
        return resp.status, (json.loads(text) if text else None)


def _leaf(errors: dict[str, Any], *path: str) -> str:
    """The first error code at ``path`` of Discord's error tree."""
    node = errors
    for key in path:
        node = node[key]
    return node["_errors"][0]["code"]


async def test_a_command_sync_with_max_value_2_pow_53_is_refused_whole(sb, world):
    option = {"type": 4, "name": "chain", "description": "Chain id", "min_value": 1,
              "max_value": 2**53}
    bad = [{**COMMAND, "options": [option]}, {"name": "gems", "description": "Wallet"}]
    status, body = await _send(sb, "PUT", f"/applications/{sb.application_id}/commands", bad)
    assert status == 400
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert _leaf(body["errors"], "0", "options", "0", "max_value") == "NUMBER_TYPE_MAX"
    assert sb.server.commands.get(None) is None  # nothing registered, not even "gems"
    ok = [{**COMMAND, "options": [{**option, "max_value": 2**53 - 1}]}]
    status, body = await _send(sb, "PUT", f"/applications/{sb.application_id}/commands", ok)
    assert status == 200 and body[0]["name"] == "nft"


async def test_unknown_fields_long_content_and_bad_components_are_refused(sb, world):
    chan = sb.create_channel(world.guild, "general")
    path = f"/channels/{chan.id}/messages"
    cases = [
        ({"content": "hi", "colour": 3}, ("colour",), "UNKNOWN_FIELD"),
        ({"content": "x" * 4001}, ("content",), "BASE_TYPE_MAX_LENGTH"),
        ({"content": "x", "embeds": [{"title": "t" * 257}]}, ("embeds", "0", "title"),
         "BASE_TYPE_MAX_LENGTH"),
        # A button without a style, and one with a 101-character custom_id.
        ({"components": [{"type": 1, "components": [{"type": 2, "custom_id": "a", "label": "A"}]}]},
         ("components", "0", "components", "0", "style"), "BASE_TYPE_REQUIRED"),
        ({"components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "custom_id": "c" * 101, "label": "A"}]}]},
         ("components", "0", "components", "0", "custom_id"), "BASE_TYPE_BAD_LENGTH"),
        ({"components": [{"type": 99}]}, ("components", "0", "type"), "BASE_TYPE_CHOICES"),
        ({"content": "x", "allowed_mentions": {"parse": ["everyone", "nobody"]}},
         ("allowed_mentions", "parse", "1"), "BASE_TYPE_CHOICES"),
    ]
    for payload, where, code in cases:
        status, body = await _send(sb, "POST", path, payload)
        assert status == 400 and body["code"] == 50035, payload
        assert _leaf(body["errors"], *where) == code, body
    assert sb.channel_messages(chan) == []
    # Bot content is limited to 2,000 (the spec's 4,000 is for users): the hand-written limit.
    status, body = await _send(sb, "POST", path, {"content": "x" * 2001})
    assert status == 400 and _leaf(body["errors"], "content") == "BASE_TYPE_MAX_LENGTH"
    # What discord.py sends passes: integer snowflakes, an ISO timestamp with an offset.
    good = {"content": "ok", "allowed_mentions": {"parse": [], "users": [int(world.bob.id)]},
            "embeds": [{"title": "t", "timestamp": "2026-12-07T10:00:00+00:00"}], "tts": False}
    status, body = await _send(sb, "POST", path, good)
    assert status == 200, body


async def test_a_refused_interaction_callback_leaves_the_interaction_open(sb, world, bot):
    captured: dict[str, Any] = {}

    @bot.tree.command(name="probe", description="probe")
    async def probe(interaction):
        route = f"/interactions/{interaction.id}/{interaction.token}/callback"
        captured["bad"] = await _send(sb, "POST", route, {"type": 4, "data": {"content": "x",
                                                          "ephemeral": True}})
        await interaction.response.send_message("fine", ephemeral=True)

    result = await sb.slash(world.bob, "probe")
    status, body = captured["bad"]
    assert status == 400 and _leaf(body["errors"], "data", "ephemeral") == "UNKNOWN_FIELD"
    assert result.content == "fine"  # the refused callback did not count as the response


def test_the_schema_file_matches_the_pinned_package_version():
    version = pinned_version()
    ensure_schemas()
    lock = json.loads((SPEC_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/discord-api-spec"]["version"] == version
    path = schema_path()
    assert path.exists() and version in path.name
    doc = json.loads(path.read_text())
    assert doc["package"] == "discord-api-spec" and doc["version"] == version
    installed = json.loads((SPEC_DIR / "node_modules/discord-api-spec/package.json").read_text())
    assert installed["version"] == version
    assert f"discord-api-spec@{version}" in (REPO / "docs" / "development.md").read_text()


def test_a_version_bump_without_regenerating_is_refused(tmp_path):
    spec = tmp_path / "discord"
    spec.mkdir()
    pkg = json.loads((SPEC_DIR / "package.json").read_text())
    pkg["dependencies"]["discord-api-spec"] = "10.0.999999"
    (spec / "package.json").write_text(json.dumps(pkg))
    stale = ensure_schemas().read_text()
    (spec / ".cache").mkdir()
    # The old file copied under the new version's name is refused by its content.
    (spec / ".cache" / "discord-api-spec-10.0.999999.json").write_text(stale)
    with pytest.raises(ContractUnavailable, match=r"pins 10\.0\.999999"):
        load_contract(required=True, spec_dir=spec)


def test_without_node_tests_fail_loudly_and_the_demo_runs_unvalidated(tmp_path, monkeypatch,
                                                                      caplog):
    spec = tmp_path / "discord"
    spec.mkdir()
    shutil.copy(SPEC_DIR / "package.json", spec / "package.json")
    monkeypatch.setattr(contract_mod.shutil, "which", lambda name: None)
    with pytest.raises(ContractUnavailable, match="node and npm"):
        load_contract(required=True, spec_dir=spec)
    with caplog.at_level(logging.WARNING, logger="discord_sandbox.contract"):
        assert load_contract(required=False, spec_dir=spec) is None
    assert [r.getMessage() for r in caplog.records if "validation is off" in r.getMessage()]


def test_snowflakes_permissions_and_nulls_follow_discord_not_the_letter_of_the_spec():
    c = Contract.from_file(ensure_schemas(), pinned_version())
    role = "/guilds/{guild_id}/roles"
    assert c.validate("POST", role, {"name": "VIP", "permissions": "8", "color": 0}) is None
    assert c.validate("POST", role, {"name": "VIP", "permissions": 8}) is None
    assert c.validate("POST", role, {"name": "VIP", "permissions": "eight"}) is not None
    assert c.validate("POST", "/users/@me/channels", {"recipient_id": 123}) is None
    assert c.validate("POST", "/users/@me/channels", {"recipient_id": "0123"}) is not None
    assert c.validate("POST", "/users/@me/channels", {"recipient_id": -1}) is not None
    assert c.validate("PATCH", "/guilds/1/members/2", {"nick": None, "roles": ["1", 2]}) is None
    # PATCH .../members/@me takes only a nick: its own entry in the spec.
    assert c.validate("PATCH", "/guilds/1/members/@me", {"roles": []}) is not None


def test_every_request_body_of_the_spec_compiles():
    """After a bump, a schema keyword or format this validator does not know fails here, not as
    a silently skipped check."""
    c = Contract.from_file(ensure_schemas(), pinned_version())
    routes = list(c._bodies)
    assert len(routes) > 50
    for route in routes:
        c._compile_route(route)
    for route in ("PUT /applications/{application_id}/commands",
                  "POST /interactions/{interaction_id}/{interaction_token}/callback",
                  "POST /channels/{channel_id}/messages",
                  "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"):
        method, _, path = route.partition(" ")
        assert c.knows(method, path), route


async def test_a_nickname_over_32_characters_is_refused(sb, world):
    path = f"/guilds/{world.guild.id}/members/{world.bob.id}"
    status, body = await _send(sb, "PATCH", path, {"nick": "n" * 33})
    assert status == 400 and _leaf(body["errors"], "nick") == "BASE_TYPE_MAX_LENGTH"
    status, body = await _send(sb, "PATCH", path, {"nick": "n" * 32})
    assert status == 200 and body["nick"] == "n" * 32
