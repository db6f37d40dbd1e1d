"""An admin configures the server."""

ORDER = 10
TITLE = "An admin sets up the economy"


async def play(t, gc) -> None:
    """Settings: view, change with validation, history, permission check."""
    await t.slash("admin", "settings set", key="daily_amount", value="150")
    bad = await t.slash("admin", "settings set", key="timezone", value="Atlantis/Capital")
    t.check(bad.ephemeral, "a bad time zone is refused privately")
    await t.slash("admin", "settings set", key="timezone", value="Europe/Amsterdam")
    denied = await t.slash("bob", "settings set", key="daily_amount", value="99999")
    t.check("Only server admins" in denied.content, "members cannot change settings")
    await t.slash("admin", "settings history")
