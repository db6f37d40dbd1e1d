"""Stripe behind a small interface: the calls GEMS makes, through the official async client.

`StripeGateway` uses `stripe.StripeClient` with its aiohttp HTTP client, so no call blocks the
event loop. Every write carries an idempotency key chosen by the caller (a retry after a timeout
cannot charge, refund or transfer twice). Webhooks are verified with the library's
`Webhook.construct_event` (HMAC-SHA256 signature, 5-minute tolerance). Secrets never appear in
errors or logs: Stripe's own messages are logged by type only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

from economy.core.errors import InvalidInput, Unavailable

log = logging.getLogger(__name__)
# The library logs every request at INFO; GEMS logs what matters itself.
logging.getLogger("stripe").setLevel(logging.WARNING)


def _stripe_library() -> Any:
    """The `stripe` package, imported when a gateway is made (0.3 s of imports): a bot
    without Stripe keys never loads it, and one with keys loads it once, when the payments
    feature attaches its gateway."""
    import stripe

    return stripe

SECRET_KEY_RE = re.compile(r"^(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,250}$")
WEBHOOK_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/=]{10,250}$")
ACCOUNT_ID_RE = re.compile(r"^acct_[A-Za-z0-9]{8,64}$")
#: Looks like any Stripe secret (used to refuse pasting one where it does not belong).
ANY_SECRET_RE = re.compile(r"\b(?:sk|rk)_(?:live|test)_\w{6,}|\bwhsec_\w{6,}")
WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentsUnavailable(Unavailable):
    """Card payments cannot be used right now (not configured, or Stripe refused)."""


class WebhookRejected(InvalidInput):
    """A webhook request that is not a valid, signed Stripe event (answered with HTTP 400)."""


@dataclass(frozen=True)
class CheckoutSession:
    """The parts of a Checkout Session GEMS uses."""

    session_id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # unpaid | paid | no_payment_required
    payment_intent: str | None
    amount_total: int | None
    currency: str | None
    metadata: dict[str, str]

    @classmethod
    def of(cls, obj: Any) -> CheckoutSession:
        """From a Stripe object or an event's plain dict."""
        get = (obj if isinstance(obj, dict) else obj.to_dict()).get
        intent = get("payment_intent")
        if intent is not None and not isinstance(intent, str):
            intent = intent.get("id")
        return cls(session_id=get("id"), url=get("url"), status=get("status") or "",
                   payment_status=get("payment_status") or "", payment_intent=intent,
                   amount_total=get("amount_total"), currency=get("currency"),
                   metadata=dict(get("metadata") or {}))


class PaymentsGateway(Protocol):
    """What the payments service needs from Stripe."""

    async def create_checkout(self, *, amount: int, currency: str, name: str,
                              metadata: dict[str, str], success_url: str, cancel_url: str,
                              expires_at: int, idempotency_key: str) -> CheckoutSession: ...

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession: ...

    async def expire_checkout(self, session_id: str) -> CheckoutSession: ...

    async def refund(self, *, payment_intent: str, amount: int | None, idempotency_key: str,
                     metadata: dict[str, str]) -> str: ...

    async def charge_of(self, payment_intent: str) -> str: ...

    async def transfer(self, *, amount: int, currency: str, destination: str,
                       source_transaction: str, transfer_group: str, idempotency_key: str,
                       metadata: dict[str, str]) -> str: ...

    async def create_account(self, *, idempotency_key: str, metadata: dict[str, str]) -> str: ...

    async def account_link(self, *, account: str, refresh_url: str, return_url: str) -> str: ...

    async def account_ready(self, account: str) -> bool: ...

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...


def check_secret_key(value: str) -> str:
    """Raise ValueError unless `value` looks like a Stripe secret or restricted key."""
    if not SECRET_KEY_RE.match(value):
        raise ValueError("must look like sk_live_..., sk_test_... or rk_live_.../rk_test_...")
    return value


def check_webhook_secret(value: str) -> str:
    """Raise ValueError unless `value` looks like a webhook signing secret."""
    if not WEBHOOK_SECRET_RE.match(value):
        raise ValueError("must look like whsec_... (the endpoint's signing secret)")
    return value


