"""Collectibles: numbered editions of tradeable badges, sold on the marketplace through escrow.

A collectible is an award of a tradeable badge (`badge_awards`, `serial` 1..supply): one member
owns it (`user_id`); on its first move its `_id` becomes "<guild>:<badge>#<serial>" and its
edition place follows (economy/badges/repo.py `move`). Its id in a listing is "<badge>#<serial>"
(e.g. "c3#17").

- Listing (the marketplace's item gate, economy/marketplace/listings.py `attach_items`): only
  the owner lists it, only a tradeable badge's edition, one open listing per edition. The claim
  is the award's `listing_id`, written in the same transaction as the draft (and again when it
  goes live), guarded by the owner and `claim_v` read; a claim whose listing is no longer open
  (withdrawn, expired, rejected, sold, deleted) is free to take again, so nothing has to release it.
- Settlement (the trades' item hook, economy/trades/trades.py `settle_items_with`): in the
  settlement's own transaction, a full release to the seller (completed, or a dispute resolved
  as a release) moves the collectible to the buyer and records the move in `badge_transfers`,
  guarded by owner == seller and the claiming listing; a miss aborts the whole settlement (no
  GEMS move either). A refund or a split leaves it with the seller: the buyer paid for the item
  only when the seller received the whole price (rule documented in docs/features.md).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from economy.badges.repo import BadgeRepo, edition_key
from economy.core.clock import Clock, to_ms
from economy.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from economy.repos.base import Doc

if TYPE_CHECKING:  # the service imports this module; typing only
    from economy.badges.service import BadgeService

#: Listing statuses that keep a claim (economy/marketplace/repo.py OPEN_STATUSES; copied: the
#: badges read listings, they do not import the marketplace).
OPEN_STATUSES = ("draft", "pending", "active", "reserved")
EDITION_ID = re.compile(r"^\s*([a-z0-9_]{1,40})\s*#\s*(\d{1,6})\s*$")


class CollectibleOutOfStep(Conflict):
    """The collectible is not where the settlement expects it (nothing was settled)."""


def parse_edition(text: str | None) -> tuple[str, int]:
    """("c3", 17) from "c3#17"; InvalidInput for anything else."""
    found = EDITION_ID.match((text or "").lower())
    if not found:
        raise InvalidInput("Name the collectible as `badge#serial`, e.g. `c3#17` "
                           "(`/profile badges` shows yours).")
    return found.group(1), int(found.group(2))


async def open_listing(repo: BadgeRepo, guild_id: int, doc: Doc) -> int | None:
    """The open listing (draft to reserved) that claims the award read as `doc`, or None."""
    listing_id = doc.get("listing_id")
    if listing_id is None:
        return None
    listing = await repo.listing_state(guild_id, int(listing_id))
    if listing is None or listing.get("status") not in OPEN_STATUSES:
        return None
    return int(listing_id)


@dataclass(frozen=True)
class ItemTicket:
    """What a listing of a collectible was checked against (read before its transaction)."""

    item: str
    title: str
    seen: Doc


class CollectibleGate:
    """The marketplace's item gate: checks and claims a collectible for a listing."""

    def __init__(self, repo: BadgeRepo, badges: BadgeService) -> None:
        self._repo = repo
        self._badges = badges

    async def prepare(self, guild_id: int, seller_id: int, item: str,
                      listing_id: int | None = None) -> ItemTicket:
        """Check that `seller_id` may list collectible `item` (a listing being published or
        relisted passes its own id: its claim is its own). Nothing is written.

        Raises: Conflict (listed already); InvalidInput (not an edition id, or soulbound);
        NotFound (no such edition); NotPermitted (someone else's).
        """
        key, serial = parse_edition(item)
        badge = (await self._badges.catalogue(guild_id)).get(key)
        doc = await self._repo.edition(guild_id, key, serial) if badge else None
        if badge is None or doc is None:
            raise NotFound(f"There is no collectible `{key}#{serial}` here: "
                           "`/profile badges` shows yours.")
        if not badge.tradeable:
            raise InvalidInput(f"{badge.emoji} {badge.name} is soulbound: it cannot be traded.")
        if int(doc["user_id"]) != seller_id:
            raise NotPermitted(f"{badge.emoji} {badge.name} #{serial} is not yours to sell.")
        claimed = await open_listing(self._repo, guild_id, doc)
        if claimed is not None and claimed != listing_id:
            raise Conflict(f"{badge.emoji} {badge.name} #{serial} is on listing #{claimed} "
                           "already (one listing per collectible).")
        return ItemTicket(item=f"{key}#{serial}",
                          title=f"{badge.name} #{serial} of {badge.supply}", seen=doc)

    async def claim(self, guild_id: int, ticket: ItemTicket, listing_id: int, *,
                    session: Any) -> bool:
        """Claim the collectible for `listing_id` inside the listing's transaction (guarded by
        what `prepare` read); False when another listing or a move got there first.
        Raises: nothing expected."""
        return await self._repo.claim(guild_id, ticket.seen, listing_id, session=session)


