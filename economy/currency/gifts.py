"""`/gems give` with its abuse limits: established senders only, a daily giving cap, and a flag
to the moderators when many young accounts funnel GEMS into one member.

The recipient is told by DM, coalesced like the marketplace's alert digest: each gift is queued
(`gift_notices`, in the gift's own transaction) due `gift_dm_minutes` later, and the sweep sends
each recipient ONE DM of everything queued meanwhile once their oldest gift is due. A member
showered with gifts therefore gets at most one gift DM per window (no DM spam by gifting), and
the DM goes through bot/dm.py, which honours `/gems dms off`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from economy.core.clock import Clock, from_ms, span_ms, to_ms
from economy.core.eligibility import is_young, require_established
from economy.core.errors import Cooldown, InvalidInput
from economy.core.ledger import LedgerService
from economy.core.models import Movement, is_system
from economy.core.settings import SettingsService
from economy.currency.repo import GiftNoticeRepo
from economy.repos.ledger_repo import LedgerRepo
from economy.repos.member_repo import MemberRepo

FAN_IN_WINDOW = timedelta(hours=24)


class _GiveCooldown(Cooldown):
    """The sender gave less than `give_cooldown_seconds` ago (aborts the transfer; a domain
    error, so a repeat of an applied give is still answered with its first result)."""


class _OverDailyCap(Exception):
    """Raised inside the transfer's transaction when the sender's daily cap would be exceeded."""


@dataclass(frozen=True)
class GiftLine:
    """One sender's gifts within a recipient's DM: the total, how many gifts, the last note."""

    sender_id: int
    amount: int
    count: int = 1
    note: str | None = None


@dataclass(frozen=True)
class GiftDigest:
    """One DM to a recipient: every gift queued for them since their last gift DM."""

    guild_id: int
    user_id: int
    lines: tuple[GiftLine, ...] = ()

    @property
    def total(self) -> int:
        """GEMS received in all."""
        return sum(line.amount for line in self.lines)


def digest_of(guild_id: int, user_id: int, docs: list[dict]) -> GiftDigest:
    """Group queued gifts by sender, in the order the senders first gave."""
    by_sender: dict[int, GiftLine] = {}
    for doc in docs:
        sender = int(doc["sender_id"])
        before = by_sender.get(sender)
        note = doc.get("note") or (before.note if before else None)
        by_sender[sender] = GiftLine(
            sender_id=sender, amount=int(doc["amount"]) + (before.amount if before else 0),
            count=1 + (before.count if before else 0), note=note)
    return GiftDigest(guild_id=guild_id, user_id=user_id, lines=tuple(by_sender.values()))


@dataclass(frozen=True)
class GiftResult:
    """A completed gift and any abuse signals for the moderators."""

    movement: Movement
    flags: tuple[str, ...] = ()


class GiftService:
    """Gives GEMS from one member to another through the ledger."""

    def __init__(self, ledger: LedgerService, ledger_repo: LedgerRepo, members: MemberRepo,
                 settings: SettingsService, clock: Clock,
                 notices: GiftNoticeRepo | None = None) -> None:
        self._ledger = ledger
        self._ledger_repo = ledger_repo
        self._members = members
        self._settings = settings
        self._clock = clock
        self._notices = notices

    async def give(self, guild_id: int, sender_id: int, recipient_id: int, amount: int, *,
                   key: str, note: str | None = None,
                   sender_joined_at: datetime | None = None) -> GiftResult:
        """Move `amount` GEMS; refuses new members and gifts over the sender's daily cap.

        The cap is a guarded per-day counter written in the transfer's own transaction, so
        concurrent gives cannot exceed it, and a refused give changes nothing.

        Raises: Cooldown, DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidAmount,
            InvalidInput, NotPermitted, OutcomeUnknown.
        """
        if is_system(recipient_id):  # the treasury or a deleted member's account is nobody
            raise InvalidInput("GEMS can only be given to a member.")
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        require_established(settings, sender_id, sender_joined_at, now, "give GEMS")
        local_day = now.astimezone(settings.zone).date()
        bucket = f"give:{local_day.isoformat()}"
        members = self._members
        notices = self._notices
        now_ms = to_ms(now)
        tell = {"_id": f"{guild_id}:{recipient_id}:{key}", "guild_id": guild_id,
                "user_id": recipient_id, "sender_id": sender_id, "amount": amount,
                "note": note or None, "at_ms": now_ms,
                "due_ms": now_ms + span_ms(timedelta(minutes=settings.gift_dm_minutes))}

        cooldown_ms = span_ms(timedelta(seconds=settings.give_cooldown_seconds))

        async def within_cap(session: Any) -> None:
            # The cooldown is claimed in the transfer's transaction: two gives at once cannot
            # both pass it, and a refused give leaves no claim behind.
            if cooldown_ms and not await members.claim_interval(
                    guild_id, sender_id, "give:cooldown", now_ms, cooldown_ms, session=session):
                raise _GiveCooldown("give cooldown", retry_at=now)
            if not await members.add_up_to(guild_id, sender_id, bucket, amount,
                                           settings.give_daily_cap, session=session):
                raise _OverDailyCap
            if notices is not None:  # told once, and only when the gift happened
                await notices.queue(tell, session=session)

        try:
            movement = await self._ledger.transfer(
                guild_id, sender_id, recipient_id, amount, key=key, note=note,
                limit=settings.max_transfer, also=within_cap)
        except _GiveCooldown:
            last = await members.last_claim(guild_id, sender_id, "give:cooldown") or now_ms
            raise Cooldown("You gave GEMS a moment ago; this server allows one give every "
                           f"{settings.give_cooldown_seconds:,} s.",
                           retry_at=from_ms(last + cooldown_ms)) from None
        except _OverDailyCap:
            given = await members.bucket_total(guild_id, sender_id, bucket)
            tomorrow = datetime.combine(local_day + timedelta(days=1), datetime.min.time(),
                                        settings.zone)
            raise Cooldown(
                f"You can give at most {settings.money(settings.give_daily_cap)} per day and have "
                f"given {given:,} today.", retry_at=tomorrow) from None
        flags: tuple[str, ...] = ()
        if not movement.replayed and is_young(sender_id, sender_joined_at, now):
            flags = await self._fan_in_flags(guild_id, sender_id, recipient_id,
                                             settings.fanin_flag_senders)
        return GiftResult(movement=movement, flags=flags)

    async def due_digests(self, *, batch: int = 200) -> list[GiftDigest]:
        """The gift DMs due now: one per recipient whose oldest queued gift waited its window.

        Each queued gift is claimed by one delete, so a digest goes out once even when two
        bot processes sweep together (the sweep is a leader job anyway).

        Raises: nothing expected.
        """
        if self._notices is None:
            return []
        digests = []
        now_ms = to_ms(self._clock.now())
        for guild_id, user_id in await self._notices.due_recipients(now_ms, limit=batch):
            docs = await self._notices.take(guild_id, user_id)
            if docs:
                digests.append(digest_of(guild_id, user_id, docs))
        return digests

    async def _fan_in_flags(self, guild_id: int, sender_id: int, recipient_id: int,
                            threshold: int) -> tuple[str, ...]:
        """One flag per recipient per day when `threshold` young accounts gave to them lately."""
        if not threshold:
            return ()
        now = self._clock.now()
        entries = await self._ledger_repo.history(guild_id, recipient_id, skip=0, limit=500)
        senders = {e["counterparty_id"] for e in entries
                   if e["kind"] == "transfer" and e["delta"] > 0 and e["at"] >= now - FAN_IN_WINDOW
                   and e.get("counterparty_id") and is_young(e["counterparty_id"], None, now)}
        senders.add(sender_id)  # young by account age or by membership (checked by the caller)
        if len(senders) < threshold:
            return ()
        if not await self._members.claim_interval(guild_id, recipient_id, "flag:fan-in",
                                                  to_ms(now), span_ms(FAN_IN_WINDOW)):
            return ()
        return (f"<@{recipient_id}> received GEMS from {len(senders)} young accounts in 24 h "
                f"(possible alt farming): {', '.join(f'<@{s}>' for s in sorted(senders)[:10])}.",)
