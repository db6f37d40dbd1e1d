"""A local stand-in for the Stripe API endpoints GEMS calls (tests and the offline demo).

The real `stripe` library talks to it (StripeClient pointed at its address), so requests arrive
form-encoded exactly as the library sends them. It follows the contract of the API version the
pinned package sends (SCHEMA_API_VERSION; a test fails when the installed package moves):
- every endpoint's parameters are checked against the package's own generated parameter types
  (devtools/stripe_contract.py): unknown, missing, mistyped and out-of-enum parameters get Stripe's
  400 error, e.g. Checkout's `payment_method_types`, removed in 2026-09-30.endive;
- Stripe's documented limits: metadata (50 keys, key 40 characters, value 500), Checkout
  `expires_at` 30 minutes to 24 hours ahead, `unit_amount` at or above the currency's minimum
  charge and at most 8 digits (economy/payments/currencies.py holds Stripe's table), `client_reference_id`
  at most 200 characters, positive refund and transfer amounts, refunds no larger than what is
  left of the charge;
- idempotency like Stripe: a key belongs to the endpoint it was first used on and to its
  parameters (anything else is an `idempotency_error`); requests refused by validation are not
  remembered; keys are forgotten after 24 hours;
- money like Stripe: card funds are pending, so a Connect transfer without `source_transaction`
  draws on an available balance that is empty (`balance_insufficient`); with it, it may take at
  most the charge's amount in the charge's currency; the destination needs an active
  `transfers` capability;
- events carry the pinned `api_version` and the fields real events have.
It plays Stripe's side of webhooks: `complete()`/`expire()` change a session and return the event
Stripe would send, `signed()` signs a payload exactly as Stripe does
(`t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`), `deliver()` posts it.

Nothing here is used by the bot itself; only STRIPE_API_BASE points the bot at it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from stripe.params import (
    AccountCreateParams,
    AccountLinkCreateParams,
    AccountRetrieveParams,
    PaymentIntentRetrieveParams,
    RefundCreateParams,
    TransferCreateParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionRetrieveParams,
)

from devtools import stripe_contract
from devtools.stripe_contract import ContractError
from economy.payments.currencies import currency as currency_rules
from economy.payments.currencies import format_amount

#: The API version the parameter schema below was taken from (and re-checked against). A test
#: fails when the installed `stripe` package sends another one: read its changelog, re-check
#: the endpoints below, then move this constant.
SCHEMA_API_VERSION = "2026-10-28.endive"

_BRACKETS = re.compile(r"\[([^\]]*)\]")
METADATA_MAX_KEYS, METADATA_KEY_MAX, METADATA_VALUE_MAX = 50, 40, 500
CLIENT_REFERENCE_MAX = 200
CHECKOUT_MIN_SECONDS, CHECKOUT_MAX_SECONDS = 30 * 60, 24 * 3600
IDEMPOTENCY_SECONDS = 24 * 3600

#: (method, path pattern) -> the params TypedDict the pinned package sends for it.
ENDPOINTS: dict[tuple[str, str], type] = {
    ("POST", "/v1/checkout/sessions"): SessionCreateParams,
    ("GET", "/v1/checkout/sessions/{id}"): SessionRetrieveParams,
    ("POST", "/v1/checkout/sessions/{id}/expire"): SessionExpireParams,
    ("POST", "/v1/refunds"): RefundCreateParams,
    ("POST", "/v1/transfers"): TransferCreateParams,
    ("POST", "/v1/accounts"): AccountCreateParams,
    ("GET", "/v1/accounts/{id}"): AccountRetrieveParams,
    ("POST", "/v1/account_links"): AccountLinkCreateParams,
    ("GET", "/v1/payment_intents/{id}"): PaymentIntentRetrieveParams,
}


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) -> nested dicts (list indexes stay keys)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        parts = [head, *_BRACKETS.findall(key[len(head):])]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # `a=1&a[b]=2`: Stripe refuses the mix too
                raise ContractError(f"Invalid hash for {head}.", head)
            node = child
        node[parts[-1]] = value
    return root


def _listify(node: Any, key: str = "") -> Any:
    """Numeric-keyed hashes -> lists (after validation; metadata keys stay keys)."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends with a webhook payload."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def error_codes() -> frozenset[str]:
    """Every error `code` the pinned package knows (its generated `last_payment_error.code`)."""
    import typing

    import stripe._payment_intent as module

    annotation = module.PaymentIntent.LastPaymentError.__annotations__["code"]
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(module))

    def literals(t: Any) -> list[str]:
        if typing.get_origin(t) is typing.Literal:
            return [str(a) for a in typing.get_args(t)]
        return [v for a in typing.get_args(t) for v in literals(a)]

    return frozenset(literals(annotation))


