"""Caps that hold under concurrency: one slot document per occupied place (`cap_slots`).

A cap checked by counting and then inserting something else ("3 open offers, so a 4th may
come") is write skew under snapshot isolation: on MongoDB two transactions both count 2, both
insert, and the member has 4. The embedded store's global lock hides it. So every per-member
(or per-guild) cap is held by a document both racers must write: place `n` (1..cap) of an owner
is the document `_id = "<guild>:<kind>:<owner>:<n>"`. Racers that read the same free places pick
the same lowest `n`; the unique `_id` lets one insert win (MongoDB: a write conflict, retried by
`with_transaction`, then a duplicate key), the other reads again and finds the cap reached.

The slot is written and deleted in the same transaction as the thing that holds it (a draft
listing, an offer, an alert, a wallet, an NFT rule), keyed by that thing (`ref`, unique per guild
and kind), so a path that frees the thing frees its slot by the thing's key without reading it.
Nothing is counted up or down, so nothing can drift: `./gems audit` checks that the slots and
their holders match one to one (economy/core/audit.py).

Slot documents: {_id, guild_id, kind, owner, n, ref}. Indexes (migration 0014): unique
(guild_id, kind, ref) and (guild_id, kind, owner, n).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, find_docs

T = TypeVar("T")

COLLECTION = "cap_slots"
#: A racer gives up with SlotsBusy (nothing written) after losing this many places in a row, or
#: cap + 2 when that is more: each loss is another request's win, so without releases meanwhile
#: the owner is full (SlotsFull) before that.
ATTEMPTS = 8


class SlotsFull(Exception):
    """The owner holds `cap` places already (nothing was written)."""


class SlotsBusy(Exception):
    """Other requests kept taking the free places first; nothing was written (try again)."""


class SlotHeld(Exception):
    """The thing already holds a place of this kind (a concurrent request stored it first)."""


class SlotTaken(Exception):
    """Raised inside a transaction when the chosen place was taken meanwhile (it aborts)."""


def slot_id(guild_id: int, kind: str, owner: int, n: int) -> str:
    """The `_id` of place `n` of `owner` for `kind` in a guild."""
    return f"{guild_id}:{kind}:{owner}:{n}"


def lowest_free(taken: list[int], cap: int, *, spread: bool = False) -> int | None:
    """The place to take: the lowest of 1..cap not in `taken`, or None at the cap.

    Counted places above `cap` (kept when an admin lowered the cap) count against it too.
    `spread` (after a lost race): one of the few lowest free places at random, so racers that
    read the same places then mostly take different ones instead of all colliding on the lowest
    again, one winner per round. The cap is held by the unique place either way; the lowest
    first keeps places compact (a draft above a lowered cap must move down to be published).
    """
    if len(taken) >= cap:
        return None
    used = set(taken)
    free = [n for n in range(1, cap + 1) if n not in used][:8 if spread else 1]
    return random.choice(free)


class SlotRepo:
    """Taking, releasing and reading places in `cap_slots`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.col = db[COLLECTION]

    async def taken(self, guild_id: int, kind: str, owner: int) -> list[int]:
        """The places `owner` holds (index-backed read, outside any transaction)."""
        docs = await find_docs(self.col, {"guild_id": guild_id, "kind": kind, "owner": owner},
                               sort={"n": 1})
        return [int(doc["n"]) for doc in docs]

    async def live(self, guild_id: int, kind: str, owner: int, now_ms: int) -> list[int]:
        """The places `owner` holds that have not expired (kinds whose places expire)."""
        docs = await find_docs(self.col, {"guild_id": guild_id, "kind": kind, "owner": owner},
                               sort={"n": 1})
        return [int(d["n"]) for d in docs if int(d.get("expires_ms") or 0) > now_ms]

    async def take_expiring(self, guild_id: int, kind: str, owner: int, n: int, ref: Any, *,
                            expires_ms: int, now_ms: int, session: Any) -> None:
        """Take place `n` until `expires_ms` when it is free or its holder expired (a guarded
        upsert on the place's `_id`); SlotTaken when it is held.

        MongoDB answers a held place with DuplicateKeyError (the upsert's insert); nx-27017
        returns None instead. Both mean "taken".
        """
        try:
            doc = await self.col.find_one_and_update(
                {"_id": slot_id(guild_id, kind, owner, n), "expires_ms": {"$lte": now_ms}},
                {"$set": {"guild_id": guild_id, "kind": kind, "owner": owner, "n": n,
                          "ref": ref, "expires_ms": expires_ms}},
                upsert=True, return_document=ReturnDocument.AFTER, session=session)
        except DuplicateKeyError:
            raise SlotTaken from None
        if doc is None:
            raise SlotTaken

    async def place_of(self, guild_id: int, kind: str, ref: Any) -> int | None:
        """The place `ref` holds, or None."""
        docs = await find_docs(self.col, {"guild_id": guild_id, "kind": kind, "ref": ref},
                               limit=1)
        return int(docs[0]["n"]) if docs else None

    async def held(self, guild_id: int, kind: str) -> list[Doc]:
        """Every place of `kind` in a guild."""
        return await find_docs(self.col, {"guild_id": guild_id, "kind": kind})

    async def take(self, guild_id: int, kind: str, owner: int, n: int, ref: Any, *,
                   session: Any, holder_id: int | None = None) -> None:
        """Insert place `n` for `ref` inside the caller's transaction; SlotTaken if it is held.
        `holder_id`: the member the thing belongs to when `ref` does not name them (a
        collectible keyed by its edition), so /privacy delete finds the place with it.

        Make it the transaction's first write: a refused transaction then wrote nothing.
        """
        doc = {"_id": slot_id(guild_id, kind, owner, n), "guild_id": guild_id, "kind": kind,
               "owner": owner, "n": n, "ref": ref,
               **({"holder_id": holder_id} if holder_id is not None else {})}
        try:
            await self.col.insert_one(doc, session=session)
        except DuplicateKeyError:
            raise SlotTaken from None

    async def release(self, guild_id: int, kind: str, ref: Any, *, session: Any) -> bool:
        """Free the place `ref` holds (inside the caller's transaction); False if it held none."""
        result = await self.col.delete_one({"guild_id": guild_id, "kind": kind, "ref": ref},
                                           session=session)
        return result.deleted_count == 1

    async def rename(self, guild_id: int, kind: str, ref: Any, new_ref: Any, *, session: Any,
                     holder_id: int | None = None) -> bool:
        """Give the place `ref` holds to `new_ref` (the thing was re-keyed, e.g. a collectible
        that changed hands; `holder_id` names the member it belongs to now) inside the caller's
        transaction; False when `ref` holds no place."""
        result = await self.col.update_one({"guild_id": guild_id, "kind": kind, "ref": ref},
                                           {"$set": {"ref": new_ref, "holder_id": holder_id}},
                                           session=session)
        return result.modified_count == 1

    async def claim(self, guild_id: int, kind: str, owner: int, ref: Any, cap: int,
                    work: Callable[[Any], Awaitable[T]]) -> T:
        """Take a place for `ref` and run `work(session)` in the same transaction.

        Raises SlotsFull when `owner` holds `cap` places, SlotsBusy after ATTEMPTS lost races,
        SlotHeld when `ref` holds a place already; in each case nothing was written. `work` may
        raise to abort (the place is not kept).
        """
        async def attempt(n: int) -> T:
            async def tx(session: Any) -> T:
                await self.take(guild_id, kind, owner, n, ref, session=session)
                return await work(session)

            return await self.db.transaction(tx)

        return await self.retrying(guild_id, kind, owner, cap, attempt, ref=ref)

    async def retrying(self, guild_id: int, kind: str, owner: int, cap: int,
                       attempt: Callable[[int], Awaitable[T]], *, moving: int | None = None,
                       ref: Any = None) -> T:
        """Call `attempt(n)` with a free place until it does not raise SlotTaken.

        For callers whose transaction does more than `claim` allows (the place is taken inside
        it with `take`). `moving`: the place the thing holds now and gives up in the same
        transaction (it does not count against the cap). `ref`: the thing taking the place, to
        tell a lost place from a thing that holds one already. Raises like `claim`.
        """
        for attempt_no in range(max(ATTEMPTS, cap + 2)):
            taken = [n for n in await self.taken(guild_id, kind, owner) if n != moving]
            n = lowest_free(taken, cap, spread=attempt_no > 0)
            if n is None:
                raise SlotsFull
            try:
                return await attempt(n)
            except SlotTaken:
                if ref is not None and await self.place_of(guild_id, kind, ref) is not None:
                    raise SlotHeld from None
                continue
        raise SlotsBusy


