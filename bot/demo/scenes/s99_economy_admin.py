"""Economy administration: a grant to a role, an exact balance, a reset confirmed by name."""

ORDER = 99
TITLE = "Economy administration (/gems-admin grant-role, set-balance, reset)"


async def play(t, gc) -> None:
    """A role's holders are paid once each; a balance set exactly; one member reset."""
    crew = gc.sb.create_role(gc.guild, "Event crew")
    for name in ("carol", "dave"):
        gc.sb.give_role(gc[name], crew)
    await gc.sb.settle()
    paid = await t.slash("admin", "gems-admin grant-role", role=crew, amount=30,
                         reason="ran the quiz night")
    t.check("each of 2 members" in paid.text, "every holder of the role is paid once")
    exact = await t.slash("admin", "gems-admin set-balance", member=gc["dave"], amount=500,
                          reason="contest prize correction")
    t.check("→" in exact.text, "set-balance mints the difference (recorded in the ledger)")
    opened = await t.slash("admin", "gems-admin reset", scope="member", member=gc["dave"])
    t.act("admin", "types the wrong server name in the form")
    wrong = await gc.sb.submit_modal(gc["admin"], opened, {"server_name": "some server"})
    t.answer(wrong)
    t.check("isn't this server's name" in wrong.text, "a wrong name resets nothing")
    opened = await t.slash("admin", "gems-admin reset", scope="member", member=gc["dave"])
    t.act("admin", f"types \"{gc.guild.name}\" in the form")
    done = await gc.sb.submit_modal(gc["admin"], opened, {"server_name": gc.guild.name})
    t.answer(done)
    left = await gc.services.ledger.balance(gc.guild.id, gc["dave"].id)
    t.check("burned" in done.text and left == 0, "the reset burns the balance (audit stays exact)")