@dataclass
class Call:
    """One API request the double answered."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    status: int
    error: dict | None = None


def _match(method: str, path: str) -> tuple[type | None, list[str]]:
    parts = path.strip("/").split("/")
    for (m, pattern), params in ENDPOINTS.items():
        pat = pattern.strip("/").split("/")
        if m == method and len(pat) == len(parts) and all(
                a == b or a == "{id}" for a, b in zip(pat, parts, strict=True)):
            return params, [b for a, b in zip(pat, parts, strict=True) if a == "{id}"]
    return None, []


@dataclass
class StripeDouble:
    """The API double; use as `async with StripeDouble(secret_key) as double: double.url`."""

    secret_key: str = "sk_test_gemsdouble0000000000"
    #: Unix time "now" (pass the tests' clock so expiry windows follow it).
    clock: Callable[[], float] = time.time
    calls: list[Call] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)
    payment_intents: dict[str, dict] = field(default_factory=dict)
    charges: dict[str, dict] = field(default_factory=dict)
    refunds: list[dict] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)
    accounts: dict[str, dict] = field(default_factory=dict)
    #: The platform's available balance per currency (card funds are pending: empty).
    available: dict[str, int] = field(default_factory=dict)
    #: Make the next N requests fail with a 500 (to test retries and pending payouts).
    fail_next: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        # key -> (endpoint, params, status, body, first used at)
        self._idempotent: dict[str, tuple[str, dict, int, dict, float]] = {}
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

    def _now(self) -> int:
        return int(self.clock())

    # --- what tests look at -----------------------------------------------------------------
    def calls_to(self, method: str, prefix: str) -> list[Call]:
        """Successful and failed calls with this method whose path starts with `prefix`."""
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    # --- Stripe's side of a payment ---------------------------------------------------------
    def complete(self, session_id: str, *, amount: int | None = None,
                 currency: str | None = None) -> dict:
        """The customer pays (optionally another amount/currency, as a presentment change
        would); the session completes; returns the `completed` event."""
        session = self.sessions[session_id]
        if session["status"] == "open":
            n = next(self._ids)
            pi, ch = f"pi_{n:014d}", f"ch_{n:014d}"
            paid = session["amount_total"] if amount is None else amount
            cur = session["currency"] if currency is None else currency
            session.update(status="complete", payment_status="paid", payment_intent=pi,
                           amount_total=paid, currency=cur)
            session["_charge"] = ch
            self.charges[ch] = {"id": ch, "object": "charge", "amount": paid, "currency": cur,
                                "payment_intent": pi, "amount_refunded": 0, "transferred": 0,
                                "status": "succeeded"}
            self.payment_intents[pi] = {"id": pi, "object": "payment_intent", "amount": paid,
                                        "currency": cur, "status": "succeeded",
                                        "latest_charge": ch,
                                        "metadata": dict(session.get("_pi_metadata") or {})}
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
        """A Stripe event wrapping `obj` (a fresh event id each time), shaped as the pinned
        version sends it."""
        public = {k: v for k, v in obj.items() if not k.startswith("_")}
        return {"id": f"evt_{next(self._ids):024d}", "object": "event", "type": kind,
                "api_version": SCHEMA_API_VERSION, "created": self._now(), "livemode": False,
                "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
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

    def onboard(self, account_id: str) -> None:
        """The seller finishes Stripe's onboarding form: requested capabilities turn active."""
        account = self.accounts[account_id]
        account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True)
        account["capabilities"] = dict.fromkeys(account["capabilities"], "active")

    # --- the API ----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        path = "/v1/" + request.match_info["path"]
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        raw = list((await request.post()).items()) if request.method == "POST" \
            else list(request.query.items())
        params: dict[str, Any] = {}
        remember = False
        try:
            params = decode_form([(k, str(v)) for k, v in raw])
            if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
                body, status = _error("Invalid API Key provided.", "invalid_request_error"), 401
            elif request.headers.get("Stripe-Version", SCHEMA_API_VERSION) != SCHEMA_API_VERSION:
                raise ContractError(
                    f"The double follows API version {SCHEMA_API_VERSION}; this request asked "
                    f"for {request.headers.get('Stripe-Version')}. Re-check the contract.")
            elif self.fail_next > 0:
                self.fail_next -= 1
                body, status = _error("Something went wrong on Stripe's end.", "api_error"), 500
            elif key and self._replay(key) is not None:
                body, status = self._replay_answer(key, request.method, path, params)
            else:
                endpoint, ids = _match(request.method, path)
                if endpoint is None:
                    body, status = _error(f"Unrecognized request URL ({request.method}: {path}).",
                                          code="resource_missing"), 404
                else:
                    stripe_contract.check(endpoint, params)
                    _check_metadata(params, "")
                    params = _listify(params)
                    # From here the request "started executing": Stripe saves its result.
                    remember = True
                    body, status = self._route(request.method, path, ids, params)
        except ContractError as error:
            # Refused before or while validating: Stripe does not save such a result.
            body, status, remember = error.body(), 400, False
            params = params if isinstance(params, dict) else {}
        if key and remember and status < 500:
            self._idempotent[key] = (f"{request.method} {path}", params, status, body,
                                     self.clock())
        self.calls.append(Call(request.method, path, params, key, status,
                               body.get("error") if status >= 400 else None))
        headers = {"Request-Id": f"req_{next(self._ids)}", "Stripe-Version": SCHEMA_API_VERSION}
        if key:
            headers["Idempotency-Key"] = key
        return web.json_response(body, status=status, headers=headers)

    def _replay(self, key: str) -> tuple | None:
        stored = self._idempotent.get(key)
        if stored and self.clock() - stored[4] > IDEMPOTENCY_SECONDS:
            del self._idempotent[key]  # Stripe prunes keys after 24 hours
            return None
        return stored

    def _replay_answer(self, key: str, method: str, path: str,
                       params: dict[str, Any]) -> tuple[dict, int]:
        endpoint, first_params, status, body, _ = self._idempotent[key]
        if endpoint != f"{method} {path}":
            raise ContractError(
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{endpoint.split(' ', 1)[1]}' vs '{path}'). Try using a key "
                f"other than '{key}' if you meant to execute a different request.",
                kind="idempotency_error")
        if first_params != _listify(params):
            raise ContractError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.", kind="idempotency_error")
        return body, status

    def _route(self, method: str, path: str, ids: list[str],
               p: dict[str, Any]) -> tuple[dict, int]:
        if path == "/v1/checkout/sessions":
            return self._create_session(p), 200
        if path.startswith("/v1/checkout/sessions/"):
            session = self.sessions.get(ids[0])
            if session is None:
                return _missing("checkout.session", ids[0], "session")
            if path.endswith("/expire"):
                if session["status"] != "open":
                    return _error("Only Checkout Sessions with a status in [\"open\"] can be "
                                  "expired."), 400
                session["status"] = "expired"
            return _public(session), 200
        if path.startswith("/v1/payment_intents/"):
            intent = self.payment_intents.get(ids[0])
            return (intent, 200) if intent is not None else _missing("payment_intent", ids[0],
                                                                     "intent")
        if path == "/v1/refunds":
            return self._refund(p)
        if path == "/v1/transfers":
            return self._transfer(p)
        if method == "POST" and path == "/v1/accounts":
            return self._create_account(p), 200
        if path.startswith("/v1/accounts/"):
            account = self.accounts.get(ids[0])
            return (account, 200) if account is not None else _missing("account", ids[0],
                                                                       "account")
        if path == "/v1/account_links":
            if p.get("account") not in self.accounts:
                return _error(f"No such account: '{p.get('account')}'", code="resource_missing",
                              param="account"), 400
            return {"object": "account_link", "created": self._now(),
                    "expires_at": self._now() + 300,
                    "url": f"{self.url}/onboard/{p['account']}"}, 200
        raise AssertionError(f"route table and handlers disagree on {method} {path}")

    def _create_session(self, p: dict[str, Any]) -> dict:
        items = p.get("line_items") or []
        if p.get("mode") == "payment" and not items:
            raise ContractError("You must specify `line_items` in `payment` mode.",
                                "line_items", "parameter_missing")
        if len(p.get("client_reference_id") or "") > CLIENT_REFERENCE_MAX:
            raise ContractError("Invalid client_reference_id: must be at most "
                                f"{CLIENT_REFERENCE_MAX} characters", "client_reference_id")
        now = self._now()
        expires_at = int(p.get("expires_at") or now + CHECKOUT_MAX_SECONDS)
        if expires_at < now + CHECKOUT_MIN_SECONDS:
            raise ContractError("The `expires_at` timestamp must be at least 30 minutes from "
                                "Checkout Session creation.", "expires_at")
        if expires_at > now + CHECKOUT_MAX_SECONDS:
            raise ContractError("The `expires_at` timestamp must be less than 24 hours from "
                                "Checkout Session creation.", "expires_at")
        total, currency = 0, None
        for i, item in enumerate(items):
            data = item.get("price_data")
            if data is None:  # GEMS never uses saved Prices; the double has none
                raise ContractError(f"No such price: '{item.get('price')}'",
                                    f"line_items[{i}][price]", "resource_missing")
            where = f"line_items[{i}][price_data][unit_amount]"
            if "unit_amount" not in data:
                raise ContractError(f"Missing required param: {where}.", where,
                                    "parameter_missing")
            cur = _currency(data["currency"], f"line_items[{i}][price_data][currency]")
            amount = int(data["unit_amount"])
            quantity = _positive(item.get("quantity", "1"), f"line_items[{i}][quantity]")
            _check_charge_amount(amount, cur.code, where)
            total += amount * quantity
            currency = currency or cur.code
        sid = f"cs_test_{next(self._ids):024d}"
        session = {
            "id": sid, "object": "checkout.session", "mode": p.get("mode"),
            "status": "open", "payment_status": "unpaid", "amount_total": total,
            "currency": currency, "metadata": p.get("metadata", {}),
            "client_reference_id": p.get("client_reference_id"),
            "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
            "expires_at": expires_at, "created": now, "livemode": False,
            "payment_intent": None, "url": f"{self.url}/pay/{sid}",
            "_pi_metadata": (p.get("payment_intent_data") or {}).get("metadata"),
        }
        self.sessions[sid] = session
        return _public(session)

    def _charge_of(self, p: dict[str, Any]) -> dict | None:
        if p.get("charge"):
            return self.charges.get(p["charge"])
        intent = self.payment_intents.get(p.get("payment_intent") or "")
        return self.charges.get(intent["latest_charge"]) if intent else None

    def _refund(self, p: dict[str, Any]) -> tuple[dict, int]:
        if not p.get("payment_intent") and not p.get("charge"):
            raise ContractError("One of `charge` or `payment_intent` is required.",
                                "payment_intent", "parameter_missing")
        charge = self._charge_of(p)
        if charge is None:
            which = "payment_intent" if p.get("payment_intent") else "charge"
            return _error(f"No such {which}: '{p.get(which)}'", code="resource_missing",
                          param=which), 400
        left = charge["amount"] - charge["amount_refunded"]
        amount = _positive(p.get("amount"), "amount") if "amount" in p else left
        if left <= 0:
            return _error(f"Charge {charge['id']} has already been refunded.",
                          code="charge_already_refunded"), 400
        if amount > left:
            return _error(f"Refund amount ({format_amount(amount, charge['currency'])}) is "
                          "greater than unrefunded amount on charge "
                          f"({format_amount(left, charge['currency'])})", param="amount"), 400
        charge["amount_refunded"] += amount
        refund = {"id": f"re_{next(self._ids):014d}", "object": "refund", "amount": amount,
                  "charge": charge["id"], "payment_intent": charge["payment_intent"],
                  "status": "succeeded", "currency": charge["currency"],
                  "created": self._now(), "metadata": p.get("metadata", {})}
        self.refunds.append(refund)
        return refund, 200

    def _transfer(self, p: dict[str, Any]) -> tuple[dict, int]:
        if "amount" not in p:
            raise ContractError("Missing required param: amount.", "amount", "parameter_missing")
        amount = _positive(p["amount"], "amount")
        currency = _currency(p["currency"], "currency").code
        account = self.accounts.get(p["destination"])
        if account is None:
            return _error(f"No such destination: '{p['destination']}'",
                          code="resource_missing", param="destination"), 400
        if account["capabilities"].get("transfers") != "active":
            return _error("Your destination account needs to have at least one of the "
                          "following capabilities enabled: transfers, crypto_transfers, "
                          "legacy_payments", param="destination"), 400
        source = p.get("source_transaction")
        if source:
            charge = self.charges.get(source)
            if charge is None:
                return _error(f"No such charge: '{source}'", code="resource_missing",
                              param="source_transaction"), 400
            if charge["currency"] != currency:
                return _error(f"The currency of source_transaction's balance transaction "
                              f"({charge['currency']}) must be the same as the transfer "
                              f"currency ({currency}).", param="currency"), 400
            left = charge["amount"] - charge["amount_refunded"] - charge["transferred"]
            if amount > left:
                return _error(f"Insufficient funds in source_transaction {source}: "
                              f"{format_amount(left, currency)} left, "
                              f"{format_amount(amount, currency)} asked.",
                              code="balance_insufficient", param="amount"), 400
            charge["transferred"] += amount
        else:
            if self.available.get(currency, 0) < amount:
                return _error("You have insufficient available funds in your Stripe account. "
                              "Try adding funds directly to your available balance by creating "
                              "Charges using the 4000000000000077 test card.",
                              code="balance_insufficient"), 400
            self.available[currency] -= amount
        transfer = {"id": f"tr_{next(self._ids):014d}", "object": "transfer",
                    "amount": amount, "currency": currency, "created": self._now(),
                    "destination": p["destination"], "transfer_group": p.get("transfer_group"),
                    "source_transaction": source, "metadata": p.get("metadata", {})}
        self.transfers.append(transfer)
        return transfer, 200

    def _create_account(self, p: dict[str, Any]) -> dict:
        controller = p.get("controller") or {}
        fees = (controller.get("fees") or {}).get("payer")
        losses = (controller.get("losses") or {}).get("payments")
        if losses == "application" and fees != "application":
            # Documented on AccountCreateParamsControllerFees.payer in the pinned package.
            raise ContractError("Setting `controller.losses.payments=application` requires "
                                "`controller.fees.payer=application`.", "controller[fees][payer]")
        requested = {name for name, cap in (p.get("capabilities") or {}).items()
                     if (cap or {}).get("requested") == "true"}
        dashboard = (controller.get("stripe_dashboard") or {}).get("type")
        kind = p.get("type") or ("express" if dashboard == "express" else "none")
        account = {"id": f"acct_{next(self._ids):016d}", "object": "account", "type": kind,
                   "controller": {**controller, "type": "application"} if controller else None,
                   "capabilities": dict.fromkeys(sorted(requested), "inactive"),
                   "details_submitted": False, "charges_enabled": False,
                   "payouts_enabled": False, "created": self._now(),
                   "metadata": p.get("metadata", {})}
        self.accounts[account["id"]] = account
        return account


