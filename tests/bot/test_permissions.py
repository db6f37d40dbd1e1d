"""One definition of the bot's permissions: the invite link, doctor, the welcome and the README."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord

from bot.permissions import NEEDS, SCOPES, channel_needs, invite_permissions, invite_url
from cogs.help._welcome import WELCOME
from discord_sandbox.state import DEFAULT_BOT_PERMISSIONS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_invite_link_asks_for_exactly_the_needed_permissions():
    query = parse_qs(urlsplit(invite_url(1234)).query)
    assert query["client_id"] == ["1234"]
    assert query["scope"] == [" ".join(SCOPES)] == ["bot applications.commands"]
    granted = discord.Permissions(int(query["permissions"][0]))
    assert all(getattr(granted, need.flag) for need in NEEDS)
    assert bin(granted.value).count("1") == len(NEEDS)  # and nothing else
    assert not granted.administrator and not granted.manage_guild
    # The sandbox gives an invited bot what the invite asks for, like Discord.
    assert invite_permissions().value == DEFAULT_BOT_PERMISSIONS


def test_readme_and_welcome_state_the_same_list():
    """The README's one checklist lists exactly NEEDS, in order; the welcome names each one."""
    text = README.read_text()
    section = text.split("### Permissions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| [^|]+ \|$", section, flags=re.MULTILINE)
    assert rows[1:] == [need.label for need in NEEDS]  # rows[0] is the header
    assert text.count("### Permissions") == 1  # one list, not three
    for doc in (README.parent / "docs").glob("*.md"):  # the docs point at it, never copy it
        assert "| Manage Roles |" not in doc.read_text(encoding="utf-8"), doc.name
    checklist = text.split("## Discord set-up checklist", 1)[1].split("\n## ", 1)[0]
    assert "./gems run" in checklist and "./gems invite" in checklist
    assert "./gems migrate" not in checklist and "sync-commands" not in checklist
    for need in NEEDS:
        assert need.label in WELCOME, need.label


def test_doctor_checks_each_permission_where_it_is_used():
    assert {"view_channel", "send_messages", "embed_links"} <= set(channel_needs("any_channel_id"))
    assert {"create_private_threads", "manage_threads"} <= set(channel_needs("trade_channel_id"))
    assert "pin_messages" in channel_needs("mentorship_channel_id")
    assert "attach_files" in channel_needs("marketplace_channel_id")
    assert "attach_files" not in channel_needs("trade_channel_id")
