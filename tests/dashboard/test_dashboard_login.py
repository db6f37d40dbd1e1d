"""Logging in with Discord (through the sandbox's OAuth2), sessions, expiry and revocation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.dashboard.security import SESSION_COOKIE, Signer
from tests.dashboard.conftest import (
    browser_session,
    consent,
    csrf_of,
    get,
    login,
    open_dgc,
    start_login,
)

pytestmark = pytest.mark.timeout(60)


async def test_login_sets_a_signed_httponly_lax_cookie_and_lists_the_servers(dgc):
    async with browser_session() as http:
        status, page = await get(http, dgc.base + "/dashboard")
        assert status == 200 and "Log in with Discord" in page
        authorize = await start_login(dgc, http)
        assert "scope=identify+guilds" in authorize and "state=" in authorize
        resp = await login(dgc, http, "admin")
        cookie = resp.cookies[SESSION_COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/dashboard"
        assert not cookie["secure"]  # PUBLIC_URL is http here (see the https test)
        assert int(cookie["max-age"]) == 12 * 3600
        status, page = await get(http, dgc.base + "/dashboard")
        assert status == 200 and "Gem Collectors" in page and "Manage" in page
        # The store keeps the token's digest, never the token the cookie carries.
        stored = await dgc.db["dashboard_sessions"].find({}).to_list()
        token = cookie.value.rsplit(".", 1)[0]
        assert len(stored) == 1 and stored[0]["_id"] != token
        assert stored[0]["user_id"] == dgc["admin"].id
        assert stored[0]["guild_ids"] == [dgc.guild.id]


async def test_a_member_without_staff_rights_sees_no_server_and_gets_403(dgc):
    async with browser_session() as http:
        await login(dgc, http, "bob")
        status, page = await get(http, dgc.base + "/dashboard")
        assert status == 200 and "Gem Collectors" not in page
        for path in ("", "/settings/core", "/moderation", "/members", "/exports",
                     "/exports/trades.csv"):
            status, _ = await get(http, f"{dgc.base}/dashboard/g/{dgc.guild.id}{path}")
            assert status == 403, path


async def test_the_state_is_single_use_and_bound_to_the_browser(dgc):
    async with browser_session() as http:
        callback = await consent(dgc, http, "admin", await start_login(dgc, http))
        async with browser_session() as other:  # the same URL in another browser: no state cookie
            status, page = await get(other, callback)
            assert status == 400 and "expired or was already used" in page
        status, _ = await get(http, callback)
        assert status == 302  # this browser: logged in
        status, page = await get(http, callback)  # replayed
        assert status == 400
    # A forged state (never issued) with the browser's own cookie is refused too.
    async with browser_session() as http:
        callback = await consent(dgc, http, "admin", await start_login(dgc, http))
        status, _ = await get(http, callback.replace("state=", "state=x"))
        assert status == 400
    assert await dgc.db["dashboard_sessions"].count_documents({}) == 1


async def test_a_cancelled_consent_opens_no_session(dgc):
    async with browser_session() as http:
        authorize = await start_login(dgc, http)
        async with http.get(authorize) as page:
            text = await page.text()
        import re
        form = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', text))
        form["deny"] = "1"
        async with http.post(dgc.sb.base_url + "/oauth2/authorize", data=form,
                             allow_redirects=False) as resp:
            callback = resp.headers["Location"]
        status, page = await get(http, callback)
        assert status == 400 and "cancelled" in page
    assert await dgc.db["dashboard_sessions"].count_documents({}) == 0


async def test_a_wrong_client_secret_is_refused_by_discord_and_no_session_opens(store, clock):
    async with open_dgc(store, clock, dashboard_client_secret="not-the-registered-secret") as gc:
        async with browser_session() as http:
            callback = await consent(gc, http, "admin", await start_login(gc, http))
            status, page = await get(http, callback)
            assert status == 502 and "did not confirm" in page
        assert await gc.db["dashboard_sessions"].count_documents({}) == 0


async def test_sessions_expire_and_logout_all_from_discord_ends_every_one(dgc):
    async with browser_session() as phone, browser_session() as laptop:
        await login(dgc, phone, "admin")
        await login(dgc, laptop, "admin")
        overview = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
        assert (await get(phone, overview))[0] == 200
        r = await dgc.slash("admin", "dashboard logout-all")
        assert r.ephemeral and "2 sessions ended" in r.text
        for http in (phone, laptop):
            status, _ = await get(http, overview)
            assert status == 303  # back to the login page
        # Expiry: 12 hours after login the session is over (whatever the TTL monitor did).
        await login(dgc, phone, "admin")
        assert (await get(phone, overview))[0] == 200
        dgc.clock.advance(hours=12, seconds=1)
        assert (await get(phone, overview))[0] == 303


async def test_logout_needs_the_csrf_token_and_ends_only_this_browser(dgc):
    async with browser_session() as phone, browser_session() as laptop:
        await login(dgc, phone, "admin")
        await login(dgc, laptop, "admin")
        _, page = await get(phone, dgc.base + "/dashboard")
        async with phone.post(dgc.base + "/dashboard/logout", data={"csrf": "nope"},
                              allow_redirects=False) as resp:
            assert resp.status == 403
        async with phone.post(dgc.base + "/dashboard/logout", data={"csrf": csrf_of(page)},
                              allow_redirects=False) as resp:
            assert resp.status == 303
        overview = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
        assert (await get(phone, overview))[0] == 303
        assert (await get(laptop, overview))[0] == 200


async def test_logins_are_rate_limited_per_address(dgc):
    async with browser_session() as http:
        statuses = [(await get(http, dgc.base + "/dashboard/login"))[0] for _ in range(11)]
    assert statuses[:10] == [302] * 10 and statuses[10] == 429


async def test_a_forged_or_foreign_cookie_is_no_session(dgc):
    async with browser_session() as http:
        await login(dgc, http, "admin")
        cookie = next(c for c in http.cookie_jar if c.key == SESSION_COOKIE)
        token, _, mac = cookie.value.rpartition(".")
    overview = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
    foreign = Signer("another-bot-" + "x" * 30).sign("session", token)
    async with browser_session() as http:
        for value in (cookie.value, token + ".AAAA", token, foreign, "." + mac):
            async with http.get(overview, headers={"Cookie": f"{SESSION_COOKIE}={value}"},
                                allow_redirects=False) as resp:
                assert resp.status == (200 if value == cookie.value else 303), value


async def test_the_cookie_is_secure_behind_https(store, clock):
    async with open_dgc(store, clock, public_url="https://gems.example.org") as gc:
        gc.sb.oauth2.redirect_uris.add("https://gems.example.org/dashboard/callback")
        local = f"http://127.0.0.1:{gc.bot.web.port}/dashboard/login"
        async with browser_session() as http, http.get(local, allow_redirects=False) as resp:
            assert resp.status == 302
            query = parse_qs(urlsplit(resp.headers["Location"]).query)
            assert query["redirect_uri"] == ["https://gems.example.org/dashboard/callback"]
            assert resp.cookies["gems_login"]["secure"]


async def test_without_its_settings_the_dashboard_is_off(gc):
    async with browser_session() as http:
        status, _ = await get(http, gc.bot.web.public_url + "/dashboard")
    assert status == 404
    r = await gc.slash("admin", "dashboard link")
    assert r.ephemeral and "not set up" in r.text
    r = await gc.slash("admin", "dashboard logout-all")
    assert "not logged in" in r.text


def test_the_three_settings_come_together_and_the_secret_is_long():
    from pydantic import ValidationError

    from bot.settings import Settings

    with pytest.raises(ValidationError, match="together"):
        Settings(_env_file=None, dashboard_client_id=1, dashboard_client_secret="x")
    with pytest.raises(ValidationError, match="32 random characters"):
        Settings(_env_file=None, dashboard_client_id=1, dashboard_client_secret="x",
                 dashboard_session_secret="short")
    on = Settings(_env_file=None, dashboard_client_id=1, dashboard_client_secret="x",
                  dashboard_session_secret="y" * 32)
    assert on.dashboard_enabled and "y" * 32 not in repr(on)
    assert not Settings(_env_file=None, dashboard_client_id="", dashboard_client_secret=" ",
                        dashboard_session_secret="").dashboard_enabled