class CollectibleSettlement:
    """The trades' item hook: a collectible follows a full release to the seller, once."""

    def __init__(self, repo: BadgeRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def plan(self, trade: Any, *, to_seller: int,
                   to_status: str) -> Callable[[Any], Awaitable[None]] | None:
        """The write to run inside the settlement's transaction, or None when this settlement
        moves no collectible (no listing, not a collectible, a refund or a split).
        Reads happen here, before the transaction. Raises: nothing expected."""
        if trade.listing_id is None or to_status not in ("completed", "resolved"):
            return None
        if to_seller < trade.price:  # refund or split: it stays with the seller
            return None
        guild_id = trade.guild_id
        listing = await self._repo.listing_state(guild_id, int(trade.listing_id))
        item = (listing or {}).get("collectible")
        if not item:
            return None
        key, serial = parse_edition(item)
        doc = await self._repo.edition(guild_id, key, serial)
        if doc is None:
            raise CollectibleOutOfStep(f"Collectible {item} of listing #{trade.listing_id} is "
                                       "gone, so nothing was settled. Please tell a moderator.")
        repo, at_ms = self._repo, to_ms(self._clock.now())
        transfer = {"_id": f"{guild_id}:trade:{trade.trade_id}", "guild_id": guild_id,
                    "award_id": edition_key(guild_id, key, serial), "badge": key, "serial": serial,
                    "from_id": trade.seller_id, "to_id": trade.buyer_id,
                    "trade_id": trade.trade_id, "listing_id": int(trade.listing_id),
                    "at_ms": at_ms}

        async def move(session: Any) -> None:
            if not await repo.move(guild_id, doc, seller_id=trade.seller_id,
                                   buyer_id=trade.buyer_id, listing_id=int(trade.listing_id),
                                   transfer=dict(transfer), session=session):
                raise CollectibleOutOfStep(
                    f"Collectible {item} is not the seller's on listing #{trade.listing_id} "
                    "any more, so nothing was settled. Please tell a moderator.")

        return move


@dataclass(frozen=True)
class Move:
    """One change of hands of a collectible."""

    from_id: int
    to_id: int
    trade_id: int
    at_ms: int


class CollectibleViews:
    """What members see of collectibles: an edition's owner and history; their export."""

    def __init__(self, repo: BadgeRepo, badges: BadgeService) -> None:
        self._repo = repo
        self._badges = badges

    async def history(self, guild_id: int, item: str) -> tuple[Doc, list[Move]]:
        """An edition's award (owner, first owner in `_id`, minted `at_ms`) and its moves.

        Raises: InvalidInput (not an edition id); NotFound (no such edition).
        """
        key, serial = parse_edition(item)
        doc = await self._repo.edition(guild_id, key, serial)
        if doc is None:
            raise NotFound(f"There is no collectible `{key}#{serial}` here.")
        moves = [Move(from_id=int(d["from_id"]), to_id=int(d["to_id"]),
                      trade_id=int(d["trade_id"]), at_ms=int(d["at_ms"]))
                 for d in await self._repo.history(guild_id,
                                                   edition_key(guild_id, key, serial))]
        return doc, moves

    async def listed(self, guild_id: int, user_id: int) -> dict[str, int]:
        """A member's collectibles that are on an open listing: edition id -> listing id.
        Raises: nothing expected."""
        found = {}
        for doc in await self._repo.held(guild_id, user_id):
            listing = await open_listing(self._repo, guild_id, doc)
            if listing is not None and doc.get("serial") is not None:
                found[f"{doc['badge']}#{doc['serial']}"] = listing
        return found

    async def export(self, guild_id: int, user_id: int) -> list[Doc]:
        """The moves a member sold or bought (for /privacy export). Raises: nothing expected."""
        return await self._repo.transfers_of(guild_id, user_id)