class StripeGateway:
    """The real Stripe API through `stripe.StripeClient` (async, aiohttp)."""

    def __init__(self, secret_key: str, webhook_secret: str, *, api_base: str | None = None,
                 timeout: float = 20.0, max_network_retries: int = 2) -> None:
        check_secret_key(secret_key)
        check_webhook_secret(webhook_secret)
        import aiohttp

        self._stripe = stripe = _stripe_library()
        self._http = stripe.AIOHTTPClient(timeout=aiohttp.ClientTimeout(total=timeout))
        options: dict[str, Any] = {"http_client": self._http,
                                   "max_network_retries": max_network_retries}
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self._client = stripe.StripeClient(secret_key, **options)
        self._webhook_secret = webhook_secret
        self.test_mode = "_test_" in secret_key

    async def close(self) -> None:
        """Close the HTTP session.

        Raises: nothing expected.
        """
        await self._http.close_async()

    async def _call(self, what: str, coro: Any) -> Any:
        try:
            return await coro
        except self._stripe.StripeError as error:
            # The message may quote request values; log the type and Stripe's code only.
            log.warning("stripe %s failed: %s (code %s, status %s)", what,
                        type(error).__name__, getattr(error, "code", None),
                        getattr(error, "http_status", None))
            raise PaymentsUnavailable(
                "The payment provider refused or did not answer; nothing was charged. "
                "Please try again in a minute.", ) from error

    async def create_checkout(self, *, amount: int, currency: str, name: str,
                              metadata: dict[str, str], success_url: str, cancel_url: str,
                              expires_at: int, idempotency_key: str) -> CheckoutSession:
        """A payment-mode Checkout Session for one line item (`amount` in the currency's minor
        unit as Stripe counts it, see economy/payments/currencies.py).

        Raises: PaymentsUnavailable.
        """
        params = {
            "mode": "payment",
            # Dynamic payment methods, filtered to cards: the payment is final when the session
            # completes (no delayed methods whose session completes unpaid). The static
            # `payment_method_types` list was removed from Checkout in 2026-09-30.endive.
            "allowed_payment_method_types": ["card"],
            "line_items": [{"quantity": 1, "price_data": {
                "currency": currency, "unit_amount": amount,
                "product_data": {"name": name[:250] or "Purchase"}}}],
            "metadata": metadata, "payment_intent_data": {"metadata": metadata},
            "client_reference_id": f"{metadata.get('guild_id')}-{metadata.get('checkout')}",
            "success_url": success_url, "cancel_url": cancel_url, "expires_at": expires_at,
        }
        session = await self._call("checkout.create", self._client.v1.checkout.sessions.create_async(
            params, {"idempotency_key": idempotency_key}))
        return CheckoutSession.of(session)

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        """A session as Stripe has it now.

        Raises: PaymentsUnavailable.
        """
        return CheckoutSession.of(await self._call(
            "checkout.retrieve", self._client.v1.checkout.sessions.retrieve_async(session_id)))

    async def expire_checkout(self, session_id: str) -> CheckoutSession:
        """Expire an open session; one that is no longer open is returned as it is.

        Raises: PaymentsUnavailable.
        """
        try:
            return CheckoutSession.of(
                await self._client.v1.checkout.sessions.expire_async(session_id))
        except self._stripe.InvalidRequestError:
            return await self.retrieve_checkout(session_id)
        except self._stripe.StripeError as error:
            return await self._call("checkout.expire", _raise(error))

    async def refund(self, *, payment_intent: str, amount: int | None, idempotency_key: str,
                     metadata: dict[str, str]) -> str:
        """Refund `amount` of a payment (None: all that is left of it); returns the refund id.

        Raises: PaymentsUnavailable.
        """
        params: dict[str, Any] = {"payment_intent": payment_intent, "metadata": metadata}
        if amount is not None:
            params["amount"] = amount
        refund = await self._call("refund", self._client.v1.refunds.create_async(
            params, {"idempotency_key": idempotency_key}))
        return refund.id

    async def charge_of(self, payment_intent: str) -> str:
        """The charge that paid a PaymentIntent (its `latest_charge`).

        Raises: PaymentsUnavailable.
        """
        intent = await self._call("payment_intent.retrieve",
                                  self._client.v1.payment_intents.retrieve_async(payment_intent))
        charge = intent.to_dict().get("latest_charge")
        if isinstance(charge, dict):
            charge = charge.get("id")
        if not charge:
            raise PaymentsUnavailable("The payment has no charge yet; the transfer waits.")
        return str(charge)

    async def transfer(self, *, amount: int, currency: str, destination: str,
                       source_transaction: str, transfer_group: str, idempotency_key: str,
                       metadata: dict[str, str]) -> str:
        """A Connect transfer to a seller's account out of the buyer's charge; returns its id.

        `source_transaction` ties the transfer to the charge: card funds stay pending for days,
        and a transfer without it would draw on the platform's available balance instead (and
        fail, or pay out money the platform does not have yet).

        Raises: PaymentsUnavailable.
        """
        transfer = await self._call("transfer", self._client.v1.transfers.create_async(
            {"amount": amount, "currency": currency, "destination": destination,
             "source_transaction": source_transaction, "transfer_group": transfer_group,
             "metadata": metadata},
            {"idempotency_key": idempotency_key}))
        return transfer.id

    async def create_account(self, *, idempotency_key: str, metadata: dict[str, str]) -> str:
        """A connected account for a seller, configured by controller properties as an
        Express-style account (the `type` parameter is deprecated on the pinned version): the
        platform pays Stripe's fees and carries losses, Stripe collects requirements, the seller
        gets the Express dashboard; the `transfers` capability is requested. Returns its id.

        Raises: PaymentsUnavailable.
        """
        account = await self._call("account.create", self._client.v1.accounts.create_async(
            {"controller": {"fees": {"payer": "application"},
                            "losses": {"payments": "application"},
                            "requirement_collection": "stripe",
                            "stripe_dashboard": {"type": "express"}},
             "capabilities": {"transfers": {"requested": True}},
             "metadata": metadata}, {"idempotency_key": idempotency_key}))
        return account.id

    async def account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        """A one-time onboarding link for a connected account.

        Raises: PaymentsUnavailable.
        """
        link = await self._call("account_link", self._client.v1.account_links.create_async(
            {"account": account, "refresh_url": refresh_url, "return_url": return_url,
             "type": "account_onboarding"}))
        return link.url

    async def account_ready(self, account: str) -> bool:
        """True once the connected account can receive transfers (`transfers` capability
        active).

        Raises: PaymentsUnavailable.
        """
        acct = await self._call("account.retrieve",
                                self._client.v1.accounts.retrieve_async(account))
        capabilities = acct.to_dict().get("capabilities") or {}
        return capabilities.get("transfers") == "active"

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event in a webhook request, or WebhookRejected (bad signature, stale, not JSON)."""
        if not signature:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            event = self._stripe.Webhook.construct_event(payload, signature, self._webhook_secret,
                                                   tolerance=WEBHOOK_TOLERANCE_SECONDS)
        except self._stripe.SignatureVerificationError:
            raise WebhookRejected("signature verification failed") from None
        except ValueError:
            raise WebhookRejected("body is not a JSON event") from None
        return event.to_dict()


async def _raise(error: BaseException) -> Any:
    raise error
