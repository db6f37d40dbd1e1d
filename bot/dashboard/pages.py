"""The dashboard's routes: login, the guild picker and each guild's pages.

Every guild page runs `_enter` first: a live session (signed cookie, stored, not expired or
revoked), the member's access to the guild in the URL from the bot's view of it (at every
request), the page's level (admin, or moderator for the moderation pages), and for a POST the
session's CSRF token and the write rate limit. Only then does a handler call a service, with
the request's Actor. Ids in forms (channels, roles, listings) are read against the guild of the
URL, never taken as given.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from bot.dashboard.access import ADMIN, MODERATOR, Access, access_of
from bot.dashboard.discord_oauth import DiscordOAuth, OAuthFailed
from bot.dashboard.security import (
    CSP,
    SESSION_COOKIE,
    STATE_COOKIE,
    RateLimiter,
    Signer,
    clear_cookie,
    set_cookie,
)
from economy.core.errors import GemsError, InvalidInput, NotPermitted
from economy.core.setting_fields import CHANNEL_TYPES, TEXT, SettingField, form_text, sections
from economy.core.settings import format_value
from economy.dashboard.service import SESSION_TTL, STATE_TTL, Session
from economy.trades.export import csv_safe

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
LOGIN_PER_MINUTE = 10  # per address: logins and callbacks
WRITES_PER_MINUTE = 30  # per member: every POST of a guild page


class Dashboard:
    """The dashboard of one bot process."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        settings = bot.settings
        self.signer = Signer(settings.dashboard_session_secret.get_secret_value())
        self.oauth = DiscordOAuth(settings.dashboard_client_id,
                                  settings.dashboard_client_secret.get_secret_value())
        self.login_limit = RateLimiter(LOGIN_PER_MINUTE, 60)
        self.write_limit = RateLimiter(WRITES_PER_MINUTE, 60)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined)
        self.templates.filters["shown"] = format_value
        self.static = {name: (HERE / "static" / name).read_bytes() for name in STATIC}

    @property
    def services(self) -> Any:
        return self.bot.services

    @property
    def secure(self) -> bool:
        return self.bot.web.public_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        """The callback URL to register in the Discord developer portal."""
        return f"{self.bot.web.public_url}/dashboard/callback"

    def routes(self) -> list[web.RouteDef]:
        """Every dashboard route (registered on the bot's web server)."""
        g = "/dashboard/g/{guild_id:\\d{1,20}}"
        return [
            web.get("/dashboard", self.index),
            web.get("/dashboard/login", self.login),
            web.get("/dashboard/callback", self.callback),
            web.post("/dashboard/logout", self.logout),
            web.get("/dashboard/static/{name}", self.static_file),
            web.get(g, self.overview),
            web.get(g + "/settings/{section}", self.settings_page),
            web.post(g + "/settings/{section}", self.settings_save),
            web.get(g + "/moderation", self.moderation),
            web.post(g + "/moderation/listings/{listing_id:\\d{1,12}}", self.review_listing),
            web.post(g + "/moderation/disputes/{trade_id:\\d{1,12}}", self.resolve_dispute),
            web.get(g + "/members", self.members),
            web.get(g + "/exports", self.exports),
            web.get(g + "/exports/{kind}.csv", self.export_csv),
            web.get(g + "/charts/{view:(economy|engagement|marketplace)}.{fmt:(png|csv)}",
                    self.chart),
        ]

    # --- rendering ------------------------------------------------------------------------
    def page(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        """A rendered page with the dashboard's Content-Security-Policy."""
        context.setdefault("access", None)
        context.setdefault("session", None)
        context.setdefault("csrf", "")
        context.setdefault("notice", "")
        context.setdefault("error", "")
        html = self.templates.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html",
                            headers={"Content-Security-Policy": CSP})

    def problem(self, status: int, message: str, **context: Any) -> web.Response:
        """A friendly error page."""
        return self.page("problem.html", status=status, title="Sorry", message=message,
                         **context)

    async def static_file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.static:
            raise web.HTTPNotFound()
        return web.Response(body=self.static[name], content_type=STATIC[name],
                            headers={"Cache-Control": "public, max-age=3600"})

    # --- sessions -------------------------------------------------------------------------
    async def _session(self, request: web.Request) -> tuple[Session, str] | None:
        token = self.signer.unsign("session", request.cookies.get(SESSION_COOKIE))
        if token is None:
            return None
        found = await self.services.dashboard.session(token)
        return (found, token) if found is not None else None

    async def _enter(self, request: web.Request, level: str) -> tuple[Access, Session, str]:
        """The checks every guild page runs first (see the module docstring)."""
        found = await self._session(request)
        if found is None:
            raise web.HTTPSeeOther("/dashboard")
        session, token = found
        guild_id = int(request.match_info["guild_id"])
        access = await access_of(self.bot, guild_id, session.user_id)
        wanted = access.level if access else None
        if wanted is None or (level == ADMIN and wanted != ADMIN):
            raise _refused(self, "You don't have access to this page of this server.")
        if request.method == "POST":
            form = await request.post()
            if not self.signer.csrf_ok(token, _one(form, "csrf")):
                raise _refused(self, "This form is out of date or was not sent from the "
                                     "dashboard. Reload the page and try again.")
            if not self.write_limit.allow(f"user:{session.user_id}"):
                raise web.HTTPTooManyRequests(text="Too many changes at once; wait a minute.")
        return access, session, token

    def _context(self, access: Access, session: Session, token: str, **extra: Any) -> dict:
        return {"access": access, "session": session, "csrf": self.signer.csrf(token),
                "admin": access.level == ADMIN, **extra}

    # --- logging in and out ---------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        """The login page, or the guild picker once logged in."""
        found = await self._session(request)
        if found is None:
            return self.page("login.html", title="Log in",
                             error=request.query.get("error", "")[:200])
        session, token = found
        guilds = []
        for guild_id in session.guild_ids:
            access = await access_of(self.bot, guild_id, session.user_id)
            if access is not None and access.level is not None:
                guilds.append(access)
        return self.page("picker.html", title="Your servers", session=session, guilds=guilds,
                         csrf=self.signer.csrf(token))

    async def login(self, request: web.Request) -> web.Response:
        """Off to Discord's consent page with a fresh state bound to this browser."""
        if not self.login_limit.allow(f"ip:{request.remote}"):
            return self.problem(429, "Too many logins from here; wait a minute.")
        state = await self.services.dashboard.new_login_state()
        response = web.HTTPFound(self.oauth.authorize_url(state, self.redirect_uri))
        set_cookie(response, STATE_COOKIE, self.signer.sign("state", state),
                   max_age=int(STATE_TTL.total_seconds()), secure=self.secure)
        raise response

    async def callback(self, request: web.Request) -> web.Response:
        """Discord sent the browser back: check the state, exchange the code, open a session."""
        if not self.login_limit.allow(f"ip:{request.remote}"):
            return self.problem(429, "Too many logins from here; wait a minute.")
        browser_state = self.signer.unsign("state", request.cookies.get(STATE_COOKIE))
        try:
            await self.services.dashboard.take_login_state(request.query.get("state", ""),
                                                           browser_state)
        except NotPermitted as exc:
            return self.problem(400, exc.message)
        if "error" in request.query or not request.query.get("code"):
            return self.problem(400, "The login was cancelled on Discord.")
        try:
            login = await self.oauth.login(request.query["code"], self.redirect_uri)
        except OAuthFailed as exc:
            log.warning("dashboard login failed: %s", exc)
            return self.problem(502, "Discord did not confirm the login. Try again.")
        token = await self.services.dashboard.open_session(login.user_id, login.name,
                                                           login.guild_ids)
        response = web.HTTPFound("/dashboard")
        set_cookie(response, SESSION_COOKIE, self.signer.sign("session", token),
                   max_age=int(SESSION_TTL.total_seconds()), secure=self.secure)
        clear_cookie(response, STATE_COOKIE)
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        """End this browser's session (a form with the session's CSRF token)."""
        found = await self._session(request)
        if found is not None:
            form = await request.post()
            if not self.signer.csrf_ok(found[1], _one(form, "csrf")):
                return self.problem(403, "This form is out of date. Reload the page.")
            await self.services.dashboard.close_session(found[1])
        response = web.HTTPSeeOther("/dashboard")
        clear_cookie(response, SESSION_COOKIE)
        raise response

    # --- overview -------------------------------------------------------------------------
    async def overview(self, request: web.Request) -> web.Response:
        """The guild's health numbers (admins)."""
        access, session, token = await self._enter(request, ADMIN)
        health = await self.services.dashboard.health(access.guild.id, access.actor)
        trail = await self.services.dashboard.audit_trail(access.guild.id, access.actor)
        charts, charts_note = await self._charts(access)
        return self.page("overview.html", title="Overview", health=health, charts=charts,
                         charts_note=charts_note,
                         trail=[dict(row, who=_name(access, row.get("actor_id"))) for row in trail],
                         **self._context(access, session, token))

    async def _charts(self, access: Access) -> tuple[list[tuple[str, Any]], str]:
        """The insights reports of the last CHART_DAYS days (views with their key numbers), or
        why there are none (insights off, no rollup yet)."""
        charts: list[tuple[str, Any]] = []
        for view in CHART_VIEWS:
            try:
                charts.append((view, await self.services.insights.staff_stats(
                    access.guild.id, access.actor, view, CHART_DAYS)))
            except GemsError as exc:
                return [], exc.message
        return charts, ""

    async def chart(self, request: web.Request) -> web.Response:
        """One insights view as a PNG chart (for the overview) or its CSV (admins)."""
        access, _, _ = await self._enter(request, ADMIN)
        view, fmt = request.match_info["view"], request.match_info["fmt"]
        try:
            report = await self.services.insights.staff_stats(access.guild.id, access.actor,
                                                              view, CHART_DAYS)
        except GemsError as exc:
            raise web.HTTPNotFound(text=exc.message) from None
        if fmt == "png":
            return web.Response(body=report.png, content_type="image/png",
                                headers={"Cache-Control": "private, max-age=300",
                                         "Content-Security-Policy": CSP})
        await self.services.dashboard.record(access.guild.id, access.actor, "dashboard.export",
                                             f"export:{view}-stats")
        return web.Response(
            text=report.csv, content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{report.filename}"',
                     "Content-Security-Policy": CSP})

    # --- settings -------------------------------------------------------------------------
    def _sections(self, access: Access) -> list[tuple[str, str]]:
        off = set(access.settings.disabled_features)
        return [(name, title) for name, (title, _) in sections().items()
                if name == "core" or name not in off]

    async def settings_page(self, request: web.Request) -> web.Response:
        """One section's settings as a form (admins)."""
        access, session, token = await self._enter(request, ADMIN)
        return await self._settings_view(request, access, session, token)

    async def _settings_view(self, request: web.Request, access: Access, session: Session,
                             token: str, *, error: str = "", status: int = 200) -> web.Response:
        section = request.match_info["section"]
        enabled = dict(self._sections(access))
        if section not in enabled:
            return self.problem(404, "There is no such settings page (a switched-off feature "
                                     "has none).", **self._context(access, session, token))
        settings = await self.services.settings.get(access.guild.id)
        fields = [_field_view(f, getattr(settings, f.key), access) for f in sections()[section][1]]
        history = await self.services.settings.history(access.guild.id)
        keys = {f.key for f in sections()[section][1]}  # a crafted link shows nothing else
        saved = [k for k in request.query.get("saved", "").split(",") if k in keys]
        notice = ("Saved: " + ", ".join(saved)) if saved else (
            "No change." if "saved" in request.query else "")
        return self.page("settings.html", status=status, title=enabled[section],
                         section=section, sections=self._sections(access), fields=fields,
                         history=[dict(row, who=_name(access, row.get("actor_id")))
                                  for row in history],
                         notice=notice, error=error, **self._context(access, session, token))

    async def settings_save(self, request: web.Request) -> web.Response:
        """Save a section's form through the settings service (admins, CSRF, rate limit)."""
        access, session, token = await self._enter(request, ADMIN)
        section = request.match_info["section"]
        if section not in dict(self._sections(access)):
            raise web.HTTPNotFound()
        form = await request.post()
        settings = await self.services.settings.get(access.guild.id)
        try:
            changes = _changes(form, sections()[section][1], settings, access)
            done = await self.services.dashboard.change_settings(access.guild.id, access.actor,
                                                                 changes)
        except GemsError as exc:
            return await self._settings_view(request, access, session, token, error=exc.message,
                                             status=400)
        raise web.HTTPSeeOther(f"/dashboard/g/{access.guild.id}/settings/{section}?saved="
                               + ",".join(c.key for c in done))

    # --- moderation -----------------------------------------------------------------------
    async def moderation(self, request: web.Request) -> web.Response:
        """Listings awaiting approval and open disputes (moderators and admins)."""
        access, session, token = await self._enter(request, MODERATOR)
        return await self._moderation_view(request, access, session, token)

    async def _moderation_view(self, request: web.Request, access: Access, session: Session,
                               token: str, *, error: str = "", status: int = 200) -> web.Response:
        notice = request.query.get("done", "")[:200]
        pending = await self.services.dashboard.pending_listings(access.guild.id, access.actor)
        disputes = await self.services.disputes.find(access.guild.id, access.actor, "open")
        flags = await self.services.dashboard.recent_flags(access.guild.id, access.actor)
        return self.page("moderation.html", status=status, title="Moderation",
                         pending=[(item, _name(access, item.seller_id)) for item in pending],
                         disputes=[(t, _name(access, t.buyer_id), _name(access, t.seller_id))
                                   for t in disputes],
                         flags=[(flag, _name(access, flag.user_id)) for flag in flags],
                         error=error, notice=notice, **self._context(access, session, token))

    async def review_listing(self, request: web.Request) -> web.Response:
        """Approve or reject a pending listing, as the queue's buttons do."""
        access, session, token = await self._enter(request, MODERATOR)
        form = await request.post()
        listing_id = int(request.match_info["listing_id"])
        guild_id = access.guild.id
        try:
            if _one(form, "action") == "approve":
                result = await self.services.dashboard.approve_listing(guild_id, access.actor,
                                                                       listing_id)
                await self._hand_over("market-reviewed", guild_id, result)
                done = f"Listing #{listing_id} approved."
            elif _one(form, "action") == "reject":
                notice = await self.services.dashboard.reject_listing(
                    guild_id, access.actor, listing_id, _one(form, "reason") or "")
                await self._hand_over("market-dm", guild_id, notice)
                done = f"Listing #{listing_id} rejected."
            else:
                raise InvalidInput("Approve or reject?")
        except GemsError as exc:
            return await self._moderation_view(request, access, session, token,
                                               error=exc.message, status=400)
        raise web.HTTPSeeOther(f"/dashboard/g/{guild_id}/moderation?{urlencode({'done': done})}")

    async def resolve_dispute(self, request: web.Request) -> web.Response:
        """Settle an open dispute, as `/trades-admin dispute resolve` does; the trade room and
        both sides are told by the trades feature."""
        access, session, token = await self._enter(request, MODERATOR)
        form = await request.post()
        trade_id = int(request.match_info["trade_id"])
        guild_id = access.guild.id
        outcome = _one(form, "outcome") or ""
        raw_percent = (_one(form, "percent") or "").strip()
        note = (_one(form, "note") or "").strip() or None
        try:
            if raw_percent and not raw_percent.isdigit():
                raise InvalidInput("The seller's share is a whole percent from 0 to 100.")
            percent = int(raw_percent) if raw_percent and outcome == "split" else None
            result = await self.services.dashboard.resolve_dispute(
                guild_id, access.actor, trade_id, outcome, percent=percent, note=note)
        except GemsError as exc:
            return await self._moderation_view(request, access, session, token,
                                               error=exc.message, status=400)
        await self._hand_over("trade-resolved", guild_id, result.trade)
        done = f"Trade #{trade_id} resolved: {outcome}."
        raise web.HTTPSeeOther(f"/dashboard/g/{guild_id}/moderation?{urlencode({'done': done})}")

    async def _hand_over(self, kind: str, guild_id: int, notice: Any) -> None:
        """The announcement and DMs the Discord buttons send, through the marketplace's guild
        work (the process that owns the guild's shard sends them)."""
        if kind not in self.bot.guild_work.routes:
            return
        try:
            await self.bot.guild_work.hand_over(kind, guild_id, notice)
        except Exception:  # the review is stored; a failed announcement must not undo the page
            log.exception("dashboard: could not hand over %s in guild %s", kind, guild_id)

    # --- members --------------------------------------------------------------------------
    async def members(self, request: web.Request) -> web.Response:
        """Look a member up: balance, ledger, trades, disputes, flags, wallets (admins)."""
        access, session, token = await self._enter(request, ADMIN)
        query = request.query.get("q", "").strip()[:100]
        matches, review, error = [], None, ""
        if query:
            matches = _find_members(access, query)
            if len(matches) == 1:
                try:
                    review = await self.services.member_review.review(
                        access.guild.id, access.actor, matches[0].id)
                except GemsError as exc:
                    error = exc.message
            elif not matches:
                error = "No member of this server matches that."
        return self.page("members.html", title="Members", query=query, matches=matches[:20],
                         review=review, error=error,
                         name=lambda user_id: _name(access, user_id),
                         **self._context(access, session, token))

    # --- exports --------------------------------------------------------------------------
    async def exports(self, request: web.Request) -> web.Response:
        """The CSV downloads (admins)."""
        access, session, token = await self._enter(request, ADMIN)
        return self.page("exports.html", title="Exports", **self._context(access, session, token))

    async def export_csv(self, request: web.Request) -> web.Response:
        """A CSV download, formula-injection safe, recorded in the audit log."""
        access, _, _ = await self._enter(request, ADMIN)
        kind = request.match_info["kind"]
        guild_id = access.guild.id
        if kind == "trades":
            text = await self.services.trade_export.to_csv(guild_id, access.actor)
        elif kind == "balances":
            text = await self._balances_csv(access)
        else:
            raise web.HTTPNotFound()
        await self.services.dashboard.record(guild_id, access.actor, "dashboard.export",
                                             f"export:{kind}")
        return web.Response(
            text=text, content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{kind}-{guild_id}.csv"',
                     "Content-Security-Policy": CSP})

    async def _balances_csv(self, access: Access) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["rank", "user_id", "name", "balance"])
        page = 1
        while True:
            found = await self.services.ledger.leaderboard(access.guild.id, page=page,
                                                           page_size=500)
            for rank, user_id, balance in found.rows:
                writer.writerow([rank, user_id, csv_safe(_name(access, user_id)), balance])
            if page * 500 >= found.total or not found.rows:
                return out.getvalue()
            page += 1


