"""Raffles and their draw.

The draw is reproducible and verifiable: at creation a random seed is drawn and only its
SHA-256 is shown (the commitment); at the draw the seed is revealed with the ticket list, and
anyone can re-derive the winners with `derive_winners` (and check the seed against the hash):

    tickets = every (member, count) with count > 0, sorted by member id, expanded into one entry
              per ticket (member 5 with 2 tickets -> 5, 5)
    for place = 0, 1, ...: h = SHA-256("<seed>:<place>") as a big-endian integer;
              the winner is tickets[h mod len(tickets)]; all their tickets leave the list
              (one prize per member), until `winners` places are filled or no tickets are left.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["open", "closed", "drawn", "cancelled"]
MAX_WINNERS = 20
MAX_TICKETS = 10_000  # per member
PRIZE_MAX = 200


def prize_key(guild_id: int, raffle_id: int, place: int) -> str:
    """The idempotency key of the item a raffle's place wins (its shop purchase record's id)."""
    return f"prize:raffle:{guild_id}:{raffle_id}:{place}"


def commitment(seed: str) -> str:
    """The published hash of a raffle's seed (hex SHA-256 of its UTF-8 text)."""
    return hashlib.sha256(seed.encode()).hexdigest()


def derive_winners(seed: str, tickets: list[tuple[int, int]], winners: int) -> list[int]:
    """The winners of a raffle from its revealed seed and its (member, count) ticket list, in
    place order (see the module docstring); deterministic, whatever order `tickets` is in."""
    pool = [user for user, n in sorted(tickets) if n > 0 for _ in range(n)]
    found: list[int] = []
    for place in range(winners):
        if not pool:
            break
        digest = hashlib.sha256(f"{seed}:{place}".encode()).digest()
        winner = pool[int.from_bytes(digest, "big") % len(pool)]
        found.append(winner)
        pool = [user for user in pool if user != winner]
    return found


@dataclass(frozen=True)
class Raffle:
    """One raffle. `seed` is None until the draw reveals it."""

    guild_id: int
    raffle_id: int
    prize: str
    price: int
    max_per_member: int
    winners_count: int
    ends_ms: int
    status: Status
    seed_hash: str
    channel_id: int | None = None
    tickets_sold: int = 0
    seed: str | None = None
    winners: tuple[int, ...] = ()
    drawn_ms: int | None = None
    #: The shop item each winner receives (None: the prize is the text, given by staff).
    prize_item_id: int | None = None
    #: Units of that item set aside at creation (limited stock; 0 for unlimited).
    prize_reserved: int = 0

    @classmethod
    def of(cls, doc: dict[str, Any], *, reveal: bool = False) -> Raffle:
        """The raffle stored in `doc`; its seed only once drawn (or when `reveal`)."""
        drawn = doc["status"] == "drawn"
        return cls(guild_id=doc["guild_id"], raffle_id=doc["raffle_id"], prize=doc["prize"],
                   price=doc["price"], max_per_member=doc["max_per_member"],
                   winners_count=doc["winners_count"], ends_ms=doc["ends_ms"],
                   status=doc["status"], seed_hash=doc["seed_hash"],
                   channel_id=doc.get("channel_id"), tickets_sold=doc.get("tickets_sold", 0),
                   seed=doc.get("seed") if drawn or reveal else None,
                   winners=tuple(doc.get("winners") or ()), drawn_ms=doc.get("drawn_ms"),
                   prize_item_id=doc.get("prize_item_id"),
                   prize_reserved=doc.get("prize_reserved") or 0)


@dataclass(frozen=True)
class TicketPurchase:
    """Tickets one member bought (now and in total)."""

    raffle: Raffle
    count: int
    paid: int
    total: int  # the member's tickets in this raffle after this purchase
    balance: int | None
    replayed: bool = False


@dataclass(frozen=True)
class Draw:
    """A raffle's result: the winners and what re-derives them."""

    raffle: Raffle
    tickets: tuple[tuple[int, int], ...]  # (member, count), sorted by member
