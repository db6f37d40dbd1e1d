"""Web routes for payments: the Stripe webhook and the pages Checkout and onboarding return to."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from economy.payments.stripe_gateway import PaymentsUnavailable, WebhookRejected

if TYPE_CHECKING:
    from cogs.payments._cog import UsdCog

log = logging.getLogger(__name__)

PAGES = {
    "/stripe/done": ("Payment received", "Thanks! Your payment went through. Head back to "
                     "Discord: the bot opens your trade room (or credits your pack) in a moment."),
    "/stripe/cancelled": ("Payment cancelled", "Nothing was charged. The listing stays reserved "
                          "for you until the payment link expires; press Pay again to return."),
    "/stripe/connect/done": ("Payout account", "Thanks! Back in Discord, run /pay connect again "
                             "to check that your payout account is ready."),
    "/stripe/connect/refresh": ("Payout account", "This onboarding link expired. Run /pay "
                                "connect in Discord for a fresh one."),
}


def payment_routes(cog: UsdCog) -> list[web.RouteDef]:
    """`POST /stripe/webhook` (signed events), `GET /stripe/webhook` (reachability probe) and
    the plain pages Stripe sends members back to."""

    async def webhook(request: web.Request) -> web.Response:
        payload = await request.read()
        try:
            outcome = await cog.services.payments.settlement.handle_webhook(
                payload, request.headers.get("Stripe-Signature"))
        except WebhookRejected as error:
            log.info("stripe webhook rejected: %s", error.message)
            return web.json_response({"error": error.message}, status=400)
        except PaymentsUnavailable:
            return web.json_response({"error": "payments are not configured"}, status=503)
        # Announcing is best effort: the event is recorded and acted on already.
        await cog.announce(outcome)
        return web.json_response({"received": True, "result": outcome.result})

    async def probe(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "expects": "POST from Stripe"})

    def page(title: str, text: str):
        body = (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
                f"<body style='font-family:sans-serif;max-width:36em;margin:3em auto'>"
                f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>")

        async def handler(request: web.Request) -> web.Response:
            return web.Response(text=body, content_type="text/html")
        return handler

    routes = [web.post("/stripe/webhook", webhook), web.get("/stripe/webhook", probe)]
    routes += [web.get(path, page(title, text)) for path, (title, text) in PAGES.items()]
    return routes
