"""Card payments: the Stripe API double and services whose gateway talks to it."""

from __future__ import annotations

import pytest

from devtools.stripe_double import StripeDouble
from economy.core.actor import Actor
from economy.marketplace.repo import ListingRepo
from economy.payments.stripe_gateway import StripeGateway

SECRET_KEY = "sk_test_gemsdouble0000000000"
WEBHOOK_SECRET = "whsec_gemstestsecret000000"
G = 41
SELLER, BUYER, MOD = 1, 2, 9


@pytest.fixture(autouse=True)
def _short_stripe_backoff(monkeypatch):
    """The stripe library's retries, with its back-off sleeps cut to 10 ms.

    The same requests are retried (same count, same idempotency keys); only the wait between
    them (0.5 s doubling, up to 5 s) would be the tests' time: ~1 s of every test where the
    double fails a request.
    """
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.04)


@pytest.fixture
async def double(clock):
    """A running Stripe API double on the tests' clock."""
    async with StripeDouble(SECRET_KEY, clock=lambda: clock.now().timestamp()) as running:
        yield running


@pytest.fixture
async def pay(services, double):
    """Services whose payments gateway is the real stripe library pointed at the double."""
    gateway = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, api_base=double.url)
    services.payments.stripe.configure(gateway, lambda: "http://gems.test")
    await services.settings.set(G, Actor.system(), "payments_usd", "yes")
    yield services
    await gateway.close()


async def usd_listing(services, cents: str = "12.50", gems: int | None = None,
                      title: str = "Emerald ring") -> int:
    """An active listing with a USD price (and optionally a GEMS price)."""
    await services.settings.set(G, Actor.system(), "marketplace_usd", "yes")
    draft = await services.marketplace.listings.create_draft(
        G, SELLER, category="rings", condition="new", title=title,
        description="A lovely emerald ring in 18k gold.", price_gems=gems, price_usd=cents)
    await services.marketplace.listings.publish(G, SELLER, draft.listing_id)
    return draft.listing_id


async def quote(services, listing_id: int) -> dict:
    """What the Pay button carries: price and version as shown."""
    doc = await ListingRepo(services.db).get(G, listing_id)
    return {"expected_cents": doc["price_usd_cents"], "expected_version": doc["version"]}


async def post_event(services, event: dict, *, secret: str = WEBHOOK_SECRET,
                     timestamp: int | None = None):
    """Sign an event like Stripe and hand the raw body to the service."""
    body, header = StripeDouble.signed(event, secret, timestamp)
    return await services.payments.settlement.handle_webhook(body.encode(), header)
