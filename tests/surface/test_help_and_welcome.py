"""/help shows what the member may run; the bot welcomes a server's admins once when it joins."""

from __future__ import annotations

import pytest

from discord_sandbox.state import DEFAULT_BOT_PERMISSIONS

pytestmark = pytest.mark.timeout(60)

SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10


def _pages_text(result) -> str:
    """The overview page: one field per feature, a line per top-level command."""
    return "\n".join(f"{f.name}\n{f.value}" for f in result.embeds[0].fields)


async def test_help_lists_only_what_the_member_may_run(gc):
    member = await gc.slash("bob", "help")
    assert member.ephemeral
    seen = _pages_text(member)
    while any(b.label == "Next ▶" and not b.disabled for b in member.buttons):
        member = await gc.click("bob", member, "Next ▶")
        seen += _pages_text(member)
    assert "`/gems` balance" in seen and "browse" in seen and "`/market` " in seen
    for hidden in ("/gems-admin", "/settings", "/trades-admin", "/market-admin"):
        assert f"`{hidden}`" not in seen, hidden
    admin = await gc.slash("admin", "help")
    shown = _pages_text(admin)
    while any(b.label == "Next ▶" and not b.disabled for b in admin.buttons):
        admin = await gc.click("admin", admin, "Next ▶")
        shown += _pages_text(admin)
    assert "`/gems-admin` grant" in shown and "`/settings` " in shown and " set " in shown


async def test_help_pages_belong_to_whoever_asked(gc):
    r = await gc.slash("bob", "help")
    assert any(b.label == "Next ▶" for b in r.buttons)
    other = (await gc.click("carol", r, "Next ▶")).last
    assert other.ephemeral and "someone else's" in other.content


async def test_help_explains_one_command(gc):
    r = await gc.sb.slash(gc["bob"], "help", {"command": "gems give"})
    embed = r.embeds[0]
    assert r.ephemeral and embed.title == "/gems give"
    options = next(f for f in embed.fields if f.name == "Options").value
    assert "`member`" in options and "`amount`" in options
    denied = await gc.sb.slash(gc["bob"], "help", {"command": "/gems-admin grant"})
    assert denied.ephemeral and "no command `/gems-admin grant` that you can run" in denied.content
    choices = await gc.sb.autocomplete(gc["bob"], "help", "command", "gems")
    names = [c["name"] for c in choices]
    assert "gems give" in names and "gems-admin grant" not in names


async def test_the_bot_welcomes_a_new_server_once(gc):
    guild = gc.sb.create_guild("Newcomers")
    await gc.sb.settle()
    posts = [m for c in guild.text_channels() for m in gc.sb.channel_messages(c)]
    assert len(posts) == 1 and "/setup" in posts[0].embeds[0].description
    assert posts[0].allowed_mentions == {"parse": []}
    assert await gc.services.onboarding.first_join(guild.id) is False  # a re-invite: no repeat


async def test_a_server_where_the_bot_cannot_write_gets_the_welcome_by_dm(gc):
    owner = gc.sb.create_user("quiet-owner")
    guild = gc.sb.create_guild("Read only", owner=owner,
                               bot_permissions=DEFAULT_BOT_PERMISSIONS & ~SEND_MESSAGES,
                               everyone_permissions=VIEW_CHANNEL)
    await gc.sb.settle()
    assert not [m for c in guild.text_channels() for m in gc.sb.channel_messages(c)]
    dm = gc.sb.dms(owner)[-1]
    assert "can't write in any channel" in dm.content and "/setup" in dm.embeds[0].description
