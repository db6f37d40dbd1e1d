"""The dashboard in real headless Chromium (Debian's package, driven by Playwright, as the
wallet-link page is): log in through the sandbox's OAuth2 consent screen, open the overview,
change a setting and see it in Discord, approve a listing and see it announced. A screenshot of
each page is saved under var/test-artifacts/dashboard/ (git-ignored, like the demo's pictures in
var/demo/), one of them at phone width (390 px).

Skipped only off CI when /usr/bin/chromium is missing; on CI a missing browser fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from economy.core.actor import Actor
from tests.browser import CHROMIUM_MARKS
from tests.dashboard.test_dashboard_pages import pending_listing

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "dashboard"
PHONE = {"width": 390, "height": 844}

pytestmark = [*CHROMIUM_MARKS, pytest.mark.timeout(120)]


async def shot(page, name: str) -> None:
    """Save a full-page screenshot for review."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def log_in(page, gc, who: str) -> None:
    await page.goto(gc.base + "/dashboard")
    await shot(page, "01-login")
    await page.get_by_role("link", name="Log in with Discord").click()
    await page.get_by_role("button", name=f"Authorize as {who}").click()
    await page.wait_for_url(gc.base + "/dashboard")


async def test_admin_logs_in_changes_a_setting_and_discord_sees_it(dgc, browser):
    from datetime import UTC, datetime

    dgc.clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    await dgc.services.ledger.grant(dgc.guild.id, Actor.system(), dgc["alice"].id, 1200, reason="seed",
                                    key="seed:alice")
    await dgc.services.ledger.transfer(dgc.guild.id, dgc["alice"].id, dgc["bob"].id, 200, key="t:1")
    dgc.clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    await dgc.services.insights.run_due([dgc.guild.id])  # yesterday's rollup: the charts
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await log_in(page, dgc, "admin")
    await shot(page, "02-servers")
    await page.get_by_role("link", name="Manage").click()
    await page.wait_for_selector(".stats")
    assert "1,200" in await page.text_content(".stats")
    charts = page.locator("figure.chart img")
    assert await charts.count() == 3
    for i in range(3):  # each chart loaded (the CSP allows same-origin images) and has alt text
        img = charts.nth(i)
        await img.scroll_into_view_if_needed()
        assert await img.evaluate("i => i.complete && i.naturalWidth > 0")
        assert len(await img.get_attribute("alt") or "") > 20
    await shot(page, "03-overview")
    await page.get_by_role("link", name="Settings").click()
    await page.fill("#f-currency_name", "Shells")
    await page.select_option("#f-moderator_role_id", str(dgc.mod_role.id))
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_selector(".notice")
    assert "currency_name" in await page.text_content(".notice")
    await shot(page, "04-settings")
    settings = await dgc.services.settings.get(dgc.guild.id)
    assert settings.currency_name == "Shells" and settings.moderator_role_id == dgc.mod_role.id
    r = await dgc.slash("alice", "gems balance")  # Discord shows the new currency name
    assert "Shells" in r.text or any("Shells" in str(e.to_dict()) for e in r.embeds)
    await page.goto(f"{dgc.base}/dashboard/g/{dgc.guild.id}/members?q=alice")
    await page.wait_for_selector("text=Ledger")
    await shot(page, "05-member")
    await page.goto(f"{dgc.base}/dashboard/g/{dgc.guild.id}/exports")
    await shot(page, "06-exports")
    assert not errors, errors  # the CSP allowed everything the pages use
    await page.close()


async def test_moderator_approves_a_listing_at_phone_width(dgc, browser):
    listing_id = await pending_listing(dgc)
    await dgc.services.settings.set(dgc.guild.id, Actor.system(), "marketplace_channel_id", str(dgc.general.id))
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await log_in(page, dgc, "mod")
    await page.get_by_role("link", name="Moderate").click()
    await page.wait_for_selector(".listing")
    # Usable at phone width: nothing scrolls sideways.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await shot(page, "07-moderation-phone")
    await page.get_by_role("button", name=f"Approve #{listing_id}").click()
    await page.wait_for_selector(".notice")
    assert f"Listing #{listing_id} approved" in await page.text_content(".notice")
    await shot(page, "08-moderation-approved-phone")
    await dgc.sb.settle()
    listing = await dgc.db["listings"].find_one({"guild_id": dgc.guild.id,
                                                 "listing_id": listing_id})
    assert listing["status"] == "active" and listing["moderated_by"] == dgc["mod"].id
    assert any("Blue sapphire ring" in m.text for m in dgc.sb.channel_messages(dgc.general))
    assert not errors, errors
    await context.close()
