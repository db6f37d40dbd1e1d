"""The web dashboard: admins and moderators manage GEMS in a browser (issue 27).

Server-rendered pages (Jinja2, autoescaped) on the bot's aiohttp server (bot/web.py), a small
vendored stylesheet and script, no build step and no third-party CDN. Log in with Discord
(OAuth2 authorization code flow, `bot/dashboard/discord_oauth.py`); signed session cookies, CSRF
tokens and rate limits (`security.py`); who may see a guild's pages is decided from the bot's
own view of the guild at every request (`access.py`); the pages call the services with the
request's `Actor` (`pages.py`). The feature package cogs/dashboard registers the routes when
DASHBOARD_CLIENT_ID / DASHBOARD_CLIENT_SECRET / DASHBOARD_SESSION_SECRET are set.
"""

from bot.dashboard.pages import dashboard_routes

__all__ = ["dashboard_routes"]
