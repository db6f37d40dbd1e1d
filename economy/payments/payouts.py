"""Paying out card trades: sellers' Stripe Connect onboarding, what a settled card trade owes
(refund / transfer from the buyer's own charge / manual payout), carrying it out with Stripe
under one idempotency key per payout, the retries, and admins recording a manual payout.

When a card trade settles (confirm, auto-release, cancel, dispute outcome), escrow calls
`settle`: the trade transition and the record of what is owed commit together; the Stripe
calls follow, keyed by the payout id, and the sweep (`retry_due`) retries the ones that failed.
So each refund or transfer is asked of Stripe under one idempotency key and recorded done once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.settings import SettingsService
from economy.core.text import clean_text
from economy.payments._shared import StripeLink, payout_doc, require_admin
from economy.payments.currencies import format_amount
from economy.payments.models import PaymentOutcome
from economy.payments.repo import PaymentRepo
from economy.payments.stripe_gateway import PaymentsUnavailable
from economy.repos.base import Doc
from economy.trades.models import Trade
from economy.trades.repo import TradeRepo

log = logging.getLogger(__name__)

PAYOUT_INLINE_SECONDS = 2.0
RETRY_HOURS = 23  # within Stripe's 24-hour idempotency window


class PayoutService:
    """Sellers' payout accounts and the refunds, transfers and manual payouts card trades owe."""

    def __init__(self, repo: PaymentRepo, trade_repo: TradeRepo, settings: SettingsService,
                 clock: Clock, stripe: StripeLink) -> None:
        self._repo = repo
        self._trades = trade_repo
        self._settings = settings
        self._clock = clock
        self._stripe = stripe

    # --- sellers -----------------------------------------------------------------------------
    async def connect(self, guild_id: int, user_id: int) -> tuple[str, bool]:
        """A seller's Stripe onboarding link and whether their account is ready already.

        Raises: PaymentsUnavailable (Stripe not configured or not answering); InvalidInput
        (the guild pays sellers itself: payout mode `manual`).
        """
        settings = await self._settings.get(guild_id)
        gateway = self._stripe.require()
        if settings.payments_payout_mode != "connect":
            raise InvalidInput("This server pays sellers itself (payout mode `manual`), so there "
                               "is no payout account to connect.")
        seller = await self._repo.seller(guild_id, user_id)
        if seller is None:
            account = await gateway.create_account(
                idempotency_key=f"gems-{guild_id}-seller-{user_id}",
                metadata={"guild_id": str(guild_id), "user_id": str(user_id)})
            seller = await self._repo.save_seller({
                "guild_id": guild_id, "user_id": user_id, "account_id": account, "ready": False,
                "created_at": self._clock.now()})
        ready = bool(seller.get("ready")) or await gateway.account_ready(seller["account_id"])
        if ready:
            await self._repo.mark_seller_ready(guild_id, user_id)
        base = self._stripe.base_url()
        url = await gateway.account_link(account=seller["account_id"],
                                         refresh_url=f"{base}/stripe/connect/refresh",
                                         return_url=f"{base}/stripe/connect/done")
        return url, ready

    async def seller_ready(self, guild_id: int, user_id: int) -> bool:
        """Whether a seller's payout account can receive transfers (asks Stripe, and remembers,
        while it is not known ready yet).

        Raises: PaymentsUnavailable (Stripe not configured or not answering).
        """
        seller = await self._repo.seller(guild_id, user_id)
        if seller and not seller.get("ready") and \
                await self._stripe.require().account_ready(seller["account_id"]):
            await self._repo.mark_seller_ready(guild_id, user_id)
            return True
        return bool(seller and seller.get("ready"))

    # --- settling card trades (called by escrow) ---------------------------------------------
    async def settle(self, trade: Trade, *, to_seller: int, fee: int, actor_id: int | None,
                     also: Any) -> None:
        """Record what a settled card trade owes, in the transition's transaction; then pay.

        Raises: whatever `also` (the trade's guarded transition) raises, with nothing recorded;
        Stripe failures are not raised (the payout stays pending for the sweep).
        """
        guild_id = trade.guild_id
        settings = await self._settings.get(guild_id)
        raw = await self._trades.get(guild_id, trade.trade_id) or {}
        intent = (raw.get("payment") or {}).get("payment_intent")
        payouts = []
        refund = trade.price - to_seller
        if refund > 0:
            payouts.append(payout_doc(self._clock, guild_id, f"trade:{trade.trade_id}:refund",
                                      "refund", refund, trade.currency, trade_id=trade.trade_id,
                                      payment_intent=intent))
        net = to_seller - fee
        if net > 0:
            seller = await self._repo.seller(guild_id, trade.seller_id)
            manual = settings.payments_payout_mode == "manual" or not seller
            payouts.append(payout_doc(
                self._clock, guild_id, f"trade:{trade.trade_id}:payout",
                "manual" if manual else "transfer",
                net, trade.currency, trade_id=trade.trade_id, fee=fee, user_id=trade.seller_id,
                destination=None if manual else seller["account_id"], payment_intent=intent,
                status="manual_due" if manual else "pending"))

        async def work(s: Any) -> None:
            await also(s)
            for payout in payouts:
                await self._repo.insert_payout(payout, session=s)

        await self._repo.db.transaction(work)
        for payout in payouts:
            try:
                # Bounded, so a slow Stripe cannot make a click miss Discord's deadline; a call
                # cut short is retried by the sweep under the same idempotency key.
                await asyncio.wait_for(self.carry_out(payout), PAYOUT_INLINE_SECONDS)
            except TimeoutError:
                log.warning("payout %s/%s left for the sweep", guild_id, payout["payout_id"])

    async def carry_out(self, payout: Doc) -> bool:
        """Ask Stripe for a pending refund/transfer (keyed by its id); True when done now.

        Raises: nothing (a failed call is noted on the payout and retried by the sweep).
        """
        gateway = self._stripe.gateway
        if payout["status"] != "pending" or gateway is None:
            return False
        key = f"gems-{payout['guild_id']}-{payout['payout_id']}"
        meta = {"guild_id": str(payout["guild_id"]), "payout": payout["payout_id"]}
        try:
            if not payout.get("payment_intent"):
                raise PaymentsUnavailable("no payment intent recorded")
            if payout["kind"] == "refund":
                # A full refund (a mismatched payment) lets Stripe refund what is left of it.
                stripe_id = await gateway.refund(
                    payment_intent=payout["payment_intent"],
                    amount=None if payout.get("full") else payout["amount"],
                    idempotency_key=key, metadata=meta)
            else:
                # Out of the buyer's own charge (its funds are still pending), not out of the
                # platform's available balance.
                charge = await gateway.charge_of(payout["payment_intent"])
                stripe_id = await gateway.transfer(
                    amount=payout["amount"], currency=payout["currency"],
                    destination=payout["destination"], source_transaction=charge,
                    transfer_group=f"gems-{payout['guild_id']}-trade-{payout['trade_id']}",
                    idempotency_key=key, metadata=meta)
        except PaymentsUnavailable as error:
            await self._repo.note_payout_attempt(payout["guild_id"], payout["payout_id"],
                                                 error.message)
            return False
        return await self._repo.move_payout(payout["guild_id"], payout["payout_id"], "pending",
                                            "done", {"stripe_id": stripe_id,
                                                     "done_ms": to_ms(self._clock.now())})

    async def retry_due(self) -> list[PaymentOutcome]:
        """The sweep's part for payouts: retry pending ones; stop (and tell the guild about)
        those pending longer than Stripe remembers idempotency keys.

        Raises: nothing. Every change is a guarded transition (two sweeps apply each once).
        """
        outcomes: list[PaymentOutcome] = []
        stale = to_ms(self._clock.now() - timedelta(hours=RETRY_HOURS))
        for payout in await self._repo.pending_payouts():
            if payout["created_ms"] <= stale:
                # Stripe forgets idempotency keys after 24 h: a retry could pay twice. Stop and
                # let an admin check in the Stripe dashboard.
                if await self._repo.move_payout(payout["guild_id"], payout["payout_id"],
                                                "pending", "stuck"):
                    outcomes.append(PaymentOutcome("notice", guild_id=payout["guild_id"], notice=(
                        f"⚠️ Stripe {payout['kind']} `{payout['payout_id']}` of "
                        f"{format_amount(payout['amount'], payout['currency'])} failed for "
                        f"{RETRY_HOURS} hours and is no longer retried. Check the Stripe "
                        "dashboard and pay or refund it by hand.")))
                continue
            await self.carry_out(payout)
        return outcomes

    # --- manual payouts ----------------------------------------------------------------------
    async def record_manual_payout(self, guild_id: int, trade_id: int, actor: Actor, *,
                                   note: str | None = None) -> Doc:
        """Admins: the guild paid a seller itself (manual mode); recorded once.

        Raises: NotPermitted (not an admin); InvalidInput (the note is too long); NotFound (no
        manual payout due for that trade, or it is recorded already).
        """
        require_admin(actor, guild_id)
        actor_id = actor.user_id
        payout_id = f"trade:{trade_id}:payout"
        note = clean_text(note, 200, "note")
        if not await self._repo.move_payout(guild_id, payout_id, "manual_due", "manual_paid",
                                            {"paid_by": actor_id, "note": note,
                                             "done_ms": to_ms(self._clock.now())}):
            raise NotFound(f"Trade #{trade_id} has no manual payout due.")
        docs = [p for p in await self._repo.payouts_for_trade(guild_id, trade_id)
                if p["payout_id"] == payout_id]
        return docs[0]
