"""Cookies, CSRF tokens, rate limits and the Content-Security-Policy of the dashboard.

The session cookie carries the session's random token and an HMAC of it (DASHBOARD_SESSION_SECRET),
so a cookie not made by this bot is refused before the store is asked; the store keeps only the
token's SHA-256. The CSRF token of a form is an HMAC of the session token: tied to the session,
unguessable without the secret, and nothing to store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import deque

from aiohttp import web

SESSION_COOKIE = "gems_session"
STATE_COOKIE = "gems_login"
COOKIE_PATH = "/dashboard"
#: Same-origin styles, scripts and forms only; no framing, no plugins, no inline script.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class Signer:
    """HMAC-SHA256 signatures under the session secret, one purpose per use."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _mac(self, purpose: str, value: str) -> str:
        digest = hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, purpose: str, value: str) -> str:
        """`value.signature` for a cookie."""
        return f"{value}.{self._mac(purpose, value)}"

    def unsign(self, purpose: str, signed: str | None) -> str | None:
        """The value of a signed string, or None when the signature does not match."""
        if not signed or "." not in signed:
            return None
        value, _, mac = signed.rpartition(".")
        if not value or not hmac.compare_digest(mac, self._mac(purpose, value)):
            return None
        return value

    def csrf(self, session_token: str) -> str:
        """The CSRF token of a session's forms."""
        return self._mac("csrf", session_token)

    def csrf_ok(self, session_token: str, given: str | None) -> bool:
        """True when `given` is this session's CSRF token."""
        return bool(given) and hmac.compare_digest(str(given), self.csrf(session_token))


class RateLimiter:
    """At most `limit` events per `window` seconds per key (a sliding window, this process)."""

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count an event for `key`; False when it is over the limit (not counted then)."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 10_000:  # forget idle keys so the map stays small
            for idle in [k for k, v in self._events.items() if not v]:
                del self._events[idle]
        return True


def set_cookie(response: web.StreamResponse, name: str, value: str, *, max_age: int,
               secure: bool) -> None:
    """A HttpOnly, SameSite=Lax cookie for the dashboard's paths (Secure behind HTTPS)."""
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True,
                        samesite="Lax", secure=secure)


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    """Remove a dashboard cookie."""
    response.del_cookie(name, path=COOKIE_PATH)
