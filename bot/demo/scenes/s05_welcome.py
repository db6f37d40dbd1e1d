"""The bot joins a new server: the admins' welcome, /setup, and /help."""

ORDER = 5
TITLE = "A new server: the welcome, /setup and /help"


async def play(t, gc) -> None:
    """First run: the welcome post, /setup (a step per feature), and what /help shows whom."""
    guild = gc.sb.create_guild("Gem Collectors (new)")
    await gc.sb.settle()
    posts = [m for c in guild.text_channels() for m in gc.sb.channel_messages(c)]
    t.check(len(posts) == 1 and "/setup" in posts[0].text, "the bot welcomes a new server once")
    if posts:
        t.note("the bot joined another server and posted its welcome:")
        t.message(posts[0])
    r = await t.slash("admin", "setup")
    t.act("admin", "picks the moderator role")
    r = await gc.sb.select(gc["admin"], r, "gset:w:ro:moderator_role_id", [gc.mod_role])
    t.answer(r)
    form = await gc.click("admin", r, "Edit 1–3")
    t.act("admin", "opens the currency form and keeps GEMS · 💎 (no change, none recorded)")
    r = await gc.sb.submit_modal(gc["admin"], form, {"Currency name": "GEMS", "Currency emoji": "💎"})
    t.answer(r)
    t.out.write(f"{'admin':>8} ▸ walks through the other features' steps (Next ▶ …)\n")
    while not any(c.label == "Done" for c in r.message.components):
        r = await gc.click("admin", r, "Next ▶")
    r = await t.click("admin", r, "Done")
    member = await t.slash("bob", "help")
    t.check("/gems-admin" not in member.text, "members don't see admin commands in /help")
    t.act("bob", "/help command:gems give")
    t.answer(await gc.sb.slash(gc["bob"], "help", {"command": "gems give"}))