def _currency(code: str, param: str) -> Any:
    """Stripe's rules for a currency code, or its 400 for a code that is not one."""
    if not re.fullmatch(r"[a-z]{3}", code or ""):
        raise ContractError(f"Invalid currency: {code}. Stripe currently supports these "
                            "currencies: usd, eur, gbp, jpy, ... (three lowercase letters).",
                            param)
    return currency_rules(code)


def _positive(value: Any, param: str) -> int:
    amount = int(value)  # the contract check made sure it is an integer
    if amount < 1:
        raise ContractError("This value must be greater than or equal to 1.", param,
                            "parameter_invalid_integer")
    return amount


def _check_charge_amount(amount: int, code: str, param: str) -> None:
    """Stripe's minimum charge, maximum digits and three-decimal/ISK/UGX granularity."""
    cur = currency_rules(code)
    if cur.minimum is not None and amount < cur.minimum:
        raise ContractError("The Checkout Session's total amount due must add up to at least "
                            f"{format_amount(cur.minimum, code)} {code}", param,
                            "amount_too_small")
    if amount > cur.maximum:
        raise ContractError(f"Amount must be no more than {format_amount(cur.maximum, code)}",
                            param, "amount_too_large")
    if amount % cur.step:
        raise ContractError(f"Invalid amount for {code.upper()}: must be evenly divisible by "
                            f"{cur.step}.", param, "invalid_charge_amount")


