"""One grammar (issue 24): per feature one member group and one `-admin` staff group hidden by
default permissions; few top-level member commands; a short member /help grouped by feature;
old names answer "renamed to …"."""

from __future__ import annotations

import re
from pathlib import Path

import discord
import pytest
from discord import app_commands

from cogs._shared.feature_cog import ADMIN_PERMISSIONS, MODERATOR_PERMISSIONS, staff_of
from cogs.help import RENAMED
from cogs.help._catalog import feature_of

pytestmark = pytest.mark.timeout(60)

#: Core admin commands that keep their names (no `-admin` suffix): hidden by Manage Server.
CORE_ADMIN_COMMANDS = {"settings", "setup", "dashboard"}
#: Member commands besides a feature's one member group (the seed names `/list-item`).
EXTRA_MEMBER_COMMANDS = {"list-item", "help"}
#: The top-level member commands, all of them (issue 24: at most ~15; the shop added a group,
#: and `/my` and the members' `/badge` became one `/profile` group, issue 25).
MEMBER_COMMANDS = {"gems", "trades", "market", "list-item", "mentor", "event", "goal", "challenge",
                   "season", "wallet", "pay", "privacy", "profile", "help", "shop", "stats"}
#: In a Manage Messages group an admin-only subcommand says so to the moderators who see it.
ADMIN_WORDS = ("Admin:", "Lead:")
STAFF_WORDS = ("admin", "moderator", "lead:", "event managers", "mentors/", "host or manager")


def _roots(tree) -> list[app_commands.Command | app_commands.Group]:
    return tree.get_commands(type=discord.AppCommandType.chat_input)


def _leaves(command):
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from _leaves(child)
    else:
        yield command


async def test_every_staff_subcommand_is_in_an_admin_group_hidden_by_default(gc):
    problems = []
    for root in _roots(gc.bot.tree):
        perms = root.default_permissions
        leaves = list(_leaves(root))
        if root.name in CORE_ADMIN_COMMANDS:
            if perms != ADMIN_PERMISSIONS:
                problems.append(f"/{root.name}: core admin command without Manage Server")
        elif root.name.endswith("-admin"):
            if perms not in (ADMIN_PERMISSIONS, MODERATOR_PERMISSIONS):
                problems.append(f"/{root.name}: staff group not hidden by default_permissions")
            for leaf in leaves:
                level = staff_of(leaf)
                if level is None:
                    problems.append(f"/{leaf.qualified_name}: not marked as a staff subcommand")
                elif level == "moderator" and perms == ADMIN_PERMISSIONS:
                    problems.append(f"/{leaf.qualified_name}: moderator tool hidden from moderators")
                elif level == "admin" and perms == MODERATOR_PERMISSIONS \
                        and not leaf.description.startswith(ADMIN_WORDS):
                    problems.append(f"/{leaf.qualified_name}: admin-only, shown to moderators "
                                    "without saying so")
        else:
            if perms is not None:
                problems.append(f"/{root.name}: a staff group must be named `<name>-admin`")
            for leaf in leaves:
                if staff_of(leaf) is not None:
                    problems.append(f"/{leaf.qualified_name}: staff subcommand in a member group")
                if leaf.description.lower().startswith(STAFF_WORDS):
                    problems.append(f"/{leaf.qualified_name}: reads as staff-only: "
                                    f"{leaf.description!r}")
    assert problems == [], "\n".join(problems)


async def test_one_member_group_and_one_admin_group_per_feature(gc):
    members: dict[str, set[str]] = {}
    staff: dict[str, set[str]] = {}
    for root in _roots(gc.bot.tree):
        if root.name in CORE_ADMIN_COMMANDS | EXTRA_MEMBER_COMMANDS:
            continue
        side = staff if root.name.endswith("-admin") else members
        side.setdefault(feature_of(root), set()).add(root.name)
    assert all(len(names) == 1 for names in members.values()), members
    assert all(len(names) == 1 for names in staff.values()), staff
    for feature, (admin,) in staff.items():
        if feature in members:  # the staff group is named after the member group
            assert admin == next(iter(members[feature])) + "-admin", (feature, admin)


