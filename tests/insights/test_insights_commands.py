"""/stats through the Discord sandbox: a member's own chart and CSV, staff views refused to
members, bad input and missing data answered privately, the job's anomaly flag posted once."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor
from tests.e2e_fixtures import seed

pytestmark = pytest.mark.timeout(90)
PNG = b"\x89PNG\r\n\x1a\n"


def _rows(result, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.files[name].decode())))


async def test_stats_me_is_a_private_chart_with_a_csv(gc, clock):
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    await seed(gc, "bob", 300)
    await gc.services.ledger.transfer(gc.guild.id, gc["bob"].id, gc["carol"].id, 120, key="t:1")
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    r = await gc.slash("bob", "stats me", days=7)
    assert r.ephemeral
    fields = {f.name: f.value for f in r.embeds[0].fields}
    assert "300" in fields["Earned"] and "120" in fields["Spent"] and fields["Net"] == "+180"
    assert r.files["chart.png"].startswith(PNG)
    rows = _rows(r, "my-stats-2026-03-02.csv")
    assert rows[0] == ["day", "earned", "spent"] and len(rows) == 8
    assert ["2026-03-01", "300", "120"] in rows
    # Someone without any GEMS yet is told so, privately, and gets no file.
    r = await gc.slash("dave", "stats me")
    assert r.ephemeral and "No GEMS in or out" in r.text and not r.files


async def test_staff_views_are_refused_to_members_and_wait_for_a_rollup(gc, clock):
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))  # a Sunday
    await seed(gc, "bob", 500)
    await gc.services.ledger.transfer(gc.guild.id, gc["bob"].id, gc["carol"].id, 100, key="t:1")
    r = await gc.slash("bob", "stats-admin economy")
    assert r.ephemeral and "moderator" in r.text.lower() and not r.files
    r = await gc.slash("mod", "stats-admin economy", days=7)
    assert r.ephemeral and "No daily rollups yet" in r.text and not r.files
    clock.set(datetime(2026, 3, 3, 0, 10, tzinfo=UTC))
    await gc.services.insights.run_due([gc.guild.id])
    for view in ("economy", "engagement", "marketplace"):
        r = await gc.slash("mod", f"stats-admin {view}", days=7)
        assert r.ephemeral and r.files["chart.png"].startswith(PNG), (view, r.text)
        assert f"{view}-2026-03-02.csv" in r.files, r.files.keys()
    r = await gc.slash("mod", "stats-admin engagement", days=7)
    fields = {f.name: f.value for f in r.embeds[0].fields}
    # bob and carol first traded in the week of Monday 2026-02-23; nobody came back the next.
    assert fields["Retention by first week"] == "2026-02-23: 2 → 100% · 0%"
    r = await gc.slash("admin", "stats-admin economy", days=2)
    fields = {f.name: f.value for f in r.embeds[0].fields}
    assert "500" in fields["Supply"] and fields["Members"] == "2"
    rows = _rows(r, "economy-2026-03-02.csv")
    assert rows[0][:4] == ["day", "minted", "burned", "transferred"]
    assert rows[1][:2] == ["2026-03-01", "500"] and rows[2][:2] == ["2026-03-02", "0"]


async def test_bad_days_and_a_switched_off_feature_are_refused(gc, clock):
    r = await gc.slash("bob", "stats me", days=0)
    assert r.ephemeral and "90" in r.text and not r.files
    r = await gc.slash("mod", "stats-admin marketplace", days=91)
    assert r.ephemeral and "90" in r.text and not r.files
    await gc.services.settings.set(gc.guild.id, Actor.system(), "disabled_features", "insights")
    r = await gc.slash("bob", "stats me")
    assert r.ephemeral and "off" in r.text.lower() and not r.files


async def test_the_job_posts_an_anomaly_once_without_pings(gc, clock):
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    g = gc.guild.id
    await gc.services.settings.set(g, Actor.system(), "dispute_channel_id", str(queue.id))
    await gc.services.settings.set(g, Actor.system(), "insights_earning_multiple", "3")
    await gc.services.settings.set(g, Actor.system(), "insights_earning_min", "100")
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    for name, amount in (("bob", 10), ("carol", 10), ("dave", 900)):
        await gc.services.ledger.earn(g, gc[name].id, amount, key=f"e:{name}", kind="reward")
    clock.set(datetime(2026, 3, 2, 0, 4, tzinfo=UTC))
    await gc.advance(minutes=2)  # the day ended 6 minutes ago: rolled up, flag posted
    await gc.advance(minutes=10)
    await gc.restart_bot()  # a new process: the flag is not posted again
    await gc.advance(minutes=10)
    await gc.sb.settle()
    posted = [m for m in gc.sb.channel_messages(queue) if "Insights flag" in m.content]
    assert len(posted) == 1, [m.content for m in posted]
    assert f"<@{gc['dave'].id}> earned 900" in posted[0].content
    assert posted[0].allowed_mentions == {"parse": []}
