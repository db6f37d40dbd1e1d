"""A member takes a copy of their data, then has it anonymised."""

import json

ORDER = 91
TITLE = "Data rights: /privacy export and delete"


async def play(t, gc) -> None:
    """Export by DM, a forged confirm click refused, deletion keeping the ledger exact."""
    frank = gc.add_member("frank")
    await t.slash("admin", "gems-admin grant", member=frank, amount=40, reason="welcome")
    await t.slash("carol", "gems give", member=frank, amount=15, note="welcome frank")

    exported = await t.slash("frank", "privacy export")
    t.check("check your DMs" in exported.text, "frank's data copy is sent by DM")
    files = gc.sb.dms(frank)[-1].files if gc.sb.dms(frank) else {}
    body = json.loads(next(iter(files.values()), b"{}"))
    t.check(len(body.get("collections", {}).get("ledger", [])) == 3,
            "the copy holds his three ledger entries (grant and both legs of carol's gift)")

    asked = await t.slash("frank", "privacy delete")
    forged = await t.click("bob", asked, "Delete my data")
    t.check("someone else's" in forged.text, "only frank may press his Delete button")
    await t.click("frank", asked, "Delete my data")
    left = await gc.db["accounts"].count_documents({"guild_id": gc.guild.id, "user_id": frank.id})
    t.check(left == 0, "no account carries frank's id any more")
    t.note("His 55 GEMS stay on an anonymous account: the audit at the end still balances.")
