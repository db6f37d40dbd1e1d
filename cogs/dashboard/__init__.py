"""The web dashboard's Discord side: `/dashboard` (the link, and logging out everywhere), and
the dashboard's web routes (bot/dashboard/) when DASHBOARD_* settings turn it on."""

from bot.dashboard import dashboard_routes
from cogs.dashboard._cog import DashboardCog


async def setup(bot) -> None:
    """Register the cog, and the web routes when the dashboard is configured."""
    if bot.settings.dashboard_enabled:
        bot.web.add_routes(dashboard_routes(bot))
    # Expired sessions and login states are forgotten by the bot's own clock (not a TTL index).
    bot.jobs.add("dashboard-prune", bot.services.dashboard.prune, every_seconds=3600)
    await bot.add_cog(DashboardCog(bot))
