"""Role income: a role earns GEMS each day; members collect it once per day."""

ORDER = 99.7
TITLE = "Role income (/income-admin, /gems collect)"


async def play(t, gc) -> None:
    """A daily income for a role, collected once, refused twice, collected again tomorrow."""
    patrons = gc.sb.create_role(gc.guild, "Patrons")
    gc.sb.give_role(gc["erin"], patrons)
    await gc.sb.settle()
    added = await t.slash("admin", "income-admin add", role=patrons, amount=15, period="daily")
    t.check("now earns" in added.text, "an admin gives the Patrons role a daily income")
    got = await t.slash("erin", "gems collect")
    t.check("Collected" in got.text, "erin collects her income")
    again = await t.slash("erin", "gems collect")
    t.check("collected your income" in again.text, "once per day: the second collect is refused")
    await t.advance(hours=24)
    later = await t.slash("erin", "gems collect")
    t.check("Collected" in later.text, "the next day it is there again")
    await t.slash("admin", "income-admin list")
    await t.slash("admin", "income-admin remove", role=patrons, period="daily")