async def test_at_most_fifteen_top_level_member_commands(gc):
    member = {root.name for root in _roots(gc.bot.tree) if root.default_permissions is None}
    assert member == MEMBER_COMMANDS
    assert len(member) <= 16


async def _all_pages(gc, who: str) -> list[dict[str, str]]:
    result = await gc.slash(who, "help")
    assert result.ephemeral
    pages = [{f.name: f.value for f in result.embeds[0].fields}]
    while any(b.label == "Next ▶" and not b.disabled for b in result.buttons):
        result = await gc.click(who, result, "Next ▶")
        pages.append({f.name: f.value for f in result.embeds[0].fields})
    return pages


async def test_member_help_fits_two_pages_and_admin_help_is_grouped_by_feature(gc):
    member = await _all_pages(gc, "bob")
    assert len(member) <= 2
    seen = {title: text for page in member for title, text in page.items()}
    assert "`/gems` " in seen["The wallet"] and "give" in seen["The wallet"]
    assert "`/market` " in seen["The marketplace"] and "`/list-item`" in seen["The marketplace"]
    assert not any("-admin`" in text or "`/settings`" in text for text in seen.values())

    admin = await _all_pages(gc, "admin")  # Manage Server
    assert len(admin) <= 2
    shown = {title: text for page in admin for title, text in page.items()}
    # Each feature's member and staff commands sit together under the feature's name.
    assert "`/gems` " in shown["The wallet"] and "`/gems-admin` grant" in shown["The wallet"]
    assert "`/event` " in shown["Events"] and "`/event-admin` " in shown["Events"]
    assert "create" in shown["Events"].split("`/event-admin`")[1]
    assert "`/settings` " in shown["Settings"] and "modules disable" in shown["Settings"]
    assert shown["Boosts"].startswith("`/boost-admin` ")
    # Moderators (Manage Messages) see the groups with moderator tools, under their features.
    moderator = {t: text for page in await _all_pages(gc, "mod") for t, text in page.items()}
    assert "`/trades` " in moderator["Trades"]
    assert "`/trades-admin` " in moderator["Trades"] and "dispute resolve" in moderator["Trades"]
    assert "`/mentor-admin` " in moderator["Mentorship"]
    assert "`/settings`" not in str(moderator)


async def test_old_names_answer_renamed_to(gc):
    r = await gc.sb.slash(gc["bob"], "help", {"command": "listing mine"})
    assert r.ephemeral and "`/listing mine` was renamed to `/market mine`" in r.content
    assert r.embeds[0].title == "/market mine"
    # A staff command's new name is told; its details only to whoever may run it.
    r = await gc.sb.slash(gc["bob"], "help", {"command": "/dispute resolve"})
    assert "renamed to `/trades-admin dispute resolve`" in r.content and not r.embeds
    r = await gc.sb.slash(gc["mod"], "help", {"command": "dispute resolve"})
    assert r.embeds[0].title == "/trades-admin dispute resolve"


async def test_the_rename_map_points_at_commands_that_exist(gc):
    leaves = {leaf.qualified_name for root in _roots(gc.bot.tree) for leaf in _leaves(root)}
    groups = {g.qualified_name for root in _roots(gc.bot.tree) if isinstance(root, app_commands.Group)
              for g in [root, *root.walk_commands()] if isinstance(g, app_commands.Group)}
    for old, new in RENAMED.items():
        assert new in leaves | groups, (old, new)
        assert old.split(":")[0].strip() not in leaves or ":" in old, old


def test_the_renamed_commands_doc_lists_the_whole_map():
    doc = (Path(__file__).parents[2] / "docs" / "renamed-commands.md").read_text()
    rows = dict(re.findall(r"^\| `/([^`]+)` \| `/([^`]+)` \|$", doc, flags=re.M))
    assert rows == RENAMED


async def test_every_feature_cog_knows_its_feature(gc):
    from cogs._shared.feature_cog import FeatureCog
    from economy.registry import FEATURES

    cogs = [cog for cog in gc.bot.cogs.values() if isinstance(cog, FeatureCog)]
    assert len(cogs) >= 15
    for cog in cogs:
        assert cog.feature in {f.name for f in FEATURES} | {"help"}, cog
        assert cog.services is gc.bot.services
