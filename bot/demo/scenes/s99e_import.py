"""Switching bots: an admin imports balances exported by UnbelievaBoat (`./gems import-economy`)."""

ORDER = 99.8
TITLE = "Importing balances from another bot (./gems import-economy)"


async def play(t, gc) -> None:
    """The --merge guard, a dry run, the import, a second run that mints nothing, a bad file."""
    from economy.core.actor import Actor
    from economy.currency.importing.service import ImportRefused, NeedsMerge

    importer, guild, admin = gc.services.economy_import, gc.guild.id, Actor.system()
    alice, bob = gc["alice"].id, gc["bob"].id
    export = (f"Rank,User ID,Username,Cash,Bank,Total\n1,{alice},alice,150,50,200\n"
              f"2,{bob},bob,-30,0,-30\n").encode()
    before = await gc.services.ledger.balance(guild, alice)
    t.act("admin", "./gems import-economy --from unbelievaboat leaderboard.csv")
    try:
        await importer.run(guild, admin, "unbelievaboat", export)
        t.check(False, "members here already hold GEMS: the import asks for --merge")
    except NeedsMerge:
        t.note("refused: members here already hold GEMS, so adding to them takes --merge "
               "(nothing was imported)")
    t.act("admin", "./gems import-economy --from unbelievaboat leaderboard.csv --merge --dry-run")
    dry = await importer.run(guild, admin, "unbelievaboat", export, merge=True,
                             dry_run=True)
    t.note(f"dry run: would mint {dry.total:,} GEMS for {len(dry.members)} member; "
           f"{len(dry.left_out)} left out (a negative UnbelievaBoat balance is a debt GEMS "
           "does not carry over)")
    t.check(dry.total == 200 and await gc.services.ledger.balance(guild, alice) == before,
            "a dry run mints nothing")
    t.act("admin", "./gems import-economy --from unbelievaboat leaderboard.csv --merge")
    report = await importer.run(guild, admin, "unbelievaboat", export, merge=True)
    t.note(f"minted {report.minted:,} GEMS: alice's imported 200 land on top of her balance")
    t.check(await gc.services.ledger.balance(guild, alice) == before + 200,
            "the import mints through the ledger, once per member")
    again = await importer.run(guild, admin, "unbelievaboat", export, merge=True)
    t.note(f"the same file again: {again.already} already imported, {again.minted} GEMS minted")
    t.check(again.minted == 0, "running the same file twice imports once")
    bad = export + b"3,not-an-id,mallory,10,0,10\n"
    try:
        await importer.run(guild, admin, "unbelievaboat", bad, merge=True)
        t.check(False, "a file with a bad row is refused whole")
    except ImportRefused as refused:
        t.note(f"a file with a bad row is refused whole: {refused.problems[0]}")
    await t.slash("alice", "gems balance")
