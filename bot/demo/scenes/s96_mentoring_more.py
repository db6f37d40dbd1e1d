"""The rest of mentorship and guides, and seasons: lists, pauses, verification, a matching
round, the review queue, a season's board and winners."""

from __future__ import annotations

ORDER = 96
TITLE = "More mentorship, guides and seasons"


async def play(t, gc) -> None:
    """Goals and pairs listed, a skill verified, a mentor pauses and leaves, an application
    no mentor fits waits through a round and is withdrawn; guides read and upvoted; seasons."""
    await t.slash("erin", "mentor milestone list", mentorship=1)
    await t.slash("erin", "mentor list")
    await t.slash("carol", "mentor-admin verify", member=gc["erin"], skill="stone setting", level=2)
    await t.slash("dave", "mentor pause")
    await t.slash("dave", "mentor resume")
    t.note("bob asks for help with enamelling, which no mentor teaches yet.")
    await t.slash("bob", "mentor find", skills="enamelling:1",
                  availability="sat 10-12", languages="English", goals="Enamel a pendant")
    await t.slash("admin", "mentor-admin applications")
    await t.slash("admin", "mentor-admin round")
    await t.slash("bob", "mentor find-cancel")
    await t.slash("dave", "mentor leave")

    await t.slash("mod", "mentor-admin guides")
    await t.slash("bob", "mentor guide view", guide_id=1)
    voted = await t.slash("bob", "mentor guide upvote", guide_id=1)
    t.check(voted.ephemeral, "an upvote is answered privately")

    await t.slash("admin", "season-admin add", name="spooky-gems")
    await t.slash("bob", "season leaderboard", key="winter-festival")
    await t.slash("bob", "season winners")
    await t.slash("admin", "season-admin remove", key="spooky-gems")
