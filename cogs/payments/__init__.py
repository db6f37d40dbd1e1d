"""Card payments (Stripe): pay USD listings, GEMS packs, seller onboarding, the webhook."""

from cogs.payments._cog import PaymentsAdminCog, UsdCog
from cogs.payments._views import PayUsdButton
from cogs.payments._web import payment_routes

#: What other cogs may use (a marketplace listing card carries the Pay-by-card button).
__all__ = ["PayUsdButton", "setup"]


async def setup(bot) -> None:
    """Attach the Stripe gateway (from STRIPE_* settings), the web routes and the sweep."""
    cog = UsdCog(bot)
    bot.services.payments.stripe.configure(bot.settings.stripe_gateway(), lambda: bot.web.public_url)
    bot.web.add_routes(payment_routes(cog))
    # Every minute: reservations whose session ended without a webhook; payouts to retry.
    bot.jobs.add("payments-sweep", cog.sweep, every_seconds=60)
    await bot.add_cog(cog)
    await bot.add_cog(PaymentsAdminCog(bot))
