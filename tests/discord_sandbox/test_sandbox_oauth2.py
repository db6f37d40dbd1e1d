"""The sandbox's OAuth2 authorization code flow refuses what Discord refuses."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

pytestmark = pytest.mark.timeout(30)

REDIRECT = "http://127.0.0.1:9/dashboard/callback"


def _authorize_query(sb, **overrides) -> dict[str, str]:
    query = {"client_id": str(sb.oauth2.client_id), "response_type": "code",
             "redirect_uri": REDIRECT, "scope": "identify guilds", "state": "s1"}
    query.update(overrides)
    return query


async def _consent(http, sb, user) -> dict[str, list[str]]:
    """Open the consent screen and click "Authorize as <user>"; the redirect's query."""
    user = user.user
    async with http.get(sb.base_url + "/oauth2/authorize", params=_authorize_query(sb)) as page:
        assert page.status == 200
        text = await page.text()
    assert f"Authorize as {user.name}" in text
    form = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', text))
    form["user_id"] = str(user.id)
    async with http.post(sb.base_url + "/oauth2/authorize", data=form,
                         allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


async def _exchange(http, sb, code: str, *, secret: str | None = None,
                    redirect_uri: str = REDIRECT):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": str(sb.oauth2.client_id),
            "client_secret": secret if secret is not None else sb.oauth2.client_secret}
    async with http.post(sb.base_url + "/api/v10/oauth2/token", data=data) as resp:
        return resp.status, await resp.json()


async def test_code_flow_gives_the_user_and_their_guilds(sb, world):
    sb.oauth2.redirect_uris.add(REDIRECT)
    other = sb.create_guild("Elsewhere")
    async with aiohttp.ClientSession() as http:
        query = await _consent(http, sb, world.bob)
        assert query["state"] == ["s1"]
        status, token = await _exchange(http, sb, query["code"][0])
        assert status == 200, token
        assert token["token_type"] == "Bearer" and token["scope"] == "guilds identify"
        assert token["expires_in"] > 0 and token["refresh_token"]
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        async with http.get(sb.base_url + "/api/v10/users/@me", headers=bearer) as resp:
            me = await resp.json()
        assert me["id"] == str(world.bob.id) and me["username"] == "bob"
        assert {"discriminator", "avatar", "global_name", "public_flags", "flags",
                "mfa_enabled", "locale"} <= set(me)
        assert "email" not in me  # no email scope
        async with http.get(sb.base_url + "/api/v10/users/@me/guilds", headers=bearer) as resp:
            guilds = await resp.json()
        assert [g["id"] for g in guilds] == [str(world.guild.id)]  # not "Elsewhere"
        assert other.id not in {int(g["id"]) for g in guilds}
        assert set(guilds[0]) == {"id", "name", "icon", "banner", "owner", "permissions",
                                  "features"}
        assert guilds[0]["owner"] is False and isinstance(guilds[0]["permissions"], str)
        # The bearer token is not a bot token: bot routes refuse it.
        async with http.get(sb.base_url + f"/api/v10/guilds/{world.guild.id}",
                            headers=bearer) as resp:
            assert resp.status == 401


async def test_token_endpoint_refuses_a_wrong_secret_a_reused_code_and_another_redirect(sb, world):
    sb.oauth2.redirect_uris.update({REDIRECT, REDIRECT + "2"})
    async with aiohttp.ClientSession() as http:
        code = (await _consent(http, sb, world.alice))["code"][0]
        status, body = await _exchange(http, sb, code, secret="wrong")
        assert (status, body["error"]) == (401, "invalid_client")
        status, body = await _exchange(http, sb, code, redirect_uri=REDIRECT + "2")
        assert (status, body["error"]) == (400, "invalid_grant")
        status, first = await _exchange(http, sb, code)
        assert status == 200
        status, body = await _exchange(http, sb, code)  # replayed
        assert (status, body["error"]) == (400, "invalid_grant")
        # ... and the replay revoked the token the code gave.
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        async with http.get(sb.base_url + "/api/v10/users/@me", headers=bearer) as resp:
            assert resp.status == 401
        status, body = await _exchange(http, sb, "made-up")
        assert (status, body["error"]) == (400, "invalid_grant")
        # An expired code (10 minutes).
        code = (await _consent(http, sb, world.alice))["code"][0]
        now = sb.clock()
        sb.clock = lambda: now + 601
        status, body = await _exchange(http, sb, code)
        assert (status, body["error"]) == (400, "invalid_grant")
        # JSON is not what the token endpoint takes.
        async with http.post(sb.base_url + "/api/v10/oauth2/token", json={"code": code}) as resp:
            assert resp.status == 400


async def test_authorize_refuses_an_unregistered_redirect_and_cancel_says_access_denied(sb, world):
    sb.oauth2.redirect_uris.add(REDIRECT)
    async with aiohttp.ClientSession() as http:
        bad = _authorize_query(sb, redirect_uri="http://evil.example/cb")
        async with http.get(sb.base_url + "/oauth2/authorize", params=bad,
                            allow_redirects=False) as resp:
            assert resp.status == 400 and "redirect_uri" in await resp.text()
        for wrong in ({"client_id": "1"}, {"response_type": "token"}, {"scope": "bot admin"}):
            async with http.get(sb.base_url + "/oauth2/authorize",
                                params=_authorize_query(sb, **wrong)) as resp:
                assert resp.status == 400, wrong
        form = {**_authorize_query(sb), "deny": "1"}
        async with http.post(sb.base_url + "/oauth2/authorize", data=form,
                             allow_redirects=False) as resp:
            query = parse_qs(urlsplit(resp.headers["Location"]).query)
        assert query["error"] == ["access_denied"] and query["state"] == ["s1"]
        assert "code" not in query


async def test_a_token_without_the_guilds_scope_cannot_list_guilds(sb, world):
    sb.oauth2.redirect_uris.add(REDIRECT)
    code = sb.oauth2.grant(world.bob.user, frozenset({"identify"}), REDIRECT)
    async with aiohttp.ClientSession() as http:
        status, token = await _exchange(http, sb, code)
        assert status == 200
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        async with http.get(sb.base_url + "/api/v10/users/@me/guilds", headers=bearer) as resp:
            assert resp.status == 403
        async with http.get(sb.base_url + "/api/v10/users/@me",
                            headers={"Authorization": "Bearer nope"}) as resp:
            assert resp.status == 401
