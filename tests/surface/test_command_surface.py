"""The whole command surface: within Discord's limits, and every option explained to members."""

from __future__ import annotations

import pytest

from discord_sandbox.limits import check_commands

pytestmark = pytest.mark.timeout(60)


def _options(payload: dict, path: str = ""):
    for option in payload.get("options") or []:
        where = f"{path} {option['name']}".strip()
        if option["type"] in (1, 2):  # subcommand or group
            yield from _options(option, where)
        else:
            yield where, option


async def test_every_command_fits_discord_and_every_option_has_a_description(gc):
    tree = gc.bot.tree
    payloads = [command.to_dict(tree) for command in tree.get_commands()]
    check_commands(payloads)  # what the sandbox (and Discord) check on sync
    undescribed = [f"/{p['name']} {where}" for p in payloads if p.get("type", 1) == 1
                   for where, option in _options(p) if option["description"] in ("…", "")]
    assert undescribed == [], "\n".join(undescribed)


async def test_the_gems_command_tree_syncs_through_discords_contract(gc):
    """The real sync (PUT .../commands) passes the sandbox's OpenAPI check; Discord validates the
    whole body, so one bad option (e.g. an integer max_value over 2^53 - 1) would lose them all."""
    assert gc.sb.contract is not None
    synced = await gc.bot.tree.sync()
    assert {c.name for c in synced} == {c.name for c in gc.bot.tree.get_commands()}
    stored = gc.sb.server.commands[None]
    assert len(stored) == len(synced)
    chain = next(o for c in stored if c["name"] == "wallet-admin" for g in c["options"]
                 if g["name"] == "rule" for s in g["options"] if s["name"] == "add"
                 for o in s["options"] if o["name"] == "chain")
    assert chain["max_value"] == 2**53 - 1


async def test_privileged_groups_are_hidden_from_members_by_default(gc):
    tree = gc.bot.tree
    payloads = {c.name: c.to_dict(tree) for c in tree.get_commands()}
    manage_guild, manage_messages = 1 << 5, 1 << 13
    # Every staff group (tests/surface/test_command_grammar.py checks the grammar itself).
    expected = {"settings": manage_guild, "setup": manage_guild, "dashboard": manage_guild,
                "boost-admin": manage_guild,
                "challenge-admin": manage_guild, "event-admin": manage_guild,
                "goal-admin": manage_guild, "season-admin": manage_guild, "badge-admin": manage_guild,
                "gems-admin": manage_guild, "pay-admin": manage_guild, "shop-admin": manage_guild,
                "raffle-admin": manage_guild, "income-admin": manage_guild,
                # groups that hold moderator tools are visible to moderators
                "trades-admin": manage_messages, "market-admin": manage_messages,
                "mentor-admin": manage_messages, "wallet-admin": manage_messages,
                "stats-admin": manage_messages}
    assert {n for n, p in payloads.items() if p.get("default_member_permissions")} == set(expected)
    for name, permission in expected.items():
        assert int(payloads[name]["default_member_permissions"]) == permission, name
    # Member groups stay visible; their manager subcommands are checked by the services.
    assert payloads["gems"]["default_member_permissions"] is None
    # No admin-only subcommand is left in a member group.
    member_groups = {name for name, p in payloads.items() if p.get("default_member_permissions") is None}
    admin_words = [f"/{name} {o['name']}" for name in member_groups
                   for o in payloads[name].get("options", []) if o.get("type") == 1
                   and o.get("description", "").lower().startswith(("admin", "moderator"))]
    assert admin_words == []


def test_the_sandbox_refuses_commands_discord_refuses():
    from discord_sandbox.contract import shared_contract
    from discord_sandbox.limits import PayloadTooLarge

    contract = shared_contract(required=True)
    sync = "/applications/{application_id}/commands"
    good = {"name": "gems", "description": "Wallet", "type": 1, "options": []}
    check_commands([good])
    assert contract.validate("PUT", sync, [good]) is None
    # Checked by hand: what the spec does not say (name characters, chat-input descriptions).
    for bad in ({**good, "name": "Gems"}, {**good, "name": "x" * 33}, {**good, "description": ""},
                {**good, "description": "d" * 101}):
        with pytest.raises(PayloadTooLarge):
            check_commands([bad])
    # Checked against the spec: lengths, counts, integer bounds.
    for bad in ({**good, "name": "x" * 33}, {**good, "description": "d" * 101},
                {**good, "options": [{"name": f"o{i}", "description": "d", "type": 3}
                                     for i in range(26)]},
                {**good, "options": [{"name": "n", "description": "d", "type": 4,
                                      "max_value": 2**53}]}):
        assert contract.validate("PUT", sync, [bad]) is not None