#: What holds a place of each kind, for the audit: (collection, extra match, owner field or None
#: for the guild itself, the ref of a holder). Wallet-link places expire and are not audited.
HOLDERS: dict[str, tuple[str, Doc, str | None, Callable[[Doc], Any]]] = {
    "listing": ("listings", {"status": {"$in": ["draft", "pending", "active", "reserved"]}},
                "seller_id", lambda d: d["listing_id"]),
    "offer": ("trades", {"status": "offered"}, "buyer_id", lambda d: d["trade_id"]),
    "alert": ("market_alerts", {}, "user_id", lambda d: f"{d['user_id']}:{d['alert_id']}"),
    "wallet": ("wallets", {}, "user_id", lambda d: d["address"]),
    "nft_rule": ("nft_rules", {}, None, lambda d: d["rule_id"]),
    "checkout": ("pay_checkouts", {"kind": "listing", "status": {"$in": ["creating", "open"]}},
                 "buyer_id", lambda d: d["checkout_no"]),
    # ref: the award `_id` after the guild, kept when a collectible changes hands.
    "badge_edition": ("badge_awards", {"edition": {"$gte": 1}}, "edition",
                      lambda d: str(d["_id"]).split(":", 1)[1]),
}


async def mismatches(db: Database, guild_id: int) -> list[str]:
    """Where a guild's places and their holders differ (each holder holds exactly one place of
    its owner, and each place has a holder); empty when they match."""
    # Every place of the guild in one read (not one per kind): the audit runs after each test
    # and on a live bot, and this was a third of its round trips.
    by_kind: dict[str, dict[Any, Doc]] = {kind: {} for kind in HOLDERS}
    for doc in await find_docs(db[COLLECTION], {"guild_id": guild_id}):
        if doc["kind"] in by_kind:
            by_kind[doc["kind"]][doc["ref"]] = doc
    problems: list[str] = []
    for kind, (collection, match, owner_field, ref_of) in HOLDERS.items():
        places = by_kind[kind]
        holders = await find_docs(db[collection], {"guild_id": guild_id, **match})
        for doc in holders:
            ref = ref_of(doc)
            place = places.pop(ref, None)
            owner = doc[owner_field] if owner_field else 0
            if place is None:
                problems.append(f"guild {guild_id}: {kind} {ref} holds no place")
            elif place["owner"] != owner:
                problems.append(f"guild {guild_id}: {kind} {ref} holds a place of {place['owner']}"
                                f", not of {owner}")
        for ref in places:
            problems.append(f"guild {guild_id}: {kind} place for {ref}, which holds none")
    return problems


async def guilds_with_places(db: Database, *, also: tuple[str, ...] = ()) -> list[int]:
    """Guilds that have places or things that hold one, or documents in `also`.

    One `distinct` per collection: MongoDB answers it from the guild_id index; the embedded
    store scans in SQL (2 ms at 20,000 documents), cheaper than walking guild ids with one probe
    each (3 ms for 3 guilds, and at least 2 probes per collection), and the audit that asks reads
    every account and ledger entry anyway."""
    found: set[int] = set()
    for name in (COLLECTION, *(holder[0] for holder in HOLDERS.values()), *also):
        found.update(g for g in await db[name].distinct("guild_id")
                     if isinstance(g, int) and not isinstance(g, bool))
    return sorted(found)
