"""Cap places (`cap_slots`, economy/repos/slot_repo.py): indexes, then one place per holder.

Caps that were a count before an insert (open listings, open offers to a member, alerts, wallets,
NFT rules per guild) or a counter (open card checkouts, `counters` `<guild>:pay_open:<buyer>`,
removed here) are now held by one place document per holder, written and deleted with it.
Open wallet-link tickets get no backfill: they expire within 10 minutes, after which their
places are written as tickets are made. This backfills a place for everything that holds one today, numbered 1, 2, ... per owner in
the holder's key order (an owner above a cap lowered earlier gets places above the cap; they
still count against it).

Linear: each collection is walked once through its (guild_id, key) index (economy/repos/
paging.py), places are written per page with unordered bulk inserts. Re-runnable: a run that was
interrupted (at start-up, before the bot serves) starts over from an empty `cap_slots`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator

from pymongo import ASCENDING, IndexModel

from economy.repos.base import find_docs
from economy.repos.paging import guild_ids, pages

BATCH = 1000
OPEN_LISTINGS = ("draft", "pending", "active", "reserved")


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def create_indexes(db) -> None:
    """A thing holds at most one place of a kind; an owner's places are read by (kind, owner)."""
    await db["cap_slots"].create_indexes([
        _ix("guild_id", "kind", "ref", name="guild_kind_ref_unique", unique=True),
        _ix("guild_id", "kind", "owner", "n", name="guild_kind_owner"),
    ])


async def _alerts(db) -> AsyncIterator[list[dict]]:
    """Every market alert, guild by guild, in pages of whole members ((guild, user, alert))."""
    col = db["market_alerts"]
    async for guild_id in guild_ids(col):
        last_user = None
        while True:
            match: dict = {"guild_id": guild_id}
            if last_user is not None:
                match["user_id"] = {"$gt": last_user}
            docs = await find_docs(col, match, sort={"user_id": 1, "alert_id": 1}, limit=BATCH)
            if not docs:
                break
            if len(docs) == BATCH:  # the last member may continue on the next page
                cut = docs[-1]["user_id"]
                whole = [d for d in docs if d["user_id"] != cut] or await find_docs(
                    col, {"guild_id": guild_id, "user_id": cut}, sort={"alert_id": 1})
                docs = whole
            yield docs
            last_user = docs[-1]["user_id"]


def _sources(db):
    """(kind, pages of holders, owner of a holder, ref of a holder) per capped kind."""
    return [
        ("listing", pages(db["listings"], "listing_id", batch=BATCH,
                          label="migration 0014: listings read"),
         lambda d: d["seller_id"], lambda d: d["listing_id"],
         lambda d: d.get("status") in OPEN_LISTINGS),
        ("offer", pages(db["trades"], "trade_id", batch=BATCH, where={"status": "offered"},
                        label="migration 0014: offers read"),
         lambda d: d["buyer_id"], lambda d: d["trade_id"], None),
        ("alert", _alerts(db), lambda d: d["user_id"],
         lambda d: f"{d['user_id']}:{d['alert_id']}", None),
        ("wallet", pages(db["wallets"], "address", batch=BATCH,
                         label="migration 0014: wallets read"),
         lambda d: d["user_id"], lambda d: d["address"], None),
        ("nft_rule", pages(db["nft_rules"], "rule_id", batch=BATCH,
                           label="migration 0014: NFT rules read"),
         lambda d: 0, lambda d: d["rule_id"], None),
        ("checkout", pages(db["pay_checkouts"], "checkout_no", batch=BATCH,
                           where={"kind": "listing"},
                           label="migration 0014: listing checkouts read"),
         lambda d: d["buyer_id"], lambda d: d["checkout_no"],
         lambda d: d.get("status") in ("creating", "open")),
    ]


async def backfill(db) -> int:
    """Write a place for every current holder; returns how many were written."""
    slots = db["cap_slots"]
    await slots.delete_many({})
    written = 0
    for kind, source, owner_of, ref_of, holds in _sources(db):
        guild = None
        used: dict[int, int] = defaultdict(int)
        async for docs in source:
            batch = []
            for doc in docs:
                if holds is not None and not holds(doc):
                    continue
                if doc["guild_id"] != guild:  # pages go guild by guild: bounded memory
                    guild, used = doc["guild_id"], defaultdict(int)
                owner = owner_of(doc)
                used[owner] += 1
                n = used[owner]
                batch.append({"_id": f"{guild}:{kind}:{owner}:{n}", "guild_id": guild,
                              "kind": kind, "owner": owner, "n": n, "ref": ref_of(doc)})
            if batch:
                await slots.insert_many(batch, ordered=False)
                written += len(batch)
    return written


async def up(db) -> None:
    """Create the indexes, backfill the places, drop the open-checkout counters they replace."""
    await create_indexes(db)
    await backfill(db)
    await db["counters"].delete_many({"_id": {"$regex": "^-?[0-9]+:pay_open:"}})
