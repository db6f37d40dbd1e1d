"""The dashboard's side of "Log in with Discord": the authorize URL, the code exchange and the
two reads it needs (`users/@me`, `users/@me/guilds`), over aiohttp.

The API base is the one the bot itself talks to (discord.py's `Route.BASE`): discord.com in
production, the sandbox in tests and the demo, so the whole flow runs offline there. The consent
page is on the same host (`https://discord.com/oauth2/authorize`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import discord

log = logging.getLogger(__name__)
SCOPES = "identify guilds"
TIMEOUT = aiohttp.ClientTimeout(total=10)


class OAuthFailed(Exception):
    """Discord refused the exchange or could not be reached (the member logs in again)."""


@dataclass(frozen=True)
class DiscordLogin:
    """Who logged in, as Discord told it."""

    user_id: int
    name: str
    guild_ids: list[int]


def api_base() -> str:
    """Discord's REST base the bot uses (`https://discord.com/api/v10` in production)."""
    return discord.http.Route.BASE.rstrip("/")


def site_base() -> str:
    """Discord's web origin (the consent page), derived from the API base."""
    base = api_base()
    return base[: base.index("/api")] if "/api" in base else base


class DiscordOAuth:
    """The OAuth2 client of the dashboard (the bot's Discord application)."""

    def __init__(self, client_id: int, client_secret: str) -> None:
        self.client_id = client_id
        self._secret = client_secret

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """Where the browser goes to consent (scopes `identify guilds`, the state attached)."""
        query = {"response_type": "code", "client_id": str(self.client_id), "scope": SCOPES,
                 "state": state, "redirect_uri": redirect_uri}
        return f"{site_base()}/oauth2/authorize?{urlencode(query)}"

    async def login(self, code: str, redirect_uri: str) -> DiscordLogin:
        """Exchange the code and read the member and their guilds.

        Raises OAuthFailed when Discord refuses or does not answer.
        """
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        auth = {"Authorization": aiohttp.encode_basic_auth(str(self.client_id), self._secret)}
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                async with http.post(f"{api_base()}/oauth2/token", data=form, headers=auth) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status != 200 or not isinstance(body, dict):
                        raise OAuthFailed(f"token exchange refused ({resp.status})")
                token = body.get("access_token")
                if not isinstance(token, str) or body.get("token_type", "").lower() != "bearer":
                    raise OAuthFailed("no bearer token in the answer")
                scopes = set(str(body.get("scope", "")).split())
                if not {"identify", "guilds"} <= scopes:
                    raise OAuthFailed("the identify and guilds scopes were not granted")
                headers = {"Authorization": f"Bearer {token}"}
                me = await _get(http, "/users/@me", headers)
                guilds = await _get(http, "/users/@me/guilds", headers)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise OAuthFailed(f"Discord could not be reached: {type(error).__name__}") from None
        if not isinstance(me, dict) or not str(me.get("id", "")).isdigit():
            raise OAuthFailed("users/@me answered no user")
        ids = [int(g["id"]) for g in guilds or [] if isinstance(g, dict)
               and str(g.get("id", "")).isdigit()]
        name = str(me.get("global_name") or me.get("username") or "")
        return DiscordLogin(user_id=int(me["id"]), name=name, guild_ids=ids)


async def _get(http: aiohttp.ClientSession, path: str, headers: dict[str, str]):
    async with http.get(f"{api_base()}{path}", headers=headers) as resp:
        if resp.status != 200:
            raise OAuthFailed(f"{path} answered {resp.status}")
        return await resp.json(content_type=None)
