"""Every query of the shop: `shop_items`, `shop_holdings` (one member's items) and
`shop_purchases` (one document per purchase, keyed by its idempotency key).

Writes that run inside a money transaction take the session and are guarded in their filter
(the exact version, price, stock, count or status read), so concurrent buyers on MongoDB cannot
oversell or double-count, whatever the embedded store's lock does.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from economy.repos.base import Database, Doc, count, find_docs, find_first


class ShopRepo:
    """The shop's collections."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.items = db["shop_items"]
        self.holdings = db["shop_holdings"]
        self.purchases = db["shop_purchases"]
        self._counters = db["counters"]

    # --- items --------------------------------------------------------------------------------
    async def next_item_id(self, guild_id: int) -> int:
        """Allocate the next per-guild item number."""
        doc = await self.db.write(lambda: self._counters.find_one_and_update(
            {"_id": f"{guild_id}:shop_items"}, {"$inc": {"seq": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER))
        return int(doc["seq"])

    async def insert_item(self, doc: Doc) -> None:
        """Store a new item."""
        doc = {**doc, "_id": f"{doc['guild_id']}:{doc['item_id']}"}
        await self.db.write(lambda: self.items.insert_one(doc))

    async def item(self, guild_id: int, item_id: int) -> Doc | None:
        """One item."""
        return await find_first(self.items, {"_id": f"{guild_id}:{item_id}"})

    async def catalogue(self, guild_id: int, *, active_only: bool, skip: int = 0,
                        limit: int = 100) -> list[Doc]:
        """Items by number (the active ones only, or every item)."""
        match: Doc = {"guild_id": guild_id}
        if active_only:
            match["active"] = True
        return await find_docs(self.items, match, sort={"item_id": ASCENDING}, skip=skip,
                               limit=limit)

    async def count_items(self, guild_id: int, *, active_only: bool) -> int:
        """How many items `catalogue` pages over."""
        match: Doc = {"guild_id": guild_id}
        if active_only:
            match["active"] = True
        return await count(self.items, match)

    async def update_item(self, guild_id: int, item_id: int, version: int, fields: Doc,
                          inc: Doc | None = None) -> Doc | None:
        """Change an item read at `version` (bumping it); None when it changed meanwhile."""
        update: Doc = {"$set": fields, "$inc": {"version": 1, **(inc or {})}}
        return await self.db.write(lambda: self.items.find_one_and_update(
            {"_id": f"{guild_id}:{item_id}", "version": version}, update,
            return_document=ReturnDocument.AFTER))

    async def take_unit(self, guild_id: int, item_id: int, *, version: int, price: int,
                        limited: bool, session: Any) -> bool:
        """One unit sold at the quoted price and version (and while stock lasts)."""
        match: Doc = {"_id": f"{guild_id}:{item_id}", "active": True, "version": version,
                      "price": price}
        match["stock"] = {"$gte": 1} if limited else None
        update: Doc = {"$inc": {"sold": 1, **({"stock": -1} if limited else {})}}
        result = await self.items.update_one(match, update, session=session)
        return result.modified_count == 1

    async def return_unit(self, guild_id: int, item_id: int, *, session: Any) -> None:
        """A refunded unit goes back on sale (limited stock) and out of the sold count."""
        key = f"{guild_id}:{item_id}"
        result = await self.items.update_one({"_id": key, "stock": {"$ne": None}},
                                             {"$inc": {"stock": 1, "sold": -1}}, session=session)
        if result.modified_count == 0:
            await self.items.update_one({"_id": key}, {"$inc": {"sold": -1}}, session=session)

    async def reserve_units(self, guild_id: int, item_id: int, units: int, *,
                            session: Any) -> bool:
        """Set `units` of a limited item aside (a raffle's prize), only while it is on sale and
        that many are left; False otherwise. Not counted as sold: the draw gives them."""
        result = await self.items.update_one(
            {"_id": f"{guild_id}:{item_id}", "active": True, "stock": {"$gte": units}},
            {"$inc": {"stock": -units}}, session=session)
        return result.modified_count == 1

    async def release_units(self, guild_id: int, item_id: int, units: int, *,
                            session: Any) -> None:
        """Units set aside by `reserve_units` go back on sale (a cancelled raffle, places left
        empty at the draw)."""
        await self.items.update_one({"_id": f"{guild_id}:{item_id}", "stock": {"$ne": None}},
                                    {"$inc": {"stock": units}}, session=session)

    # --- holdings -----------------------------------------------------------------------------
    @staticmethod
    def _holding_id(guild_id: int, user_id: int, item_id: int) -> str:
        return f"{guild_id}:{user_id}:{item_id}"

    async def holding(self, guild_id: int, user_id: int, item_id: int) -> Doc | None:
        """What a member holds of one item."""
        return await find_first(self.holdings, {"_id": self._holding_id(guild_id, user_id, item_id)})

    async def holdings_of(self, guild_id: int, user_id: int) -> list[Doc]:
        """Everything a member holds, by item number."""
        return await find_docs(self.holdings, {"guild_id": guild_id, "user_id": user_id},
                               sort={"item_id": ASCENDING})

    async def add_holding(self, guild_id: int, user_id: int, item_id: int, *, expected: Doc | None,
                          quantity: int, role_until_ms: int | None, session: Any) -> bool:
        """Record one more unit bought, guarded by the count read (`expected`: the holding read,
        None when there was none). False when another purchase changed it meanwhile."""
        hid = self._holding_id(guild_id, user_id, item_id)
        if expected is None:
            try:
                await self.holdings.insert_one(
                    {"_id": hid, "guild_id": guild_id, "user_id": user_id, "item_id": item_id,
                     "bought": 1, "quantity": quantity, "role_until_ms": role_until_ms},
                    session=session)
            except DuplicateKeyError:
                return False
            return True
        result = await self.holdings.update_one(
            {"_id": hid, "bought": expected["bought"]},
            {"$inc": {"bought": 1, "quantity": quantity}, "$set": {"role_until_ms": role_until_ms}},
            session=session)
        return result.modified_count == 1

    async def undo_holding(self, guild_id: int, user_id: int, item_id: int, *, quantity: int,
                           until_ms: int | None, prev_until_ms: int | None, days_ms: int,
                           session: Any) -> None:
        """Take back one refunded unit: the count, and the role time it added."""
        hid = self._holding_id(guild_id, user_id, item_id)
        inc: Doc = {"bought": -1, "quantity": -quantity}
        if until_ms is not None:
            result = await self.holdings.update_one(
                {"_id": hid, "role_until_ms": until_ms},
                {"$inc": inc, "$set": {"role_until_ms": prev_until_ms}}, session=session)
            if result.modified_count == 1:
                return
            inc["role_until_ms"] = -days_ms  # extended again since: take back this purchase's days
        await self.holdings.update_one({"_id": hid}, {"$inc": inc}, session=session)

    async def consume(self, guild_id: int, user_id: int, item_id: int, *, expected_quantity: int,
                      session: Any) -> bool:
        """Use one consumable, guarded by the quantity read."""
        result = await self.holdings.update_one(
            {"_id": self._holding_id(guild_id, user_id, item_id), "quantity": expected_quantity},
            {"$inc": {"quantity": -1}}, session=session)
        return result.modified_count == 1

    async def due_roles(self, guild_id: int, now_ms: int, *, limit: int = 200) -> list[Doc]:
        """Holdings whose timed role has ended."""
        return await find_docs(self.holdings, {"guild_id": guild_id,
                                               "role_until_ms": {"$lte": now_ms}},
                               sort={"role_until_ms": ASCENDING}, limit=limit)

    async def end_role(self, guild_id: int, user_id: int, item_id: int, until_ms: int) -> bool:
        """Mark a timed role removed, unless it was extended since it was read."""
        result = await self.db.write(lambda: self.holdings.update_one(
            {"_id": self._holding_id(guild_id, user_id, item_id), "role_until_ms": until_ms},
            {"$set": {"role_until_ms": None}}))
        return result.modified_count == 1

    async def guild_ids(self) -> list[int]:
        """Guilds with shop holdings or purchases."""
        found = set(await self.holdings.distinct("guild_id"))
        found |= set(await self.purchases.distinct("guild_id"))
        return sorted(found)

    # --- purchases ----------------------------------------------------------------------------
    async def insert_purchase(self, doc: Doc, *, session: Any) -> None:
        """Record a purchase (its `_id` is the idempotency key)."""
        await self.purchases.insert_one(doc, session=session)

    async def purchase(self, guild_id: int, key: str) -> Doc | None:
        """One purchase by its key."""
        return await find_first(self.purchases, {"_id": key, "guild_id": guild_id})

    async def set_purchase_status(self, guild_id: int, key: str, *, from_status: str,
                                  to_status: str, session: Any = None) -> bool:
        """Guarded status change of a purchase; True for the one caller that made it."""
        async def run() -> Any:
            return await self.purchases.update_one(
                {"_id": key, "guild_id": guild_id, "status": from_status},
                {"$set": {"status": to_status}}, session=session)
        result = await (run() if session is not None else self.db.write(run))
        return result.modified_count == 1

    async def unposted_tickets(self, guild_id: int, *, limit: int = 100) -> list[Doc]:
        """Custom items waiting for staff whose ticket was not posted."""
        return await find_docs(self.purchases, {"guild_id": guild_id, "status": "fulfilling",
                                                "ticket_posted": False},
                               sort={"at_ms": ASCENDING}, limit=limit)

    async def set_ticket_posted(self, guild_id: int, key: str, posted: bool) -> bool:
        """Flip a ticket's posted flag (guarded by its old value); True for the one caller
        that flipped it."""
        result = await self.db.write(lambda: self.purchases.update_one(
            {"_id": key, "guild_id": guild_id, "ticket_posted": not posted},
            {"$set": {"ticket_posted": posted}}))
        return result.modified_count == 1

    async def stale_grants(self, guild_id: int, before_ms: int, *, limit: int = 100) -> list[Doc]:
        """Role purchases still waiting for their role since before `before_ms`."""
        return await find_docs(self.purchases, {"guild_id": guild_id, "status": "granting",
                                                "at_ms": {"$lt": before_ms}},
                               sort={"at_ms": ASCENDING}, limit=limit)
