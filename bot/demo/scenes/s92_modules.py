"""An admin turns a feature off for the server, and back on."""

ORDER = 92
TITLE = "Turning features off per server (/settings modules)"


async def play(t, gc) -> None:
    """/settings modules disable, a refused command that changes nothing, core still on, enable again."""
    off = await t.slash("admin", "settings modules disable", feature="goals")
    t.check("turned **off**" in off.text, "an admin turns community goals off")
    listed = await t.slash("admin", "settings modules list")
    t.check("⛔ off · `goals`" in listed.text, "the list shows goals as off")
    before = await gc.db["community_goals"].count_documents({})
    refused = await t.slash("alice", "goal list")
    t.check(refused.ephemeral and "turned off in this server" in refused.text,
            "a member's goal command is answered privately: the feature is off")
    t.check(await gc.db["community_goals"].count_documents({}) == before, "and nothing changed")
    balance = await t.slash("alice", "gems balance")
    t.check("turned off" not in balance.text, "the currency is core and stays on")
    denied = await t.slash("bob", "settings modules enable", feature="goals")
    t.check("Only server admins" in denied.text, "members cannot switch features")
    on = await t.slash("admin", "settings modules enable", feature="goals")
    t.check("turned **on**" in on.text, "goals are back on")
