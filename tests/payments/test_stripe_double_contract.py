"""The Stripe double refuses what the pinned API version refuses: parameters and types from the
installed `stripe` package's generated params, Stripe's documented limits and idempotency rules,
events shaped like the pinned version's. Raw HTTP, so the error bodies themselves are checked."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
import stripe
from stripe.params.checkout import SessionCreateParams

from devtools import stripe_contract
from devtools.stripe_double import SCHEMA_API_VERSION, StripeDouble, error_codes
from tests.payments.conftest import SECRET_KEY

pytestmark = pytest.mark.timeout(60)


def test_the_double_follows_the_installed_packages_api_version():
    # A bump of the `stripe` package moves this: read its changelog for removals, re-check the
    # endpoints in devtools/stripe_double.ENDPOINTS, then move SCHEMA_API_VERSION.
    assert stripe.api_version == SCHEMA_API_VERSION
    assert stripe_contract.pinned_api_version() == SCHEMA_API_VERSION


def test_payment_method_types_is_not_a_checkout_parameter_of_the_pinned_version():
    fields = stripe_contract.fields_of(SessionCreateParams)
    assert "payment_method_types" not in fields  # removed in 2026-09-30.endive
    assert "allowed_payment_method_types" in fields and "line_items" in fields
    assert "api_key" not in fields and "idempotency_key" not in fields  # client options


def _form(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding, as the library produces it."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            out += _form(value, name)
        elif isinstance(value, list):
            out += _form({str(i): v for i, v in enumerate(value)}, name)
        else:
            out.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    return out


async def call(double: StripeDouble, method: str, path: str, params: dict | None = None, *,
               key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {SECRET_KEY}", "Stripe-Version": SCHEMA_API_VERSION}
    if key:
        headers["Idempotency-Key"] = key
    async with aiohttp.ClientSession() as http:
        if method == "GET":
            async with http.get(double.url + path, params=_form(params or {}),
                                headers=headers) as resp:
                return resp.status, await resp.json()
        async with http.post(double.url + path, data=_form(params or {}),
                             headers=headers) as resp:
            return resp.status, await resp.json()


def checkout(**overrides: Any) -> dict:
    now = int(time.time())
    params = {"mode": "payment", "success_url": "http://gems.test/ok",
              "cancel_url": "http://gems.test/no", "expires_at": now + 31 * 60,
              "allowed_payment_method_types": ["card"],
              "line_items": [{"quantity": 1, "price_data": {
                  "currency": "usd", "unit_amount": 1250, "product_data": {"name": "Ring"}}}],
              "metadata": {"guild_id": "1"}}
    params.update(overrides)
    return params


def price(unit_amount: Any, currency: str = "usd") -> list[dict]:
    return [{"quantity": 1, "price_data": {"currency": currency, "unit_amount": unit_amount,
                                           "product_data": {"name": "Ring"}}}]


@pytest.fixture
async def api():
    async with StripeDouble(SECRET_KEY) as running:
        yield running


async def test_a_valid_checkout_is_created(api):
    status, body = await call(api, "POST", "/v1/checkout/sessions", checkout())
    assert status == 200, body
    assert body["amount_total"] == 1250 and body["status"] == "open"


async def test_removed_and_unknown_parameters_are_refused_with_stripes_error(api):
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(payment_method_types=["card"]))
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "parameter_unknown"
    assert body["error"]["param"] == "payment_method_types"
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(line_items=[{"quantity": 1, "price_data": {
                                  "currency": "usd", "unit_amount": 900, "colour": "red",
                                  "product_data": {"name": "Ring"}}}]))
    assert (status, body["error"]["param"]) == (400, "line_items[0][price_data][colour]")
    assert api.sessions == {}


@pytest.mark.parametrize("value", ["12.50", "abc", "1e3", ""])
async def test_non_integer_amounts_get_a_400_never_a_500(api, value):
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(line_items=price(value)))
    assert status == 400, body
    assert body["error"]["param"] == "line_items[0][price_data][unit_amount]"
    assert body["error"]["code"] in ("parameter_invalid_integer", "parameter_invalid_empty")


async def test_wrong_enums_shapes_and_missing_params_are_refused(api):
    status, body = await call(api, "POST", "/v1/checkout/sessions", checkout(mode="pay"))
    assert (status, body["error"]["param"]) == (400, "mode")
    assert "payment, setup, or subscription" in body["error"]["message"]
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(allowed_payment_method_types=["cheque"]))
    assert (status, body["error"]["param"]) == (400, "allowed_payment_method_types[0]")
    status, body = await call(api, "POST", "/v1/checkout/sessions", checkout(
        line_items=[{"quantity": 1, "price_data": {"unit_amount": 900,
                                                   "product_data": {"name": "Ring"}}}]))
    assert (status, body["error"]["code"]) == (400, "parameter_missing")
    assert body["error"]["param"] == "line_items[0][price_data][currency]"
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(line_items=[{"quantity": "x", "price_data": {}}]))
    assert status == 400 and body["error"]["param"].startswith("line_items[0]")
    status, body = await call(api, "POST", "/v1/transfers", {"amount": 100, "currency": "usd"})
    assert (status, body["error"]["code"], body["error"]["param"]) == \
        (400, "parameter_missing", "destination")


@pytest.mark.parametrize("path,params", [
    ("/v1/checkout/sessions", checkout(line_items=price(900, "US$"))),
    ("/v1/checkout/sessions", checkout(line_items=[{"quantity": 0, "price_data": {
        "currency": "usd", "unit_amount": 900, "product_data": {"name": "R"}}}])),
    ("/v1/checkout/sessions", checkout(line_items=price("99999999999999999999999"))),
    ("/v1/checkout/sessions", checkout(expires_at="soon")),
    ("/v1/checkout/sessions", checkout(metadata="not a hash")),
    ("/v1/checkout/sessions", {"line_items": "x"}),
    ("/v1/refunds", {"payment_intent": "pi_x", "amount": "1.5"}),
    ("/v1/refunds", {"amount": 5}),
    ("/v1/transfers", {"amount": 5, "currency": "EURO", "destination": "acct_x"}),
    ("/v1/transfers", {"amount": "five", "currency": "usd", "destination": "acct_x"}),
    ("/v1/accounts", {"capabilities": {"transfers": {"requested": "maybe"}}}),
    ("/v1/accounts", {"controller": {"stripe_dashboard": {"type": "fancy"}}}),
    ("/v1/account_links", {"account": "acct_x", "type": "account_onboarding"}),
    ("/v1/account_links", {"account": "acct_x", "type": "onboarding"}),
])
async def test_malformed_requests_get_stripes_400_never_a_500(api, path, params):
    status, body = await call(api, "POST", path, params)
    assert status == 400, body
    assert body["error"]["type"] == "invalid_request_error" and body["error"]["message"]


async def test_metadata_limits(api):
    too_many = {f"k{i}": "v" for i in range(51)}
    for metadata, ok in ((too_many, False), ({"k" * 41: "v"}, False),
                         ({"k": "v" * 501}, False),
                         ({f"k{i}": "v" * 500 for i in range(50)}, True)):
        status, body = await call(api, "POST", "/v1/checkout/sessions",
                                  checkout(metadata=metadata))
        assert (status == 200) is ok, body
        if not ok:
            assert body["error"]["param"].startswith("metadata")
    status, body = await call(api, "POST", "/v1/checkout/sessions", checkout(
        payment_intent_data={"metadata": too_many}))
    assert status == 400 and body["error"]["param"] == "payment_intent_data[metadata]"


async def test_checkout_expiry_window_and_reference_length(api):
    now = int(time.time())
    for expires_at, ok in ((now + 29 * 60, False), (now + 31 * 60, True),
                           (now + 23 * 3600, True), (now + 25 * 3600, False)):
        status, body = await call(api, "POST", "/v1/checkout/sessions",
                                  checkout(expires_at=expires_at))
        assert (status == 200) is ok, body
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(client_reference_id="x" * 201))
    assert (status, body["error"]["param"]) == (400, "client_reference_id")


@pytest.mark.parametrize("amount,currency,ok", [
    (49, "usd", False), (50, "usd", True), (29, "gbp", False), (30, "gbp", True),
    (49, "jpy", False), (50, "jpy", True), (17_499, "huf", False),
    (100_000_000, "usd", False), (99_999_999, "usd", True),
    (12_345, "kwd", False), (12_340, "kwd", True), (550, "isk", False), (500, "isk", True),
])
async def test_amount_at_or_above_the_currency_minimum_in_its_minor_unit(api, amount, currency,
                                                                          ok):
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              checkout(line_items=price(amount, currency)))
    assert (status == 200) is ok, body
    if not ok:
        assert body["error"]["param"] == "line_items[0][price_data][unit_amount]"


async def test_refunds_and_transfers_need_positive_amounts_and_real_money(api):
    _, session = await call(api, "POST", "/v1/checkout/sessions", checkout())
    api.complete(session["id"])
    intent = api.sessions[session["id"]]["payment_intent"]
    for amount in (0, -5):
        status, body = await call(api, "POST", "/v1/refunds",
                                  {"payment_intent": intent, "amount": amount})
        assert (status, body["error"]["param"]) == (400, "amount"), body
    status, body = await call(api, "POST", "/v1/refunds",
                              {"payment_intent": intent, "amount": 1251})
    assert status == 400 and api.refunds == []
    _, account = await call(api, "POST", "/v1/accounts", {
        "controller": {"fees": {"payer": "application"}, "losses": {"payments": "application"},
                       "stripe_dashboard": {"type": "express"}},
        "capabilities": {"transfers": {"requested": True}}})
    transfer = {"amount": 1000, "currency": "usd", "destination": account["id"]}
    status, body = await call(api, "POST", "/v1/transfers", transfer)
    assert status == 400 and "capabilities" in body["error"]["message"]  # not onboarded
    api.onboard(account["id"])
    status, body = await call(api, "POST", "/v1/transfers", dict(transfer, amount=0))
    assert (status, body["error"]["param"]) == (400, "amount")
    # Card funds are pending: without source_transaction there is nothing to transfer.
    status, body = await call(api, "POST", "/v1/transfers", transfer)
    assert (status, body["error"]["code"]) == (400, "balance_insufficient")
    charge = api.payment_intents[intent]["latest_charge"]
    status, body = await call(api, "POST", "/v1/transfers",
                              dict(transfer, currency="eur", source_transaction=charge))
    assert status == 400 and "currency" in body["error"]["message"]
    status, body = await call(api, "POST", "/v1/transfers",
                              dict(transfer, source_transaction=charge))
    assert status == 200 and body["source_transaction"] == charge
    status, body = await call(api, "POST", "/v1/transfers",
                              dict(transfer, amount=251, source_transaction=charge))
    assert (status, body["error"]["code"]) == (400, "balance_insufficient")
    status, body = await call(api, "POST", "/v1/accounts", {
        "controller": {"fees": {"payer": "account"}, "losses": {"payments": "application"}}})
    assert status == 400 and body["error"]["param"] == "controller[fees][payer]"


async def test_idempotency_keys_belong_to_one_endpoint_and_one_set_of_parameters(api):
    params = checkout()
    first = await call(api, "POST", "/v1/checkout/sessions", params, key="k1")
    again = await call(api, "POST", "/v1/checkout/sessions", params, key="k1")
    assert first == again and len(api.sessions) == 1
    status, body = await call(api, "POST", "/v1/checkout/sessions",
                              dict(params, client_reference_id="other"), key="k1")
    assert (status, body["error"]["type"]) == (400, "idempotency_error")
    status, body = await call(api, "POST", "/v1/refunds", {"payment_intent": "pi_x"}, key="k1")
    assert (status, body["error"]["type"]) == (400, "idempotency_error")
    assert "same endpoint" in body["error"]["message"]
    # A request refused by validation is not remembered: the key stays free.
    status, _ = await call(api, "POST", "/v1/checkout/sessions", checkout(mode="pay"), key="k2")
    assert status == 400
    status, _ = await call(api, "POST", "/v1/checkout/sessions", params, key="k2")
    assert status == 200


async def test_events_are_shaped_as_the_pinned_version_sends_them(api):
    _, session = await call(api, "POST", "/v1/checkout/sessions", checkout())
    event = api.complete(session["id"])
    assert event["api_version"] == stripe.api_version
    assert event["object"] == "event" and event["livemode"] is False
    assert event["pending_webhooks"] >= 1 and set(event["request"]) == {"id", "idempotency_key"}
    assert isinstance(event["created"], int)
    # The library's own event parser takes it.
    assert stripe.Event.construct_from(event, "sk_test_x").type == "checkout.session.completed"


async def test_every_error_code_the_double_answers_is_one_stripe_defines(api):
    await test_removed_and_unknown_parameters_are_refused_with_stripes_error(api)
    await test_wrong_enums_shapes_and_missing_params_are_refused(api)
    await test_refunds_and_transfers_need_positive_amounts_and_real_money(api)
    for value in ("12.50", ""):
        await call(api, "POST", "/v1/checkout/sessions", checkout(line_items=price(value)))
    await call(api, "POST", "/v1/checkout/sessions", checkout(line_items=price(10)))
    await call(api, "GET", "/v1/checkout/sessions/cs_missing")
    codes = {c.error.get("code") for c in api.calls if c.error} - {None}
    assert codes >= {"parameter_unknown", "parameter_missing", "parameter_invalid_integer",
                     "balance_insufficient", "amount_too_small", "resource_missing"}
    assert codes <= error_codes(), codes - error_codes()