#: The insights views the overview charts, and over how many days.
CHART_VIEWS = ("economy", "engagement", "marketplace")
CHART_DAYS = 30


def dashboard_routes(bot: Any) -> list[web.RouteDef]:
    """The dashboard's routes for `bot` (its settings must enable the dashboard)."""
    return Dashboard(bot).routes()


# --- helpers ------------------------------------------------------------------------------
def _refused(dashboard: Dashboard, message: str) -> web.HTTPForbidden:
    response = dashboard.problem(403, message)
    return web.HTTPForbidden(text=response.text, content_type="text/html",
                             headers={"Content-Security-Policy": CSP})


def _one(form: Any, key: str) -> str | None:
    value = form.get(key)
    return value if isinstance(value, str) else None


def _name(access: Access, user_id: Any) -> str:
    if not isinstance(user_id, int):
        return "—"
    member = access.guild.get_member(user_id)
    return member.display_name if member is not None else f"member {user_id}"


def _find_members(access: Access, query: str) -> list[Any]:
    if query.isdigit():
        member = access.guild.get_member(int(query))
        return [member] if member is not None else []
    needle = query.lower()
    exact = [m for m in access.guild.members if needle in (m.name.lower(),
                                                           m.display_name.lower())]
    if exact:
        return exact
    return [m for m in access.guild.members
            if needle in m.name.lower() or needle in m.display_name.lower()]


