"""The shop's rules: the catalogue staff keep, quotes, purchases, refunds, consumables, and
the timed roles that end.

A purchase is ONE ledger transaction (LedgerService.spend, idempotent by its key) whose `also`
writes take a unit (guarded by the quoted price and version, and by the stock), count it in the
member's holding (guarded by the count read) and record the purchase. A role is given by the
Discord adapter after the commit; when it cannot be given the purchase is refunded in one
transaction (money back, unit back, holding undone).

Kind "badge" is granted by the badges feature through the shop's kind seam
(economy/shop/kinds.py; the shop never imports the badges): the award (for a limited badge, the
next numbered edition) is written by the same transaction as the payment, so a sold-out edition
or a badge the member holds already refuses the purchase with nothing charged. A badge is not
refundable once awarded (its status is `done`, which `refund` never undoes).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from economy.core import timeparse
from economy.core.actor import Actor
from economy.core.clock import Clock, span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService, check_amount
from economy.core.models import Page, is_system
from economy.core.modules import require_on
from economy.core.settings import SettingsService
from economy.core.text import clean_text
from economy.shop.effects import ItemEffect
from economy.shop.kinds import (
    GRANT_ATTEMPTS,
    KindGrant,
    KindGranter,
    KindRefused,
    PlaceTaken,
)
from economy.shop.models import (
    DAY_MS,
    EFFECTS,
    MAX_DAYS,
    MAX_STOCK,
    Holding,
    HoldingChanged,
    Item,
    PrizeUnavailable,
    Purchase,
    Quote,
    QuoteChanged,
)
from economy.shop.repo import ShopRepo

PAGE_SIZE = 5
#: A purchase's status after its commit: a role waits for the adapter to give it, a custom item
#: for staff to hand it over (a ticket); anything else is done.
_FIRST_STATUS = {"role": "granting", "custom": "fulfilling"}
NAME_MAX = 60
DESCRIPTION_MAX = 200
_UNSET: Any = object()
#: Effects the shop applies itself (the others come from features: use_effect_with).
_OWN_EFFECTS = frozenset({"streak_freeze"})


@dataclass(frozen=True)
class PrizeGrant:
    """A prize ready to be given: its purchase record, and the guarded writes that give it
    (`write(session)`, in the caller's transaction)."""

    purchase: Purchase
    write: Callable[[Any], Awaitable[None]]


def _count(value: int | None, what: str, *, most: int) -> int | None:
    """A positive whole number up to `most`, or None (no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidInput(f"The {what} must be a whole number from 1 to {most:,} (leave it "
                           "empty for no limit).")
    return value


class ShopService:
    """Catalogue, purchases and inventories of the guilds' shops."""

    def __init__(self, repo: ShopRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock) -> None:
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._kinds: dict[str, KindGranter] = {}
        self._effects: dict[str, ItemEffect] = {}
        #: (guild, item) -> the turn of this process's buyers of one kind item (see `buy`).
        self._turns: dict[tuple[int, int], asyncio.Lock] = {}

    def grant_kind_with(self, kind: str, granter: KindGranter) -> None:
        """Sell items of `kind`, granted by another feature (economy/badges/__init__.py
        registers "badge"; see economy/shop/kinds.py).

        Raises: nothing expected.
        """
        self._kinds[kind] = granter

    def use_effect_with(self, effect: str, applier: ItemEffect) -> None:
        """Sell and use consumables with `effect`, applied by another feature
        (economy/marketplace/__init__.py registers "listing_boost"; see economy/shop/effects.py).

        Raises: nothing expected.
        """
        self._effects[effect] = applier

    async def effect_choices(self, guild_id: int, user_id: int, effect: str,
                             current: str) -> list[tuple[str, int]]:
        """(label, target id) of what a member may use an `effect` item on (autocomplete);
        empty when no feature provides the effect.

        Raises: nothing expected.
        """
        applier = self._effects.get(effect)
        return await applier.choices(guild_id, user_id, current or "") if applier else []

    async def kind_choices(self, guild_id: int, kind: str, current: str) -> list[tuple[str, str]]:
        """(label, ref) of what staff may sell as `kind` (autocomplete); empty when no feature
        provides the kind.

        Raises: nothing expected.
        """
        granter = self._kinds.get(kind)
        return await granter.choices(guild_id, current or "") if granter else []

    # --- staff --------------------------------------------------------------------------------
    async def add(self, guild_id: int, actor: Actor, *, name: str, price: int, kind: str,
                  role_id: int | None = None, days: int | None = None, effect: str | None = None,
                  stock: int | None = None, per_member_limit: int | None = None,
                  required_role_id: int | None = None, description: str | None = None,
                  available_from: str | None = None, available_until: str | None = None,
                  zone: tzinfo | None = None, target: str | None = None) -> Item:
        """Put a new item on sale (admin). Raises InvalidInput on bad input, nothing stored.
        Kind "badge" sells the badge `target` (its key: a badge staff made without a rule, see
        the badges' granter), awarded when bought.

        Raises: FeatureOff, InvalidAmount, InvalidInput, NotPermitted.
        """
        actor.require_admin(guild_id)
        settings = await require_on(self._settings, guild_id, "shop")
        fields = self._checked(name=name, price=price, description=description,
                               per_member_limit=per_member_limit, required_role_id=required_role_id)
        if kind == "role":
            if role_id is None:
                raise InvalidInput("A role item needs the role to give.")
            days = _count(days, "number of days", most=MAX_DAYS)
            effect = None
        elif kind == "consumable":
            if effect not in EFFECTS:
                raise InvalidInput(f"A consumable needs an effect: {', '.join(EFFECTS)}.")
            if effect not in _OWN_EFFECTS and effect not in self._effects:
                raise InvalidInput(f"The effect `{effect}` is not part of this bot (its feature "
                                   "is missing), so it can't be sold.")
            role_id = days = None
        elif kind == "custom":
            if not fields["description"]:
                raise InvalidInput("A custom item needs a description: what staff will hand "
                                   "over.")
            role_id = days = effect = None
        elif kind == "badge":
            granter = self._kinds.get("badge")
            if granter is None:
                raise InvalidInput("Badges are not part of this bot, so they can't be sold.")
            if not target:
                raise InvalidInput("A badge item needs the badge to sell (`badge` option).")
            chosen = await granter.target(guild_id, target)
            role_id = days = effect = None
            fields.update(target=chosen.ref, target_label=chosen.label)
        else:
            raise InvalidInput("The kind must be `role`, `consumable`, `custom` or `badge`.")
        stock = _count(stock, "stock", most=MAX_STOCK)
        fields.update(self._window(available_from, available_until, zone or settings.zone))
        item_id = await self._repo.next_item_id(guild_id)
        now = self._clock.now()
        doc = {"guild_id": guild_id, "item_id": item_id, "kind": kind, "role_id": role_id,
               "days": days, "effect": effect, "stock": stock, "sold": 0, "active": True,
               "version": 1, "created_by": actor.user_id, "created_ms": to_ms(now), **fields}
        await self._repo.insert_item(doc)
        return Item.of(doc)

    async def edit(self, guild_id: int, actor: Actor, item_id: int, *, name: Any = _UNSET,
                   price: Any = _UNSET, description: Any = _UNSET, per_member_limit: Any = _UNSET,
                   required_role_id: Any = _UNSET, available_from: Any = _UNSET,
                   available_until: Any = _UNSET, zone: tzinfo | None = None) -> Item:
        """Change an item (admin); its version rises, so open quotes are refused.

        Raises: FeatureOff, InvalidAmount, InvalidInput, NotFound, NotPermitted.
        """
        actor.require_admin(guild_id)
        settings = await require_on(self._settings, guild_id, "shop")
        item = await self._item(guild_id, item_id, active=True)
        given = {k: v for k, v in {"name": name, "price": price, "description": description,
                                   "per_member_limit": per_member_limit,
                                   "required_role_id": required_role_id}.items()
                 if v is not _UNSET}
        fields = self._checked(**{"name": item.name, "price": item.price, **given})
        fields = {k: v for k, v in fields.items() if k in given}
        if available_from is not _UNSET or available_until is not _UNSET:
            zone = zone or settings.zone
            start = available_from if available_from is not _UNSET else None
            end = available_until if available_until is not _UNSET else None
            window = self._window(start, end, zone)
            if available_from is _UNSET:
                window["from_ms"] = item.from_ms
            if available_until is _UNSET:
                window["until_ms"] = item.until_ms
            if (window["from_ms"] is not None and window["until_ms"] is not None
                    and window["until_ms"] <= window["from_ms"]):
                raise InvalidInput("The end of the sale must come after its start.")
            fields.update(window)
        if not fields:
            raise InvalidInput("Nothing to change: give at least one option.")
        return await self._update(item, fields)

    async def remove(self, guild_id: int, actor: Actor, item_id: int) -> Item:
        """Take an item off sale (admin). Holders keep what they bought.

        Raises: FeatureOff, InvalidInput, NotFound, NotPermitted.
        """
        actor.require_admin(guild_id)
        await require_on(self._settings, guild_id, "shop")
        item = await self._item(guild_id, item_id, active=True)
        return await self._update(item, {"active": False})

    async def restock(self, guild_id: int, actor: Actor, item_id: int, amount: int) -> Item:
        """Add units to a limited item (admin).

        Raises: FeatureOff, InvalidInput, NotFound, NotPermitted.
        """
        actor.require_admin(guild_id)
        await require_on(self._settings, guild_id, "shop")
        amount = _count(amount, "amount to add", most=MAX_STOCK)
        if amount is None:
            raise InvalidInput("Give how many units to add.")
        item = await self._item(guild_id, item_id, active=True)
        if item.stock is None:
            raise InvalidInput("That item has unlimited stock already.")
        if item.stock + amount > MAX_STOCK:
            raise InvalidInput(f"The stock can be at most {MAX_STOCK:,}.")
        return await self._update(item, {}, inc={"stock": amount})

    async def all_items(self, guild_id: int, actor: Actor) -> list[Item]:
        """Every item, withdrawn ones included (staff list).

        Raises: NotPermitted.
        """
        actor.require_admin(guild_id)
        return [Item.of(d) for d in await self._repo.catalogue(guild_id, active_only=False)]

    # --- members ------------------------------------------------------------------------------
    async def item(self, guild_id: int, item_id: int) -> Item:
        """One item (withdrawn ones too).

        Raises: NotFound.
        """
        return await self._item(guild_id, item_id)

    async def catalogue(self, guild_id: int, page: int = 1) -> Page:
        """Items on sale, PAGE_SIZE per page.

        Raises: FeatureOff.
        """
        await require_on(self._settings, guild_id, "shop")
        total = await self._repo.count_items(guild_id, active_only=True)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        docs = await self._repo.catalogue(guild_id, active_only=True, skip=(page - 1) * PAGE_SIZE,
                                          limit=PAGE_SIZE)
        return Page(rows=tuple(Item.of(d) for d in docs), page=page, page_size=PAGE_SIZE,
                    total=total)

    async def quote(self, guild_id: int, user_id: int, item_id: int,
                    role_ids: frozenset[int] = frozenset(), *,
                    recipient_id: int | None = None) -> Quote:
        """What buying `item_id` costs now, with a fresh nonce for the confirmation (nothing is
        reserved). Refuses what the purchase would refuse. With `recipient_id` it is a gift:
        `user_id` pays, the recipient (whose roles are `role_ids`) gets the item.

        Raises: FeatureOff, InvalidInput, NotFound, NotPermitted.
        """
        await require_on(self._settings, guild_id, "shop")
        holder = self._holder(user_id, recipient_id)
        item = await self._item(guild_id, item_id)
        holding = await self._repo.holding(guild_id, holder, item_id)
        self._check_buyable(item, holding, role_ids, gift=holder != user_id)
        await self._check_kind(item, holder, gift=holder != user_id)
        return Quote(item=item, balance=await self._ledger.balance(guild_id, user_id),
                     nonce=secrets.randbelow(10**12))

    async def buy(self, guild_id: int, user_id: int, item_id: int, *, expected_price: int,
                  expected_version: int, nonce: int,
                  role_ids: frozenset[int] = frozenset(),
                  recipient_id: int | None = None) -> Purchase:
        """Buy one unit at the quoted price and version, once per (member, item, nonce).

        With `recipient_id` it is a gift: `user_id` pays (and is refunded if a role cannot be
        given), the recipient gets the item in the same transaction; the item's limits and
        required role apply to the recipient (`role_ids` are then theirs).

        Raises QuoteChanged, InsufficientFunds, NotPermitted, InvalidInput, NotFound; a repeated
        confirmation answers the first purchase (`replayed`).
        """
        settings = await require_on(self._settings, guild_id, "shop")
        holder = self._holder(user_id, recipient_id)
        gift = holder != user_id
        key = (f"shop:{item_id}:{user_id}:{nonce}" if not gift
               else f"shopgift:{item_id}:{user_id}:{holder}:{nonce}")
        done = await self._repo.purchase(guild_id, key)
        if done is not None:
            return Purchase.of(done, replayed=True)
        item = await self._item(guild_id, item_id)
        if item.price != expected_price or item.version != expected_version or not item.active:
            raise QuoteChanged("This item changed since you were quoted "
                               f"(it now costs {item.price:,} GEMS): nothing was charged. "
                               "Press **Buy** again to see the new offer.")
        holding = await self._repo.holding(guild_id, holder, item_id)
        self._check_buyable(item, holding, role_ids, gift=gift)
        burn = settings.shop_sink == "burn"
        note = (f"gift of <@{user_id}> (shop item #{item_id})" if gift
                else f"bought in the shop (item #{item_id})")
        # Buyers of one kind item (a numbered edition) in this process take turns: each plans
        # its place after the previous purchase committed. Without turns every concurrent buyer
        # planned the same edition and all but one retried (100 buyers of 10 editions: ~1,000
        # transactions, and buyers past GRANT_ATTEMPTS refused while editions were left).
        # Only an optimisation: other processes still race, the unique place decides and a
        # lost one is planned again (PlaceTaken).
        turn = (self._turns.setdefault((guild_id, item_id), asyncio.Lock())
                if item.kind in self._kinds else contextlib.nullcontext())
        async with turn:
            return await self._buy_planned(guild_id, user_id, item, holder, holding, key=key,
                                           note=note, burn=burn, gift=gift, role_ids=role_ids)

    async def _buy_planned(self, guild_id: int, user_id: int, item: Item, holder: int,
                           holding: dict | None, *, key: str, note: str, burn: bool,
                           gift: bool, role_ids: frozenset[int]) -> Purchase:
        """Plan the grant, then pay and grant in one ledger transaction (again after a lost
        place); the purchase record, or a replay of the first one."""
        item_id, repo = item.item_id, self._repo
        if item.kind in self._kinds:  # the turn may have waited for other purchases
            done = await repo.purchase(guild_id, key)
            if done is not None:
                return Purchase.of(done, replayed=True)
            holding = await repo.holding(guild_id, holder, item_id)
            self._check_buyable(item, holding, role_ids, gift=gift)
        for attempt in range(GRANT_ATTEMPTS if item.kind in self._kinds else 1):
            record = self._record(key, item, user_id, holding, price=item.price, burn=burn)
            if gift:
                record["recipient_id"] = holder
            planned = await self._plan_kind(item, holder, note=note, attempt=attempt, gift=gift)
            if planned is not None:
                record.update(planned.fields)

            async def grant(session: Any, record: dict = record,
                            planned: KindGrant | None = planned) -> None:
                if not await repo.take_unit(guild_id, item_id, version=item.version,
                                            price=item.price, limited=item.stock is not None,
                                            session=session):
                    raise QuoteChanged("Someone was faster: that item just sold out or "
                                       "changed. Nothing was charged.")
                await self._hold(item, holder, holding, record, session=session)
                if planned is not None:
                    await planned.write(session)

            try:
                movement = await self._ledger.spend(guild_id, user_id, item.price, key=key,
                                                    ref=f"shop:{item_id}", burn=burn,
                                                    note=item.name, also=grant)
            except PlaceTaken:  # another buyer got that edition first: plan again
                continue
            if movement.replayed:
                return Purchase.of(await repo.purchase(guild_id, key) or record, replayed=True)
            return Purchase.of(record)
        raise InvalidInput("Many members are buying this right now: nothing was charged. "
                           "Please try again.")

    # --- raffle prizes (economy/raffles asks; a prize is given exactly as a purchase) --------
    async def prize_item(self, guild_id: int, item_id: int, units: int) -> Item:
        """Check that `item_id` can be a raffle's prize for `units` winners: it exists in this
        guild's shop, is on sale, and (limited stock) has a unit left for each winner.

        Raises: FeatureOff, InvalidInput, NotFound.
        """
        await require_on(self._settings, guild_id, "shop")
        item = await self._item(guild_id, item_id)
        if not item.active:
            raise InvalidInput(f"Item #{item_id} was removed from the shop: it can't be a prize. "
                               "No raffle was opened.")
        if item.stock is not None and item.stock < units:
            raise InvalidInput(f"Item #{item_id} has {item.stock:,} left and a prize needs one "
                               f"per winner ({units}): restock it or draw fewer winners. "
                               "No raffle was opened.")
        granter = self._kinds.get(item.kind)
        if item.kind == "badge":
            if granter is None or item.target is None:
                raise InvalidInput("Badges are not part of this bot: that item can't be a prize.")
            left = (await granter.target(guild_id, item.target)).left
            if left is not None and left < units:
                raise InvalidInput(f"Item #{item_id}'s badge has {left:,} editions left and a "
                                   f"prize needs one per winner ({units}). No raffle was "
                                   "opened.")
        return item

    async def reserve_prize(self, item: Item, units: int, *, session: Any) -> None:
        """In the caller's transaction (a raffle opening): set one unit per winner aside, so no
        buyer takes the prize's units and the draw never counts stock again. An item with
        unlimited stock has nothing to set aside.

        Raises: PrizeUnavailable (sold out or withdrawn since `prize_item`).
        """
        if item.stock is None:
            return
        if not await self._repo.reserve_units(item.guild_id, item.item_id, units,
                                              session=session):
            raise PrizeUnavailable(f"Item #{item.item_id} just sold out or left the shop: no "
                                   "raffle was opened.")

    async def release_prize(self, guild_id: int, item_id: int, units: int, *,
                            session: Any) -> None:
        """In the caller's transaction: units `reserve_prize` set aside go back on sale (the
        raffle was cancelled, or fewer members than places took part).

        Raises: nothing expected.
        """
        if units > 0:
            await self._repo.release_units(guild_id, item_id, units, session=session)

    async def prize_grant(self, guild_id: int, item_id: int, user_id: int, *, key: str,
                          prize: str, attempt: int = 0, avoid: tuple[int, ...] = ()) -> PrizeGrant:
        """Prepare giving one unit of `item_id` to `user_id` as a prize, exactly as a purchase
        gives it (the same holding and purchase record, a role to give after the commit) but
        free and without taking stock (`reserve_prize` did). Reads now; `grant.write(session)`
        writes in the caller's transaction, guarded by the holding read, once per `key` (the
        record's id). The per-member limit, required role and sale window are the buyers'
        rules: staff chose to give this.

        A badge item's award is planned here too (`avoid`: the editions other prizes of the
        same draw take); a member who holds the badge already, or an edition run out since the
        raffle opened, leaves the prize `undelivered` (nothing awarded; staff decide) instead
        of failing the draw. A lost edition raises PlaceTaken (a HoldingChanged: read again).

        Raises: NotFound.
        """
        item = await self._item(guild_id, item_id)
        holding = await self._repo.holding(guild_id, user_id, item_id)
        record = self._record(key, item, user_id, holding, price=0, burn=False)
        record["prize"] = prize
        planned = None
        try:
            planned = await self._plan_kind(item, user_id, note=f"prize of {prize}",
                                            attempt=attempt, avoid=avoid)
        except KindRefused:
            record["status"] = "undelivered"
        if planned is not None:
            record.update(planned.fields)

        async def write(session: Any) -> None:
            await self._hold(item, user_id, holding, record, session=session)
            if planned is not None:
                await planned.write(session)

        return PrizeGrant(Purchase.of(record), write)

    async def prize_grants(self, guild_id: int, item_id: int, winners: list[tuple[int, str]],
                           *, prize: str, attempt: int = 0) -> list[PrizeGrant]:
        """`prize_grant` for each (winner, key) of one draw, planned so that no two take the
        same numbered place (a limited badge's edition).

        Raises: NotFound.
        """
        grants: list[PrizeGrant] = []
        taken: list[int] = []
        for user_id, key in winners:
            grant = await self.prize_grant(guild_id, item_id, user_id, key=key, prize=prize,
                                           attempt=attempt, avoid=tuple(taken))
            if grant.purchase.serial is not None:
                taken.append(grant.purchase.serial)
            grants.append(grant)
        return grants

    async def prize(self, guild_id: int, key: str) -> Purchase | None:
        """A prize (or purchase) by its key, as stored now.

        Raises: nothing expected.
        """
        doc = await self._repo.purchase(guild_id, key)
        return Purchase.of(doc) if doc is not None else None

    async def prize_undelivered(self, guild_id: int, key: str) -> bool:
        """A prize's role could not be given: `granting` -> `undelivered`, once (True for the
        one caller that made the change). Staff give it by hand; nothing is refunded (nothing
        was paid) and the unit stays the winner's.

        Raises: nothing expected.
        """
        return await self._repo.set_purchase_status(guild_id, key, from_status="granting",
                                                    to_status="undelivered")

    async def role_granted(self, guild_id: int, key: str) -> bool:
        """The adapter gave the purchased role.

        Raises: nothing expected.
        """
        return await self._repo.set_purchase_status(guild_id, key, from_status="granting",
                                                    to_status="granted")

    async def refund(self, guild_id: int, key: str, reason: str, *,
                     from_status: str = "granting") -> Purchase | None:
        """Undo a purchase whose role could not be given (or, `from_status="fulfilling"`, a
        custom item staff refund): GEMS back, unit back, holding undone, once (None when it was
        settled already).

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, OutcomeUnknown.
        """
        doc = await self._repo.purchase(guild_id, key)
        if doc is None or doc["status"] != from_status or doc.get("prize"):
            return None  # a prize cost nothing: see prize_undelivered
        repo = self._repo

        async def undo(session: Any) -> None:
            if not await repo.set_purchase_status(guild_id, key, from_status=from_status,
                                                  to_status="refunded", session=session):
                raise InvalidInput("That purchase was settled already.")
            await repo.return_unit(guild_id, doc["item_id"], session=session)
            await repo.undo_holding(guild_id, doc.get("recipient_id") or doc["user_id"],
                                    doc["item_id"],
                                    quantity=1 if doc["kind"] == "consumable" else 0,
                                    until_ms=doc.get("until_ms"),
                                    prev_until_ms=doc.get("prev_until_ms"),
                                    days_ms=(doc.get("days") or 0) * DAY_MS, session=session)

        try:
            movement = await self._ledger.refund_spend(
                guild_id, doc["user_id"], doc["price"], key=f"{key}:refund",
                ref=f"shop:{doc['item_id']}", burn=doc["burn"], note=reason[:200], also=undo)
        except InvalidInput:
            return None
        if movement.replayed:  # a concurrent refund of the same purchase made it
            return None
        return Purchase.of({**doc, "status": "refunded"})

    # --- custom items: staff hand them over (a ticket with Fulfil / Refund) -------------------
    async def fulfil(self, guild_id: int, actor: Actor, key: str) -> Purchase:
        """A moderator handed a custom item over: `fulfilling` -> `fulfilled`, once.

        Raises: NotFound, NotPermitted, InvalidInput (settled already).
        """
        actor.require_moderator(guild_id)
        doc = await self._ticket(guild_id, key)
        if not await self._repo.set_purchase_status(guild_id, key, from_status="fulfilling",
                                                    to_status="fulfilled"):
            raise InvalidInput("That ticket was settled already.")
        return Purchase.of({**doc, "status": "fulfilled"})

    async def refund_ticket(self, guild_id: int, actor: Actor, key: str) -> Purchase:
        """A moderator refunds a custom item instead of handing it over: GEMS back to the payer,
        the unit back on sale, once. A prize cost nothing and is not refunded.

        Raises: DeletedAccount, IdempotencyConflict, InsufficientFunds, InvalidInput, NotFound,
            NotPermitted, OutcomeUnknown.
        """
        actor.require_moderator(guild_id)
        doc = await self._ticket(guild_id, key)
        if doc.get("prize"):
            raise InvalidInput("A prize cost nothing, so there is nothing to refund: hand it "
                               "over, then press Fulfil.")
        done = await self.refund(guild_id, key, f"refunded by staff ({actor.user_id})",
                                 from_status="fulfilling")
        if done is None:
            raise InvalidInput("That ticket was settled already.")
        return done

    async def tickets_to_post(self, guild_id: int) -> list[Purchase]:
        """Custom items waiting for staff whose ticket is not posted yet (a restart, or no
        staff channel when it was bought).

        Raises: nothing expected.
        """
        return [Purchase.of(d) for d in await self._repo.unposted_tickets(guild_id)]

    async def claim_ticket(self, guild_id: int, key: str, *, posted: bool = True) -> bool:
        """Claim posting a ticket (True for the one caller that claims it); `posted=False`
        hands it back when the post failed, for the sweep to try again.

        Raises: nothing expected.
        """
        return await self._repo.set_ticket_posted(guild_id, key, posted)

    async def _ticket(self, guild_id: int, key: str) -> dict:
        doc = await self._repo.purchase(guild_id, key)
        if doc is None or doc.get("kind") != "custom":
            raise NotFound("There is no such shop ticket.")
        return doc

    async def inventory(self, guild_id: int, user_id: int) -> list[tuple[Item, Holding]]:
        """What a member holds: consumables left and roles still running (or permanent).

        Raises: FeatureOff.
        """
        await require_on(self._settings, guild_id, "shop")
        now_ms = to_ms(self._clock.now())
        found = []
        for doc in await self._repo.holdings_of(guild_id, user_id):
            item_doc = await self._repo.item(guild_id, doc["item_id"])
            if item_doc is None:
                continue
            item = Item.of(item_doc)
            holding = Holding(item_id=doc["item_id"], bought=doc["bought"],
                              quantity=doc.get("quantity", 0),
                              role_until_ms=doc.get("role_until_ms"))
            if item.kind == "consumable" and holding.quantity <= 0:
                continue
            if item.kind in ("custom", "badge") and holding.bought <= 0:
                continue
            if item.kind == "role" and (holding.bought <= 0 or (
                    item.days and (holding.role_until_ms or 0) <= now_ms)):
                continue
            found.append((item, holding))
        return found

    async def use(self, guild_id: int, user_id: int, item_id: int,
                  target: int | None = None) -> str:
        """Use one consumable from the inventory; returns what it did. `target`: what an
        effect of another feature is used on (a listing id for a listing boost).

        The unit is taken in the same transaction as the effect's write, so a refusal (checked
        before, or a target that changed meanwhile) consumes nothing, and two uses of one unit
        at once apply it once.

        Raises: FeatureOff, InvalidInput, NotFound, NotPermitted.
        """
        settings = await require_on(self._settings, guild_id, "shop")
        item = await self._item(guild_id, item_id)
        if item.kind != "consumable":
            raise InvalidInput("That item is not something you use: roles work by themselves.")
        applier = self._effects.get(item.effect or "")
        if item.effect not in _OWN_EFFECTS and applier is None:
            raise InvalidInput("That item has no effect to use on this bot.")
        label = applier.target_label if applier is not None else None
        if label is None and target is not None:
            raise InvalidInput(f"**{item.name}** is not used on anything: leave the option "
                               "empty.")
        if label is not None and target is None:
            raise InvalidInput(f"Pick the {label} to use **{item.name}** on (the `{label}` "
                               "option).")
        holding = await self._repo.holding(guild_id, user_id, item_id)
        left = holding.get("quantity", 0) if holding else 0
        if left <= 0:
            raise InvalidInput(f"You have no **{item.name}** left.")
        repo = self._repo

        async def consume(session: Any) -> None:
            if not await repo.consume(guild_id, user_id, item_id, expected_quantity=left,
                                      session=session):
                raise InvalidInput("Your inventory just changed; nothing was used. Try again.")

        if applier is not None:
            plan = await applier.plan(guild_id, user_id, target, settings)

            async def work(session: Any) -> None:
                await consume(session)
                await plan.write(session)  # EffectRefused: aborted, the unit stays

            await self._repo.db.transaction(work)
            return f"{plan.said} {left - 1} left."
        if item.effect == "streak_freeze":
            day = await self._ledger.cover_missed_day(guild_id, user_id, settings, also=consume)
            return (f"Streak freeze used: {day.isoformat()} counts as claimed, so your daily "
                    f"streak goes on. {left - 1} left.")
        raise InvalidInput("That item has no effect to use.")

    async def due_roles(self, guild_id: int) -> list[tuple[int, int, int, int]]:
        """(user, item, role, until_ms) of timed roles that have ended.

        Raises: nothing expected.
        """
        now_ms = to_ms(self._clock.now())
        found = []
        for doc in await self._repo.due_roles(guild_id, now_ms):
            item_doc = await self._repo.item(guild_id, doc["item_id"])
            if item_doc and item_doc.get("role_id"):
                found.append((doc["user_id"], doc["item_id"], item_doc["role_id"],
                              doc["role_until_ms"]))
        return found

    async def role_ended(self, guild_id: int, user_id: int, item_id: int, until_ms: int) -> bool:
        """Record a timed role removed (False when it was extended since).

        Raises: nothing expected.
        """
        return await self._repo.end_role(guild_id, user_id, item_id, until_ms)

    async def stale_grants(self, guild_id: int, older_than_ms: int = span_ms(timedelta(minutes=2))) -> list[Purchase]:
        """Role purchases still waiting for their role (a restart between commit and grant).

        Raises: nothing expected.
        """
        before = to_ms(self._clock.now()) - older_than_ms
        return [Purchase.of(d) for d in await self._repo.stale_grants(guild_id, before)]

    async def guild_ids(self) -> list[int]:
        """Guilds with shop holdings (for the sweep).

        Raises: nothing expected.
        """
        return await self._repo.guild_ids()

    # --- internals ----------------------------------------------------------------------------
    async def _item(self, guild_id: int, item_id: int, *, active: bool = False) -> Item:
        doc = await self._repo.item(guild_id, item_id)
        if doc is None or (active and not doc.get("active")):
            raise NotFound(f"There is no item #{item_id} in the shop.")
        return Item.of(doc)

    async def _update(self, item: Item, fields: dict[str, Any],
                      inc: dict[str, int] | None = None) -> Item:
        doc = await self._repo.update_item(item.guild_id, item.item_id, item.version, fields, inc)
        if doc is None:
            raise InvalidInput("The item changed while you edited it; look again and retry.")
        return Item.of(doc)

    def _record(self, key: str, item: Item, user_id: int, holding: dict | None, *, price: int,
                burn: bool) -> dict[str, Any]:
        """The purchase record of one unit of `item` (its `_id` is the idempotency key): a role
        is `granting` until the adapter gives it; a timed role runs from the later of now and
        the end of the time already held."""
        now_ms = to_ms(self._clock.now())
        prev_until = holding.get("role_until_ms") if holding else None
        until = None
        if item.kind == "role" and item.days:
            until = max(now_ms, prev_until or 0) + item.days * DAY_MS
        return {"_id": key, "guild_id": item.guild_id, "user_id": user_id,
                "item_id": item.item_id, "price": price, "kind": item.kind,
                "role_id": item.role_id, "days": item.days, "burn": burn,
                "status": _FIRST_STATUS.get(item.kind, "done"), "at_ms": now_ms,
                "until_ms": until, "prev_until_ms": prev_until,
                **({"target": item.target} if item.target is not None else {}),
                **({"ticket_posted": False} if item.kind == "custom" else {})}

    async def _hold(self, item: Item, holder: int, holding: dict | None, record: dict[str, Any],
                    *, session: Any) -> None:
        """The seam every grant goes through (purchase, gift, prize), in the caller's
        transaction: one unit more in the holder's holding (guarded by the holding read) and
        its record stored (a repeated key fails the transaction)."""
        quantity = 1 if item.kind == "consumable" else 0
        if not await self._repo.add_holding(item.guild_id, holder, item.item_id, expected=holding,
                                            quantity=quantity, role_until_ms=record["until_ms"],
                                            session=session):
            raise HoldingChanged("Another purchase of yours is going through; try again.")
        await self._repo.insert_purchase(record, session=session)

    async def _check_kind(self, item: Item, holder: int, *, gift: bool) -> None:
        """The granter's refusal before paying (a badge held already, editions run out)."""
        granter = self._kinds.get(item.kind)
        if item.kind == "badge" and (granter is None or item.target is None):
            raise InvalidInput("Badges are not part of this bot: that item can't be bought.")
        if granter is not None and item.target is not None:
            await granter.check(item.guild_id, item.target, holder, gift=gift)

    async def _plan_kind(self, item: Item, holder: int, *, note: str, attempt: int,
                         avoid: tuple[int, ...] = (), gift: bool = False) -> KindGrant | None:
        """The granter's write for one unit of `item` (None for the shop's own kinds)."""
        await self._check_kind(item, holder, gift=gift)  # fresh, after a lost race too
        granter = self._kinds.get(item.kind)
        if granter is None or item.target is None:
            return None
        return await granter.plan(item.guild_id, item.target, holder, note=note,
                                  attempt=attempt, avoid=avoid)

    @staticmethod
    def _holder(user_id: int, recipient_id: int | None) -> int:
        """Who gets the item: the buyer, or the member a gift is for (never oneself)."""
        if recipient_id is None:
            return user_id
        if recipient_id == user_id:
            raise InvalidInput("You can't gift an item to yourself: use `/shop buy`.")
        if is_system(recipient_id):
            raise InvalidInput("Items can only be gifted to a member.")
        return recipient_id

    def _check_buyable(self, item: Item, holding: dict | None,
                       role_ids: frozenset[int], *, gift: bool = False) -> None:
        why = item.availability(to_ms(self._clock.now()))
        if why:
            raise InvalidInput(why)
        if item.required_role_id is not None and item.required_role_id not in role_ids:
            raise NotPermitted(f"Only members with <@&{item.required_role_id}> can "
                               f"{'receive' if gift else 'buy'} that.")
        bought = holding.get("bought", 0) if holding else 0
        who = "That member" if gift else "You"
        if item.per_member_limit is not None and bought >= item.per_member_limit:
            raise InvalidInput(f"{who} already got the most allowed ({item.per_member_limit}) "
                               "of that item.")
        if item.kind == "role" and not item.days and bought > 0:
            raise InvalidInput(f"{who} already own{'s' if gift else ''} that role for good.")

    @staticmethod
    def _checked(*, name: str, price: int, description: str | None = None,
                 per_member_limit: int | None = None,
                 required_role_id: int | None = None) -> dict[str, Any]:
        clean = clean_text(name, NAME_MAX, "name")
        if not clean:
            raise InvalidInput("Give the item a name.")
        return {"name": clean, "price": check_amount(price, what="price"),
                "description": clean_text(description, DESCRIPTION_MAX, "description"),
                "per_member_limit": _count(per_member_limit, "per-member limit", most=MAX_STOCK),
                "required_role_id": required_role_id}

    def _window(self, start: str | None, end: str | None, zone: tzinfo) -> dict[str, int | None]:
        now = self._clock.now()
        begin: datetime | None = timeparse.parse_when(start, now, zone, allow_past=True) if start else None
        finish = (timeparse.parse_end(end, begin or now, now, zone) if end else None)
        if begin and finish and finish <= begin:
            raise InvalidInput("The end of the sale must come after its start.")
        return {"from_ms": to_ms(begin) if begin else None,
                "until_ms": to_ms(finish) if finish else None}
