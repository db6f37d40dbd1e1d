"""A local stand-in for the few Stripe API endpoints GEMS calls (tests and the offline demo).

The real `stripe` library talks to it (StripeClient pointed at its address), so requests are
form-encoded exactly as the library sends them. It implements Checkout Sessions (create, retrieve,
expire), Refunds, Transfers, Accounts and Account Links, honours `Idempotency-Key` like Stripe
(same key + same parameters -> the first response; different parameters -> 400) and records
every call for assertions. It also plays Stripe's side of webhooks: `complete()`/`expire()`
change a session and return the event Stripe would send, `signed()` signs a payload exactly as
Stripe does (`t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`), `deliver()` posts it.

Nothing here is used by the bot itself; only STRIPE_API_BASE points the bot at it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) -> nested dicts; numeric keys become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        parts = [head, *_BRACKETS.findall(key[len(head):])]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends with a webhook payload."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class Call:
    """One API request the double answered."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    status: int


@dataclass
class StripeDouble:
    """The API double; use as `async with StripeDouble(secret_key) as double: double.url`."""

    secret_key: str = "sk_test_gemsdouble0000000000"
    calls: list[Call] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)
    refunds: list[dict] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)
    accounts: dict[str, dict] = field(default_factory=dict)
    #: Make the next N requests fail with a 500 (to test retries and pending payouts).
    fail_next: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._idempotent: dict[str, tuple[dict, int, dict]] = {}
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> StripeDouble:
        app = web.Application()
        app.router.add_route("*", "/v1/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests look at -----------------------------------------------------------------
    def calls_to(self, method: str, prefix: str) -> list[Call]:
        """Successful and failed calls with this method whose path starts with `prefix`."""
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    # --- Stripe's side of a payment ---------------------------------------------------------
    def complete(self, session_id: str) -> dict:
        """The customer pays: the session completes; returns the `completed` event."""
        session = self.sessions[session_id]
        if session["status"] == "open":
            n = next(self._ids)
            session.update(status="complete", payment_status="paid",
                           payment_intent=f"pi_{n:014d}")
            session["_charge"] = f"ch_{n:014d}"
        return self.event("checkout.session.completed", session)

    def expire(self, session_id: str) -> dict:
        """The session times out; returns the `expired` event."""
        session = self.sessions[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
        return self.event("checkout.session.expired", session)

    def charge_event(self, kind: str, session_id: str, **extra: Any) -> dict:
        """`charge.refunded` or `charge.dispute.created` for a paid session's charge."""
        session = self.sessions[session_id]
        if kind == "charge.dispute.created":
            obj = {"id": f"dp_{next(self._ids):014d}", "object": "dispute",
                   "charge": session["_charge"], "payment_intent": session["payment_intent"],
                   "amount": session["amount_total"], "currency": session["currency"],
                   "reason": extra.get("reason", "fraudulent"), "status": "needs_response"}
        else:
            obj = {"id": session["_charge"], "object": "charge",
                   "payment_intent": session["payment_intent"],
                   "amount": session["amount_total"], "currency": session["currency"],
                   "amount_refunded": extra.get("amount_refunded", session["amount_total"]),
                   "refunded": True, "metadata": session["metadata"]}
        return self.event(kind, obj)

    def event(self, kind: str, obj: dict) -> dict:
        """A Stripe event wrapping `obj` (a fresh event id each time)."""
        public = {k: v for k, v in obj.items() if not k.startswith("_")}
        return {"id": f"evt_{next(self._ids):014d}", "object": "event", "type": kind,
                "api_version": "2025-01-01", "created": int(time.time()), "livemode": False,
                "data": {"object": public}}

    @staticmethod
    def signed(event: dict | str, secret: str, timestamp: int | None = None) -> tuple[str, str]:
        """(body, Stripe-Signature header) for an event, signed like Stripe signs it."""
        body = event if isinstance(event, str) else json.dumps(event)
        return body, sign_payload(body, secret, timestamp)

    async def deliver(self, url: str, event: dict | str, secret: str, *,
                      timestamp: int | None = None, signature: str | None = None) -> tuple[int, str]:
        """POST a webhook to the bot like Stripe does; returns (status, body)."""
        body, header = self.signed(event, secret, timestamp)
        async with aiohttp.ClientSession() as http, http.post(
            url, data=body.encode(), headers={"Stripe-Signature": signature or header,
                                              "Content-Type": "application/json"}) as resp:
            return resp.status, await resp.text()

    # --- the API ----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        path = "/v1/" + request.match_info["path"]
        params = decode_form(list((await request.post()).items())) if request.method == "POST" \
            else decode_form(list(request.query.items()))
        key = request.headers.get("Idempotency-Key")
        if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
            body, status = _error("Invalid API Key provided.", "authentication_error"), 401
        elif self.fail_next > 0:
            self.fail_next -= 1
            body, status = _error("Something went wrong on Stripe's end.", "api_error"), 500
        elif key and key in self._idempotent:
            first_params, status, body = self._idempotent[key]
            if first_params != params:
                body, status = _error("Keys for idempotent requests can only be used with the "
                                      "same parameters they were first used with.",
                                      "idempotency_error"), 400
        else:
            body, status = self._route(request.method, path, params)
            if key and status < 500:
                self._idempotent[key] = (params, status, body)
        self.calls.append(Call(request.method, path, params, key, status))
        headers = {"Request-Id": f"req_{next(self._ids)}"}
        if key:
            headers["Idempotency-Key"] = key
        return web.json_response(body, status=status, headers=headers)

    def _route(self, method: str, path: str, p: dict[str, Any]) -> tuple[dict, int]:
        parts = path.strip("/").split("/")[1:]
        if method == "POST" and parts == ["checkout", "sessions"]:
            return self._create_session(p), 200
        if parts[:2] == ["checkout", "sessions"] and len(parts) >= 3:
            session = self.sessions.get(parts[2])
            if session is None:
                return _error(f"No such checkout.session: '{parts[2]}'", code="resource_missing"), 404
            if method == "POST" and parts[3:] == ["expire"]:
                if session["status"] != "open":
                    return _error("Only Checkout Sessions with a status in [\"open\"] can be "
                                  "expired.", code="checkout_session_not_open"), 400
                session["status"] = "expired"
            return _public(session), 200
        if method == "POST" and parts == ["refunds"]:
            return self._refund(p)
        if method == "POST" and parts == ["transfers"]:
            return self._transfer(p)
        if method == "POST" and parts == ["accounts"]:
            account = {"id": f"acct_{next(self._ids):016d}", "object": "account",
                       "type": p.get("type", "express"), "details_submitted": False,
                       "charges_enabled": False, "payouts_enabled": False,
                       "metadata": p.get("metadata", {})}
            self.accounts[account["id"]] = account
            return account, 200
        if parts[:1] == ["accounts"] and len(parts) == 2:
            account = self.accounts.get(parts[1])
            if account is None:
                return _error(f"No such account: '{parts[1]}'", code="resource_missing"), 404
            return account, 200
        if method == "POST" and parts == ["account_links"]:
            if p.get("account") not in self.accounts:
                return _error("No such account", code="resource_missing"), 400
            return {"object": "account_link", "created": int(time.time()),
                    "expires_at": int(time.time()) + 300,
                    "url": f"{self.url}/onboard/{p['account']}"}, 200
        return _error(f"Unrecognized request URL ({method}: {path}).", code="not_found"), 404

    def _create_session(self, p: dict[str, Any]) -> dict:
        items = p.get("line_items") or []
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1))
                    for i in items)
        currency = items[0]["price_data"]["currency"] if items else "usd"
        sid = f"cs_test_{next(self._ids):024d}"
        session = {
            "id": sid, "object": "checkout.session", "mode": p.get("mode"),
            "status": "open", "payment_status": "unpaid", "amount_total": total,
            "currency": currency, "metadata": p.get("metadata", {}),
            "client_reference_id": p.get("client_reference_id"),
            "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
            "expires_at": int(p.get("expires_at") or time.time() + 86_400),
            "payment_intent": None, "url": f"{self.url}/pay/{sid}",
            "line_items_sent": items,
            "payment_intent_data": p.get("payment_intent_data", {}),
        }
        self.sessions[sid] = session
        return _public(session)

    def _refund(self, p: dict[str, Any]) -> tuple[dict, int]:
        intent = p.get("payment_intent")
        paid = [s for s in self.sessions.values() if s.get("payment_intent") == intent]
        if not paid:
            return _error(f"No such payment_intent: '{intent}'", code="resource_missing"), 400
        amount = int(p.get("amount") or paid[0]["amount_total"])
        already = sum(r["amount"] for r in self.refunds if r["payment_intent"] == intent)
        if already + amount > paid[0]["amount_total"]:
            return _error("Refund amount is greater than the unrefunded amount.",
                          code="charge_already_refunded"), 400
        refund = {"id": f"re_{next(self._ids):014d}", "object": "refund", "amount": amount,
                  "payment_intent": intent, "status": "succeeded",
                  "currency": paid[0]["currency"], "metadata": p.get("metadata", {})}
        self.refunds.append(refund)
        return refund, 200

    def _transfer(self, p: dict[str, Any]) -> tuple[dict, int]:
        if p.get("destination") not in self.accounts:
            return _error("No such destination account", code="resource_missing"), 400
        transfer = {"id": f"tr_{next(self._ids):014d}", "object": "transfer",
                    "amount": int(p["amount"]), "currency": p.get("currency"),
                    "destination": p["destination"], "transfer_group": p.get("transfer_group"),
                    "source_transaction": p.get("source_transaction"),
                    "metadata": p.get("metadata", {})}
        self.transfers.append(transfer)
        return transfer, 200

    def onboard(self, account_id: str) -> None:
        """The seller finishes Stripe's onboarding form."""
        self.accounts[account_id].update(details_submitted=True, charges_enabled=True,
                                         payouts_enabled=True)


def _public(session: dict) -> dict:
    return {k: v for k, v in session.items()
            if not k.startswith("_") and k not in ("line_items_sent", "payment_intent_data")}


def _error(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict:
    return {"error": {"type": kind, "message": message, "code": code}}
