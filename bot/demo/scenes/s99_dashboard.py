"""The web dashboard: an admin logs in with Discord (the sandbox's OAuth2 consent screen), reads
the overview, changes a setting in the browser form and sees it in Discord."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

ORDER = 99.9
TITLE = "The web dashboard (log in with Discord)"
OUT = Path("var") / "demo"  # runtime output, git-ignored


async def play(t, gc) -> None:
    """Login through the consent screen, the overview, a settings form, /dashboard logout-all."""
    if not gc.bot.settings.dashboard_enabled:
        t.note("The dashboard is not configured in this run (DASHBOARD_* settings); skipped.")
        return
    base = gc.bot.web.public_url
    oauth = gc.sb.oauth2  # the sandbox plays discord.com: the app's client and its redirect
    oauth.client_id = gc.bot.settings.dashboard_client_id
    oauth.client_secret = gc.bot.settings.dashboard_client_secret.get_secret_value()
    oauth.redirect_uris.add(f"{base}/dashboard/callback")
    link = await t.slash("admin", "dashboard link")
    t.check("/dashboard" in link.text, "/dashboard link gives the address")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(base + "/dashboard/login", allow_redirects=False) as resp:
            consent_url = resp.headers["Location"]
        async with http.get(consent_url) as resp:
            consent = await resp.text()
        t.check("Authorize as admin" in consent, "Discord's consent screen asks for identify + guilds")
        form = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', consent))
        form["user_id"] = str(gc["admin"].id)
        async with http.post(gc.sb.base_url + "/oauth2/authorize", data=form) as resp:
            picker = await resp.text()  # redirected back through the callback to the picker
        t.check(gc.guild.name in picker, "logged in: the server picker lists the server")
        g = f"{base}/dashboard/g/{gc.guild.id}"
        async with http.get(g) as resp:
            overview = await resp.text()
        numbers = re.findall(r'<span class="n">([^<]+)</span>\s*([^<]+)<', overview)
        t.note("Overview: " + "; ".join(f"{n} {what.strip()}" for n, what in numbers[:6]))
        t.check(resp.status == 200 and "GEMS in existence" in overview, "the overview shows the economy's health")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "dashboard_overview.html").write_text(overview, encoding="utf-8")
        t.note(f"The overview page is saved as {OUT / 'dashboard_overview.html'}.")
        async with http.get(g + "/settings/currency") as resp:
            page = await resp.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        async with http.post(g + "/settings/currency",
                             data={"csrf": csrf, "daily_amount": "60"}) as resp:
            saved = await resp.text()
        t.check("Saved: daily_amount" in saved, "the admin changes the daily reward in the form")
        async with http.post(g + "/settings/currency", data={"daily_amount": "70"}) as resp:
            t.check(resp.status == 403, "a form without the session's CSRF token is refused")
    shown = await t.slash("admin", "settings view", search="daily_amount")
    t.check("60" in str(shown.embeds[0].description), "Discord's /settings view shows the new value")
    out = await t.slash("admin", "dashboard logout-all")
    t.check("1 session ended" in out.text, "/dashboard logout-all ends the browser's session")
