"""The community with the web dashboard switched on, and a logged-in browser without a browser:
an aiohttp client that logs in through the sandbox's OAuth2 consent screen."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.demo.community import GemsCommunity
from bot.settings import Settings
from economy.core.audit import audit

CLIENT_ID = 424242424242
CLIENT_SECRET = "sandbox-dashboard-client-secret"
SESSION_SECRET = "s" * 16 + "0123456789abcdef0123456789"


def dashboard_settings(**overrides) -> Settings:
    """Process settings with the dashboard on (and the sandbox's loopback CDN allowed)."""
    options = {"dashboard_client_id": CLIENT_ID, "dashboard_client_secret": CLIENT_SECRET,
               "dashboard_session_secret": SESSION_SECRET}
    options.update(overrides)
    return Settings(_env_file=None, discord_token=None, attachment_hosts=["127.0.0.1"],
                    web_port=0, **options)


@contextlib.asynccontextmanager
async def open_dgc(store, clock, **overrides):
    """A connected community serving the dashboard; the sandbox knows the OAuth2 client."""
    async with GemsCommunity.open(store.db, clock=clock, strict_deadline=False,
                                  settings=dashboard_settings(**overrides)) as community:
        oauth = community.sb.oauth2
        oauth.client_id, oauth.client_secret = CLIENT_ID, CLIENT_SECRET
        oauth.redirect_uris.add(f"{community.bot.web.public_url}/dashboard/callback")
        community.base = community.bot.web.public_url
        yield community
    report = await audit(community.services.db)
    assert report.ok, report.render()


@pytest.fixture
async def dgc(store, clock):
    """The community with the dashboard on."""
    async with open_dgc(store, clock) as community:
        yield community


@contextlib.asynccontextmanager
async def browser_session():
    """An HTTP client that keeps cookies for 127.0.0.1 (aiohttp's default jar skips IPs)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield http


async def start_login(gc, http) -> str:
    """GET /dashboard/login: the consent page URL it redirects to."""
    async with http.get(gc.base + "/dashboard/login", allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        return resp.headers["Location"]


async def consent(gc, http, who: str, authorize_url: str) -> str:
    """Click "Authorize as <who>" on the sandbox's consent page; the callback URL."""
    async with http.get(authorize_url) as page:
        assert page.status == 200, await page.text()
        text = await page.text()
    form = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', text))
    form["user_id"] = str(gc[who].id)
    async with http.post(gc.sb.base_url + "/oauth2/authorize", data=form,
                         allow_redirects=False) as resp:
        assert resp.status == 302
        return resp.headers["Location"]


async def login(gc, http, who: str) -> aiohttp.ClientResponse:
    """The whole login; returns the callback's response (302 to /dashboard, cookie set)."""
    callback = await consent(gc, http, who, await start_login(gc, http))
    assert urlsplit(callback).path == "/dashboard/callback"
    async with http.get(callback, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        return resp


async def get(http, url: str) -> tuple[int, str]:
    """GET without following redirects: (status, body)."""
    async with http.get(url, allow_redirects=False) as resp:
        return resp.status, await resp.text()


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)
