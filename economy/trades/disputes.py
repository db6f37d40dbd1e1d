"""Disputes: either side of a held trade asks a moderator to decide; the moderator refunds the
buyer, releases to the seller or splits the held amount.

A resolution is a settlement like a confirm or a cancel (economy/trades/transitions.py): guarded
by the `disputed` status and the version read, under the trade's one settlement key, so a
resolution racing another one (or a timer) moves the GEMS once.
"""

from __future__ import annotations

from typing import Literal

from economy.core.actor import Actor
from economy.core.errors import InvalidInput, NotPermitted
from economy.core.text import clean_text, visible_length
from economy.trades.models import HELD_STATUSES, TEXT_MAX, Trade, TradeResult, fee_for
from economy.trades.transitions import TradeTransitions

REASON_MAX = 500


class DisputeService:
    """Opens disputes, settles them, and shows them to moderators."""

    def __init__(self, transitions: TradeTransitions) -> None:
        self._t = transitions
        self._repo = transitions.repo
        self._clock = transitions.clock

    async def open(self, guild_id: int, trade_id: int, actor_id: int, reason: str,
                   evidence: list[dict[str, str]] | None = None) -> TradeResult:
        """Either side asks a moderator to decide; the timers stop.

        Raises: InvalidInput, NotFound, NotPermitted, TradeUnavailable.
        """
        trade = await self._t.load(guild_id, trade_id)
        if trade.role_of(actor_id) is None:
            raise NotPermitted("Only the buyer and the seller can open a dispute on this trade.")
        reason = clean_text(reason, REASON_MAX, "reason")
        if not reason or visible_length(reason) < 5:
            raise InvalidInput("Please explain the problem (at least 5 characters).")
        evidence = list(evidence or [])[:5]
        now = self._clock.now()
        dispute = {"opened_by": actor_id, "reason": reason, "evidence": evidence, "opened_at": now}
        return await self._t.simple(trade, HELD_STATUSES, "disputed", actor_id,
                                    "Disputes can only be opened while the GEMS are still held.",
                                    fields={"dispute": dispute}, note=reason)

    async def resolve(self, guild_id: int, trade_id: int, actor: Actor,
                      outcome: Literal["refund", "release", "split"], *, percent: int | None = None,
                      note: str | None = None) -> TradeResult:
        """A moderator settles a dispute. `percent` (split) is the seller's share, 0-100.

        The actor must be a moderator of the guild (checked here, whatever the caller checked);
        a party to the trade may not resolve it.

        Raises: DeletedAccount, InsufficientFunds, InvalidAmount, InvalidInput, NotFound,
            NotPermitted (no moderator, or a party), OutcomeUnknown, TradeUnavailable.
        """
        actor.require_moderator(guild_id)
        moderator_id = actor.user_id
        trade = await self._t.load(guild_id, trade_id)
        if trade.role_of(moderator_id) is not None:
            raise NotPermitted("You are part of this trade, so another moderator has to resolve it.")
        if outcome == "split":
            if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
                raise InvalidInput("For a split, give the seller's share as a percent from 0 to 100.")
            to_seller = trade.price * percent // 100
        elif outcome == "release":
            to_seller, percent = trade.price, 100
        elif outcome == "refund":
            to_seller, percent = 0, 0
        else:
            raise InvalidInput("The outcome must be refund, release or split.")
        note = clean_text(note, TEXT_MAX, "note")
        self._t.expect(trade, ("disputed",), "This trade has no open dispute (maybe it was just resolved).")
        resolution = {"outcome": outcome, "percent": percent, "to_seller": to_seller,
                      "fee": fee_for(to_seller, trade.fee_bps), "note": note,
                      "moderator_id": moderator_id, "at": self._clock.now()}
        # The audit-log record is written in the settlement's own transaction: a crash can't
        # leave a resolution without its record.
        record = {"guild_id": guild_id, "at": resolution["at"], "actor_id": moderator_id,
                  "action": "dispute.resolve", "target": f"trade:{trade_id}",
                  "details": resolution}
        return await self._t.settle(trade, to_seller=to_seller, to_status="resolved",
                                    from_status=("disputed",), actor_id=moderator_id,
                                    event=f"resolved: {outcome}" + (f" {percent}%" if outcome == "split" else ""),
                                    fields={"resolution": resolution}, note=note, audit=record)

    # --- moderator views --------------------------------------------------------------------
    async def find(self, guild_id: int, actor: Actor,
                   status: Literal["open", "resolved"] = "open") -> list[Trade]:
        """Disputes, for moderators of the guild.

        Raises: NotPermitted (not a moderator of the guild).
        """
        actor.require_moderator(guild_id)
        docs = await self._repo.by_status(guild_id, ["disputed" if status == "open" else "resolved"])
        return [Trade.model_validate(doc) for doc in docs]

    async def view(self, guild_id: int, actor: Actor, trade_id: int) -> Trade:
        """Any trade with its timeline, for a moderator of the guild.

        Raises: NotPermitted (not a moderator of the guild), NotFound.
        """
        actor.require_moderator(guild_id)
        return await self._t.load(guild_id, trade_id)