def _channels(access: Access, key: str) -> list[Any]:
    kinds = CHANNEL_TYPES.get(key, (TEXT,))
    return [c for c in access.guild.channels if c.type.value in kinds]


def _field_view(f: SettingField, value: Any, access: Access) -> dict[str, Any]:
    """What the template needs to draw one setting's control."""
    chosen: set[str]
    if isinstance(value, list):
        chosen = {str(v) for v in value}
    elif isinstance(value, bool):
        chosen = {"on" if value else "off"}
    else:
        chosen = {str(value)} if value is not None else set()
    options: list[tuple[str, str]] = list(f.options)
    if f.kind in ("channel", "channels"):
        options = [(str(c.id), f"#{c.name}") for c in _channels(access, f.key)]
    elif f.kind in ("role", "roles"):
        options = [(str(r.id), r.name) for r in reversed(access.guild.roles)
                   if not r.is_default() and not r.managed]
    return {"key": f.key, "kind": f.kind, "label": f.label, "description": f.description,
            "options": options, "chosen": chosen, "text": form_text(f.key, value),
            "multiple": f.kind in ("channels", "roles", "choices"),
            "optional": f.kind in ("channel", "role")}


def _changes(form: Any, fields: tuple[SettingField, ...], settings: Any,
             access: Access) -> dict[str, str]:
    """The section form as `/settings set` text per key; ids must be the guild's own."""
    changes: dict[str, str] = {}
    for f in fields:
        if f.kind in ("channels", "roles", "choices"):
            values = [v for v in form.getall(f.key, []) if isinstance(v, str)]
        else:
            value = _one(form, f.key)
            if value is None:
                continue
            values = [value]
        if f.kind in ("channel", "channels", "role", "roles"):
            allowed = {str(c.id) for c in _channels(access, f.key)} if "channel" in f.kind \
                else {str(r.id) for r in access.guild.roles if not r.is_default()}
            picked = [v for v in values if v]
            if any(v not in allowed for v in picked):
                raise InvalidInput(f"{f.label}: pick one of this server's "
                                   f"{'channels' if 'channel' in f.kind else 'roles'}.")
            changes[f.key] = " ".join(picked) or "none"
        elif f.kind in ("bool", "choice", "choices"):
            allowed = {option for option, _ in f.options}
            if any(v not in allowed for v in values):
                raise InvalidInput(f"{f.label}: pick one of the choices.")
            if f.kind == "choices":
                changes[f.key] = ", ".join(values) or "none"
            else:
                changes[f.key] = values[0]
        else:
            if values[0] == form_text(f.key, getattr(settings, f.key)):
                continue  # untouched line: not a change (an empty optional text stays unset)
            changes[f.key] = values[0]
    return changes
