"""What admins see of card payments: the setup and pending work (`status`), and every checkout
and payout of the guild (`history`, also as CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import from_ms
from economy.core.settings import SettingsService
from economy.payments._shared import StripeLink, require_admin
from economy.payments.repo import PaymentRepo
from economy.repos.base import Doc


class ReportService:
    """Read-only admin views of a guild's card payments."""

    def __init__(self, repo: PaymentRepo, settings: SettingsService, stripe: StripeLink) -> None:
        self._repo = repo
        self._settings = settings
        self._stripe = stripe

    async def history(self, guild_id: int, actor: Actor) -> list[Doc]:
        """Admins: every checkout and payout of the guild, newest first.

        Raises: NotPermitted (not an admin).
        """
        require_admin(actor, guild_id)
        rows = []
        for c in await self._repo.checkouts_for_guild(guild_id):
            rows.append({"when": c["created_ms"], "what": f"checkout #{c['checkout_no']}",
                         "kind": c["kind"], "member": c["buyer_id"], "amount": c["amount"],
                         "currency": c["currency"], "status": c["status"],
                         "ref": f"trade #{c['trade_id']}" if c.get("trade_id")
                         else f"pack #{c['target']}"})
        for p in await self._repo.payouts_for_guild(guild_id):
            rows.append({"when": p["created_ms"], "what": p["payout_id"], "kind": p["kind"],
                         "member": p.get("user_id") or "", "amount": p["amount"],
                         "currency": p["currency"], "status": p["status"],
                         "ref": p.get("stripe_id") or ""})
        rows.sort(key=lambda r: r["when"], reverse=True)
        return rows

    async def history_csv(self, guild_id: int, actor: Actor) -> str:
        """The history as CSV (amounts in each currency's minor unit as Stripe counts it).

        Raises: NotPermitted (not an admin).
        """
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["when_utc", "what", "kind", "member_id", "amount_minor_units", "currency",
                         "status", "ref"])
        for r in await self.history(guild_id, actor):
            when = from_ms(r["when"]).isoformat()
            writer.writerow([when, r["what"], r["kind"], r["member"], r["amount"],
                             r["currency"], r["status"], r["ref"]])
        return out.getvalue()

    async def status(self, guild_id: int, actor: Actor) -> dict[str, Any]:
        """Admins: configuration, the last event received, pending work.

        Raises: NotPermitted (not an admin).
        """
        require_admin(actor, guild_id)
        settings = await self._settings.get(guild_id)
        last = await self._repo.last_event(guild_id)
        payouts = await self._repo.payouts_for_guild(guild_id)
        checkouts = await self._repo.checkouts_for_guild(guild_id, limit=200)
        return {
            "configured": self._stripe.configured,
            "test_mode": bool(getattr(self._stripe.gateway, "test_mode", False)),
            "enabled": settings.payments_usd, "packs": settings.payments_packs,
            "currency": settings.payments_currency, "fee_bps": settings.payments_fee_bps,
            "payout_mode": settings.payments_payout_mode,
            "webhook_url": f"{self._stripe.base_url()}/stripe/webhook",
            "last_event": last,
            "open_checkouts": sum(1 for c in checkouts if c["status"] == "open"),
            "pending_payouts": sum(1 for p in payouts if p["status"] == "pending"),
            "stuck_payouts": [p for p in payouts if p["status"] == "stuck"],
            "manual_due": [p for p in payouts if p["status"] == "manual_due"],
        }
