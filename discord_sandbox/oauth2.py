"""Discord's OAuth2 authorization code flow, as a web dashboard uses it ("Log in with Discord").

- ``GET /oauth2/authorize`` (``discord.com/oauth2/authorize``): Discord's consent screen. The
  sandbox shows one "Authorize as <name>" button per human user, so a test (or a browser) picks
  who consents, and a "Cancel" button (Discord redirects with ``error=access_denied``). An
  unknown ``client_id``, a ``redirect_uri`` that is not registered, a ``response_type`` other than
  ``code`` or an unknown scope get an error page and no redirect, as on Discord.
- ``POST /api/v10/oauth2/token`` (form-encoded): ``grant_type=authorization_code`` with the
  ``code`` and the same ``redirect_uri``; the client authenticates with HTTP Basic or
  ``client_id``/``client_secret`` form fields. A wrong secret is ``401 invalid_client``; an
  unknown, expired (10 minutes) or already used code, or another ``redirect_uri``, is
  ``400 invalid_grant`` (RFC 6749 §5.2, which Discord follows). A code used twice also revokes
  the tokens it gave (RFC 6749 §4.1.2).
- ``GET /api/v10/users/@me`` and ``GET /api/v10/users/@me/guilds`` with ``Authorization: Bearer``:
  the user (``identify``) and their guilds (``guilds``: ``MyGuildResponse``: id, name, icon,
  banner, owner, permissions as a string, features). A missing scope is ``403``; an unknown or
  expired token ``401``.

Register the dashboard's redirect URI first (``sb.oauth2.redirect_uris.add(url)``), as an app
registers it in the developer portal; the client id is the application id and the secret is
``sb.oauth2.client_secret``.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .state import User
from .world import DiscordError, World

#: Scopes the sandbox grants (a dashboard needs only these two).
SCOPES = frozenset({"identify", "guilds", "email"})
CODE_TTL = 600.0  # Discord's authorization codes live 10 minutes
TOKEN_TTL = 604_800.0  # access tokens: 7 days (``expires_in``)


@dataclass
class Grant:
    """One authorization code."""

    user_id: int
    scopes: frozenset[str]
    redirect_uri: str
    expires: float
    used: bool = False
    tokens: list[str] = field(default_factory=list)


@dataclass
class Token:
    """One bearer token."""

    user_id: int
    scopes: frozenset[str]
    expires: float


def _error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _unauthorized() -> web.Response:
    return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)


class OAuth2:
    """The OAuth2 side of the emulator over a :class:`World`."""

    def __init__(self, world: World, application_id: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.world = world
        self.client_id = application_id
        self.client_secret = secrets.token_urlsafe(24)
        #: Redirect URIs registered for the application (exact match, as Discord compares).
        self.redirect_uris: set[str] = set()
        self.clock = clock
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Token] = {}

    # -- the consent screen ----------------------------------------------------------------

    def _check_request(self, params: Any) -> tuple[str, frozenset[str]] | str:
        """(redirect_uri, scopes) of a valid authorize request, else the error text."""
        if params.get("client_id") != str(self.client_id):
            return "Unknown application (invalid client_id)."
        if params.get("response_type") != "code":
            return "Unsupported response_type (only code)."
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return "Invalid OAuth2 redirect_uri."
        scopes = frozenset(params.get("scope", "").split())
        if not scopes or not scopes <= SCOPES:
            return "Invalid scope."
        return redirect_uri, scopes

    async def authorize_page(self, request: web.Request) -> web.Response:
        """``GET /oauth2/authorize``: the consent screen (one button per human user)."""
        checked = self._check_request(request.query)
        if isinstance(checked, str):
            return _page(checked, status=400)
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(request.query.get(k, ""))}">'
            for k in ("client_id", "response_type", "redirect_uri", "scope", "state"))
        users = [u for u in self.world.users.values() if not u.bot]
        buttons = "".join(
            f'<button name="user_id" value="{u.id}">Authorize as {html.escape(u.name)}</button>'
            for u in users)
        body = (f"<h1>An application wants to access your account</h1>"
                f"<p>Scopes: {html.escape(' '.join(sorted(checked[1])))}</p>"
                f'<form method="post" action="/oauth2/authorize">{hidden}{buttons}'
                f'<button name="deny" value="1">Cancel</button></form>')
        return _page(body)

    async def authorize_submit(self, request: web.Request) -> web.Response:
        """``POST /oauth2/authorize``: consent (or cancel), then the redirect back."""
        form = await request.post()
        checked = self._check_request(form)
        if isinstance(checked, str):
            return _page(checked, status=400)
        redirect_uri, scopes = checked
        state = form.get("state")
        extra = {"state": state} if isinstance(state, str) and state else {}
        if form.get("deny"):
            query = {"error": "access_denied",
                     "error_description": "The resource owner or authorization server denied the request",
                     **extra}
            raise web.HTTPFound(_with_query(redirect_uri, query))
        try:
            user = self.world.user(int(str(form.get("user_id", ""))))
        except (ValueError, DiscordError):
            return _page("Pick who consents.", status=400)
        code = self.grant(user, scopes, redirect_uri)
        raise web.HTTPFound(_with_query(redirect_uri, {"code": code, **extra}))

    def grant(self, user: User, scopes: frozenset[str], redirect_uri: str) -> str:
        """Issue an authorization code (what a consent does; tests may call it directly)."""
        code = secrets.token_urlsafe(24)
        self.codes[code] = Grant(user.id, scopes, redirect_uri, self.clock() + CODE_TTL)
        return code

    # -- the token endpoint ----------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        """``POST /api/v10/oauth2/token``: exchange a code for a bearer token."""
        if request.content_type != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "Send application/x-www-form-urlencoded.")
        form = await request.post()
        client_id, secret = _basic(request.headers.get("Authorization", ""))
        if client_id is None:
            client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if client_id != str(self.client_id) or not secrets.compare_digest(
                secret or "", self.client_secret):
            return _error(401, "invalid_client", "Invalid client")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "Unsupported grant type")
        grant = self.codes.get(str(form.get("code", "")))
        if grant is None or grant.expires < self.clock():
            return _error(400, "invalid_grant", 'Invalid "code" in request.')
        if grant.used:  # a replayed code: refuse it and revoke what it gave
            for issued in grant.tokens:
                self.tokens.pop(issued, None)
            return _error(400, "invalid_grant", 'Invalid "code" in request.')
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "invalid_grant", 'Invalid "redirect_uri" in request.')
        grant.used = True
        access = secrets.token_urlsafe(24)
        self.tokens[access] = Token(grant.user_id, grant.scopes, self.clock() + TOKEN_TTL)
        grant.tokens.append(access)
        return web.json_response({
            "access_token": access, "token_type": "Bearer", "expires_in": int(TOKEN_TTL),
            "refresh_token": secrets.token_urlsafe(24), "scope": " ".join(sorted(grant.scopes)),
        })

    # -- the user's own endpoints ----------------------------------------------------------

    def bearer(self, request: web.Request) -> Token | None:
        """The live token of a ``Bearer`` request, else None."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        found = self.tokens.get(auth.removeprefix("Bearer "))
        if found is None or found.expires < self.clock():
            return None
        return found

    async def handle(self, request: web.Request, rel: str) -> web.Response:
        """A request made with a bearer token (or to the token endpoint)."""
        if rel == "/oauth2/token" and request.method == "POST":
            return await self.token(request)
        found = self.bearer(request)
        if found is None:
            return _unauthorized()
        if request.method == "GET" and rel == "/users/@me":
            if "identify" not in found.scopes:
                return web.json_response({"message": "Missing Access", "code": 50001}, status=403)
            return web.json_response(self._me(found))
        if request.method == "GET" and rel == "/users/@me/guilds":
            if "guilds" not in found.scopes:
                return web.json_response({"message": "Missing Access", "code": 50001}, status=403)
            return web.json_response(self._guilds(found.user_id))
        # Every other route needs a bot token (or a scope the sandbox does not grant).
        return _unauthorized()

    def _me(self, found: Token) -> dict[str, Any]:
        user = self.world.user(found.user_id)
        data = user.payload()
        data.update(flags=0, mfa_enabled=False, locale="en-US", banner=None, accent_color=None)
        if "email" in found.scopes:
            data.update(email=f"{user.name}@example.invalid", verified=True)
        return data

    def _guilds(self, user_id: int) -> list[dict[str, Any]]:
        found = []
        for guild in sorted(self.world.guilds.values(), key=lambda g: g.id):
            member = guild.members.get(user_id)
            if member is None:
                continue
            found.append({"id": str(guild.id), "name": guild.name, "icon": None, "banner": None,
                          "owner": guild.owner_id == user_id,
                          "permissions": str(guild.base_permissions(member)), "features": []})
        return found


def _basic(header: str) -> tuple[str | None, str | None]:
    if not header.startswith("Basic "):
        return None, None
    try:
        raw = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = raw.partition(":")
    return client_id, secret


def _with_query(url: str, query: dict[str, Any]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def _page(body: str, status: int = 200) -> web.Response:
    text = (f"<!doctype html><html><head><meta charset=utf-8><title>Discord</title>"
            '<link rel="icon" href="data:,"></head>'
            f"<body>{body}</body></html>")
    return web.Response(text=text, status=status, content_type="text/html")