def _check_metadata(node: Any, path: str) -> None:
    """Stripe's metadata limits wherever a `metadata` hash is sent."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{path}[{key}]" if path else key
        if key == "metadata" and isinstance(value, dict):
            if len(value) > METADATA_MAX_KEYS:
                raise ContractError(f"Invalid {where}: metadata can have up to "
                                    f"{METADATA_MAX_KEYS} keys, but you passed in "
                                    f"{len(value)} keys.", where)
            for mkey, mvalue in value.items():
                if len(mkey) > METADATA_KEY_MAX:
                    raise ContractError(f"Metadata keys can be up to {METADATA_KEY_MAX} "
                                        f"characters, but you passed a key of {len(mkey)}.",
                                        f"{where}[{mkey}]")
                if isinstance(mvalue, str) and len(mvalue) > METADATA_VALUE_MAX:
                    raise ContractError(f"Metadata values can be up to {METADATA_VALUE_MAX} "
                                        f"characters, but you passed a value of {len(mvalue)}.",
                                        f"{where}[{mkey}]")
        else:
            _check_metadata(value, where)


def _public(session: dict) -> dict:
    return {k: v for k, v in session.items() if not k.startswith("_")}


def _missing(kind: str, object_id: str, param: str) -> tuple[dict, int]:
    """Stripe's 404 for an id that names no object (`resource_missing`)."""
    return _error(f"No such {kind}: '{object_id}'", code="resource_missing", param=param), 404


def _error(message: str, kind: str = "invalid_request_error", code: str | None = None,
           param: str | None = None) -> dict:
    return ContractError(message, param, code, kind).body()
