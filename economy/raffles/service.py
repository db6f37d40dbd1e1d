"""The rules of raffles: creation with a committed seed, ticket purchases through the ledger,
the draw, cancellation with refunds, and the sweep's work list.

A ticket purchase is ONE ledger transaction (LedgerService.spend, idempotent by its key) whose
`also` writes count the tickets on the raffle (only while it is open and not ended) and on the
member (only while they stay within the cap): concurrent purchases can neither pass the cap nor
buy into a raffle that closed. Every later step is a guarded status change of the raffle
(open -> closed -> drawn, or open/closed -> cancelled), so two processes running the sweep at
once do each step once; the draw itself is a pure function of the stored seed and tickets.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from economy.core import timeparse
from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import Conflict, InsufficientFunds, InvalidInput, NotFound, Unavailable
from economy.core.ledger import LedgerService, check_amount
from economy.core.models import is_system
from economy.core.modules import require_on
from economy.core.settings import MAX_AMOUNT, SettingsService
from economy.core.text import clean_text
from economy.core.wording import plural
from economy.raffles.models import (
    MAX_TICKETS,
    MAX_WINNERS,
    PRIZE_MAX,
    Draw,
    Raffle,
    TicketPurchase,
    commitment,
    derive_winners,
    prize_key,
)
from economy.raffles.repo import RaffleRepo
from economy.shop.models import HoldingChanged, Item
from economy.shop.service import ShopService

#: Draw attempts of an item raffle while a winner's holding keeps changing under it.
PRIZE_ATTEMPTS = 3


class RaffleClosed(Conflict):
    """The raffle ended, was drawn or was cancelled."""


class OverTicketCap(InvalidInput):
    """More tickets than a member may hold in one raffle."""


@dataclass(frozen=True)
class Refunds:
    """What cancelling (or finishing a cancellation) gave back."""

    raffle: Raffle
    members: int
    amount: int
    #: (member, GEMS) refunded by this call (a refund another run made is not repeated here),
    #: so each member is told once.
    refunded: tuple[tuple[int, int], ...] = ()


def _whole(value: object, what: str, *, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise InvalidInput(f"The {what} must be a whole number from {least} to {most:,}.")
    return value


class RaffleService:
    """Raffles of the guilds."""

    def __init__(self, repo: RaffleRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, shop: ShopService | None = None) -> None:
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        #: Where item prizes come from and how they are given (None: text prizes only).
        self._shop = shop
        #: Where draw seeds come from (256 random bits as hex). The offline demo replaces it so
        #: that its transcript reads the same on every run; nothing else should.
        self.seeds: Callable[[], str] = lambda: secrets.token_hex(32)

    # --- staff --------------------------------------------------------------------------------
    async def create(self, guild_id: int, actor: Actor, *, prize: str | None, price: int,
                     max_per_member: int, ends: str, winners: int = 1,
                     channel_id: int | None = None, zone: tzinfo | None = None,
                     item_id: int | None = None) -> Raffle:
        """Open a raffle (admin): the seed is drawn now and only its hash is shown until the
        draw. `ends`: a time or a duration (the shared time grammar). The prize is `prize`
        (text staff hand over) or a shop item (`item_id`) each winner receives at the draw
        exactly as if they had bought it; a limited item has one unit per winner set aside now
        (in the raffle's own transaction), given back if the raffle is cancelled.

        Raises: FeatureOff, InvalidAmount, InvalidInput, NotFound, NotPermitted,
            PrizeUnavailable.
        """
        actor.require_admin(guild_id)
        settings = await require_on(self._settings, guild_id, "raffles")
        text = clean_text(prize or "", PRIZE_MAX, "prize")
        if not text and item_id is None:
            raise InvalidInput("Say what the prize is: a text, or a shop item (`item`).")
        price = check_amount(price, what="ticket price")
        max_per_member = _whole(max_per_member, "ticket cap per member", least=1,
                                most=MAX_TICKETS)
        if price * max_per_member > MAX_AMOUNT:
            raise InvalidInput("Price × cap is more GEMS than one member could ever pay.")
        winners = _whole(winners, "number of winners", least=1, most=MAX_WINNERS)
        now = self._clock.now()
        end = timeparse.parse_end(ends, now, now, zone or settings.zone)
        if end <= now:
            raise InvalidInput("The raffle must end in the future.")
        item = await self._prize_item(guild_id, item_id, winners)
        text = text or (item.name if item else "")
        seed = self.seeds()
        raffle_id = await self._repo.next_raffle_id(guild_id)
        doc = {"guild_id": guild_id, "raffle_id": raffle_id, "prize": text, "price": price,
               "max_per_member": max_per_member, "winners_count": winners,
               "ends_ms": to_ms(end), "status": "open", "seed": seed,
               "seed_hash": commitment(seed), "channel_id": channel_id, "tickets_sold": 0,
               "burn": settings.raffle_sink == "burn", "winners": [], "drawn_ms": None,
               "announced": False, "refunds_done": False, "created_by": actor.user_id,
               "created_ms": to_ms(now), "prize_item_id": item.item_id if item else None,
               "prize_reserved": winners if item and item.stock is not None else 0}
        if item is None:
            await self._repo.insert_raffle(doc)
        else:
            shop = self._shop
            assert shop is not None  # _prize_item found the item there

            async def reserve(session: Any) -> None:
                await shop.reserve_prize(item, winners, session=session)

            await self._repo.insert_raffle_with(doc, reserve)
        return Raffle.of(doc)

    async def cancel(self, guild_id: int, actor: Actor, raffle_id: int) -> Refunds:
        """Cancel an open (or ended, not yet drawn) raffle and refund every ticket once.

        Raises: FeatureOff, NotFound, NotPermitted, RaffleClosed, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        await require_on(self._settings, guild_id, "raffles")
        doc = await self._doc(guild_id, raffle_id)
        release = None
        if doc.get("prize_reserved") and self._shop is not None:
            shop, units = self._shop, doc["prize_reserved"]

            async def release(session: Any) -> None:
                # In the cancellation's transaction: the prize's units go back on sale once.
                await shop.release_prize(guild_id, doc["prize_item_id"], units, session=session)

        for status in ("open", "closed"):
            if await self._repo.set_status(guild_id, raffle_id, from_status=status,
                                           to_status="cancelled", also=release):
                break
        else:
            raise RaffleClosed(f"Raffle #{raffle_id} was {doc['status']} already: "
                               "nothing to cancel.")
        return await self.finish_refunds(guild_id, raffle_id)

    async def finish_refunds(self, guild_id: int, raffle_id: int) -> Refunds:
        """Refund every member's tickets of a cancelled raffle that were not refunded yet (each
        once: a ledger key per member and a guarded `refunded` flag); the sweep calls it again
        after a crash.

        Raises: NotFound, OutcomeUnknown, RaffleClosed (not cancelled).
        """
        doc = await self._doc(guild_id, raffle_id)
        if doc["status"] != "cancelled":
            raise RaffleClosed(f"Raffle #{raffle_id} is not cancelled.")
        repo = self._repo
        members = amount = left = 0
        refunded: list[tuple[int, int]] = []
        for ticket in await repo.tickets_of(guild_id, raffle_id):
            paid = ticket.get("paid", 0)
            if ticket.get("refunded") or paid <= 0:
                continue
            user_id = ticket["user_id"]

            async def mark(session: Any, user_id: int = user_id, paid: int = paid) -> None:
                if not await repo.mark_refunded(guild_id, raffle_id, user_id, paid,
                                                session=session):
                    raise Conflict("Those tickets were refunded already.")

            try:
                movement = await self._ledger.refund_spend(
                    guild_id, user_id, paid, key=f"raffle:{raffle_id}:refund:{user_id}",
                    ref=f"raffle:{raffle_id}", burn=doc.get("burn", False),
                    note=f"raffle #{raffle_id} cancelled", also=mark)
            except Conflict:
                continue  # refunded by a concurrent run
            except InsufficientFunds:
                # The treasury shard looked short: a concurrent run's refund in flight (the
                # embedded store lets a read see another transaction's uncommitted write). Left
                # for the next sweep, which finds this raffle again (refunds_done stays false).
                left += 1
                continue
            if not movement.replayed:
                members += 1
                amount += paid
                refunded.append((user_id, paid))
        if not left:
            await repo.set_flag(guild_id, raffle_id, "refunds_done", status="cancelled")
        return Refunds(Raffle.of(await self._doc(guild_id, raffle_id)), members, amount,
                       tuple(refunded))

    async def all_raffles(self, guild_id: int, actor: Actor) -> list[Raffle]:
        """The guild's latest raffles, every status (staff list).

        Raises: NotPermitted.
        """
        actor.require_admin(guild_id)
        return [Raffle.of(d) for d in await self._repo.raffles_of(guild_id, None)]

    # --- members ------------------------------------------------------------------------------
    async def open_raffles(self, guild_id: int) -> list[Raffle]:
        """Raffles members can buy tickets for now.

        Raises: FeatureOff.
        """
        await require_on(self._settings, guild_id, "raffles")
        now_ms = to_ms(self._clock.now())
        return [r for r in map(Raffle.of, await self._repo.raffles_of(guild_id, "open"))
                if r.ends_ms > now_ms]

    async def my_tickets(self, guild_id: int, user_id: int) -> list[tuple[Raffle, int]]:
        """A member's tickets in the latest raffles: (raffle, tickets).

        Raises: FeatureOff.
        """
        await require_on(self._settings, guild_id, "raffles")
        found = []
        for ticket in await self._repo.tickets_of_member(guild_id, user_id):
            if ticket.get("count", 0) <= 0:
                continue
            doc = await self._repo.raffle(guild_id, ticket["raffle_id"])
            if doc is not None:
                found.append((Raffle.of(doc), ticket["count"]))
        return found

    async def buy(self, guild_id: int, user_id: int, raffle_id: int, count: int, *,
                  key: str) -> TicketPurchase:
        """Buy `count` tickets, once per `key` (a repeat answers the first purchase).

        Raises: FeatureOff, InsufficientFunds, InvalidAmount, InvalidInput, NotFound,
            OverTicketCap, RaffleClosed, OutcomeUnknown.
        """
        await require_on(self._settings, guild_id, "raffles")
        if is_system(user_id):
            raise InvalidInput("Only a member can buy tickets.")
        count = _whole(count, "number of tickets", least=1, most=MAX_TICKETS)
        stored = await self._doc(guild_id, raffle_id)
        raffle = Raffle.of(stored)
        op_key = f"raffle:{raffle_id}:{user_id}:{key}"
        now_ms = to_ms(self._clock.now())
        self._require_open(raffle, now_ms)
        held = await self._repo.ticket(guild_id, raffle_id, user_id)
        have = held.get("count", 0) if held else 0
        if have + count > raffle.max_per_member:
            raise OverTicketCap(self._cap_text(raffle, have))
        cost = raffle.price * count
        if held is None:
            # Refuse the obvious shortfall before the member's (empty) ticket document is made;
            # the ledger's guarded debit still decides under concurrency.
            have_gems = await self._ledger.balance(guild_id, user_id)
            if have_gems < cost:
                raise InsufficientFunds(f"Not enough GEMS: this needs {cost:,} and the balance "
                                        f"is {have_gems:,}.", balance=have_gems, needed=cost)
            await self._repo.ensure_ticket(guild_id, raffle_id, user_id)
        repo = self._repo
        after: dict[str, Any] = {}

        async def count_tickets(session: Any) -> None:
            if not await repo.count_sold(guild_id, raffle_id, count, now_ms, session=session):
                raise RaffleClosed(f"Raffle #{raffle_id} has ended: nothing was charged.")
            doc = await repo.add_tickets(guild_id, raffle_id, user_id, count, cost,
                                         raffle.max_per_member, session=session)
            if doc is None:
                raise OverTicketCap(self._cap_text(raffle, None))
            after.update(doc)

        movement = await self._ledger.spend(
            guild_id, user_id, cost, key=op_key, ref=f"raffle:{raffle_id}",
            burn=bool(stored.get("burn")), note=plural(count, "raffle ticket"),
            also=count_tickets)
        if movement.replayed:
            mine = await self._repo.ticket(guild_id, raffle_id, user_id)
            return TicketPurchase(raffle, count, cost, mine.get("count", 0) if mine else 0,
                                  None, replayed=True)
        return TicketPurchase(raffle, count, cost, after.get("count", have + count),
                              movement.entries[0].balance_after)

    # --- the sweep ----------------------------------------------------------------------------
    async def draw(self, guild_id: int, raffle_id: int) -> Draw | None:
        """Close an ended raffle and draw it (each step once, guarded); None when it is not
        due, or another run drew it first. Derived from the stored state only: a run after a
        crash finishes what was started.

        Raises: NotFound.
        """
        doc = await self._doc(guild_id, raffle_id)
        now_ms = to_ms(self._clock.now())
        if doc["status"] == "open":
            if doc["ends_ms"] > now_ms:
                return None
            await self._repo.set_status(guild_id, raffle_id, from_status="open",
                                        to_status="closed")
            doc = await self._doc(guild_id, raffle_id)
        if doc["status"] != "closed":
            return None
        # Closed: no ticket can be bought any more (purchases need "open"), so this list is final.
        tickets = tuple((t["user_id"], t["count"])
                        for t in await self._repo.tickets_of(guild_id, raffle_id)
                        if t.get("count", 0) > 0)
        winners = derive_winners(doc["seed"], list(tickets), doc["winners_count"])
        fields = {"winners": winners, "drawn_ms": now_ms,
                  "ticket_list": [[u, n] for u, n in tickets]}
        if doc.get("prize_item_id") is None:
            drawn = await self._repo.set_status(guild_id, raffle_id, from_status="closed",
                                                to_status="drawn", fields=fields)
        else:
            drawn = await self._draw_with_prizes(doc, winners, fields)
        if drawn is None:
            return None
        return Draw(Raffle.of(drawn), tickets)

    async def _draw_with_prizes(self, doc: dict, winners: list[int],
                                fields: dict[str, Any]) -> dict | None:
        """The draw of an item raffle: the guarded closed -> drawn change, each winner's item
        (the shop's own grant, keyed per raffle and place) and the release of the units no
        place used, in one transaction. A winner's holding that changed between the read and
        the write (a purchase of theirs went through) aborts it all; it is read again."""
        shop = self._shop
        if shop is None:
            raise Unavailable("The shop is not available: this raffle's item prize can't be "
                              "given yet.")
        guild_id, raffle_id, item_id = doc["guild_id"], doc["raffle_id"], doc["prize_item_id"]
        unused = max(0, (doc.get("prize_reserved") or 0) - len(winners))
        for attempt in range(PRIZE_ATTEMPTS):
            # One plan for every place, so no two winners take the same badge edition.
            grants = await shop.prize_grants(
                guild_id, item_id,
                [(user_id, prize_key(guild_id, raffle_id, place))
                 for place, user_id in enumerate(winners)],
                prize=f"raffle #{raffle_id}", attempt=attempt)

            async def give(session: Any, grants: list = grants) -> None:
                for grant in grants:
                    await grant.write(session)
                await shop.release_prize(guild_id, item_id, unused, session=session)

            try:
                return await self._repo.set_status(guild_id, raffle_id, from_status="closed",
                                                   to_status="drawn", fields=fields, also=give)
            except HoldingChanged:
                continue
        raise Conflict(f"Raffle #{raffle_id}: a winner's items kept changing; the draw is "
                       "tried again by the next sweep.")

    async def pending(self) -> list[tuple[int, int, str]]:
        """(guild, raffle, status) of raffles with work left for the sweep.

        Raises: nothing expected.
        """
        docs = await self._repo.pending(to_ms(self._clock.now()))
        return [(d["guild_id"], d["raffle_id"], d["status"]) for d in docs]

    async def claim_announcement(self, guild_id: int, raffle_id: int) -> Draw | None:
        """The result to announce, for the one caller that claims it (None for the others).

        Raises: NotFound.
        """
        if not await self._repo.set_flag(guild_id, raffle_id, "announced", status="drawn"):
            return None
        doc = await self._doc(guild_id, raffle_id)
        return Draw(Raffle.of(doc), tuple((u, n) for u, n in doc.get("ticket_list") or ()))

    async def result(self, guild_id: int, raffle_id: int) -> Draw:
        """A drawn raffle's result (seed, tickets, winners) for anyone to verify.

        Raises: NotFound, RaffleClosed (not drawn yet).
        """
        doc = await self._doc(guild_id, raffle_id)
        if doc["status"] != "drawn":
            raise RaffleClosed(f"Raffle #{raffle_id} has not been drawn.")
        return Draw(Raffle.of(doc), tuple((u, n) for u, n in doc.get("ticket_list") or ()))

    # --- internals ----------------------------------------------------------------------------
    async def _prize_item(self, guild_id: int, item_id: int | None, winners: int) -> Item | None:
        """The shop item a new raffle gives (checked by the shop), or None for a text prize."""
        if item_id is None:
            return None
        if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id < 1:
            raise InvalidInput("The item must be a shop item number (see `/shop-admin list`).")
        if self._shop is None:
            raise InvalidInput("The shop is not available, so a raffle's prize can only be text.")
        return await self._shop.prize_item(guild_id, item_id, winners)

    async def _doc(self, guild_id: int, raffle_id: int) -> dict:
        doc = await self._repo.raffle(guild_id, raffle_id)
        if doc is None:
            raise NotFound(f"There is no raffle #{raffle_id}.")
        return doc

    @staticmethod
    def _require_open(raffle: Raffle, now_ms: int) -> None:
        if raffle.status == "cancelled":
            raise RaffleClosed(f"Raffle #{raffle.raffle_id} was cancelled.")
        if raffle.status != "open" or raffle.ends_ms <= now_ms:
            raise RaffleClosed(f"Raffle #{raffle.raffle_id} has ended: no more tickets.")

    @staticmethod
    def _cap_text(raffle: Raffle, have: int | None) -> str:
        held = f" and you have {have}" if have is not None else ""
        return (f"A member can hold at most {plural(raffle.max_per_member, 'ticket')} in raffle "
                f"#{raffle.raffle_id}{held}: nothing was charged.")
