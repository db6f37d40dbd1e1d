"""Insights: the day's rollup after the reset hour, /stats charts and CSVs for staff and members."""

from __future__ import annotations

from pathlib import Path

ORDER = 99
TITLE = "Insights: daily rollups, /stats charts and CSV downloads"
OUT = Path("var") / "demo"  # runtime output, git-ignored


def _save(t, name: str, data: bytes | None) -> None:
    if not data:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_bytes(data)
    t.note(f"Saved {OUT / name} ({len(data):,} bytes).")


async def play(t, gc) -> None:
    """A day passes, the job rolls it up; staff and a member read the charts."""
    t.note("A day later the rollup job has computed every finished day of the server.")
    await t.advance(hours=24)
    await t.advance(minutes=6)
    days = await gc.services.insights.daily(gc.guild.id, 30)
    t.check(len(days) >= 1, "the job stored at least one daily rollup")
    economy = await t.slash("admin", "stats-admin economy", days=30)
    t.check("chart.png" in economy.files, "/stats-admin economy attaches a chart")
    _save(t, "insights_economy.png", economy.files.get("chart.png"))
    csv_name = next((n for n in economy.files if n.endswith(".csv")), None)
    t.check(csv_name is not None, "/stats-admin economy attaches a CSV")
    _save(t, "insights_economy.csv", economy.files.get(csv_name or ""))
    engagement = await t.slash("mod", "stats-admin engagement", days=7)
    t.check("chart.png" in engagement.files, "/stats-admin engagement attaches a chart")
    market = await t.slash("mod", "stats-admin marketplace", days=30)
    _save(t, "insights_marketplace.png", market.files.get("chart.png"))
    await t.slash("bob", "stats-admin economy")  # a member: refused, privately
    mine = await t.slash("alice", "stats me", days=14)
    t.check(mine.ephemeral and "chart.png" in mine.files, "/stats me is a private chart")
    _save(t, "insights_me.png", mine.files.get("chart.png"))
