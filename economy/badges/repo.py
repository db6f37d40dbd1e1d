"""Every query of the badges: custom designs, awards, rule choices, showcases, the staff log,
and the counts the award rules read from other features' records.

Collections (migration 0018): `badge_defs` (a server's own designs, `_id` "<guild>:c<no>"),
`badge_awards` (one per member and badge, `_id` "<guild>:<badge>:<user>": the unique `_id` makes
awarding idempotent), `badge_rules` (a server's on/off and reward per automatic badge),
`badge_showcases` (a member's pinned badges) and `badge_log` (gives and revokes, with reasons).
Limited editions hold one `cap_slots` place per award (kind `badge_edition`, owner = the
badge's number, ref "<badge>:<user>" = the award `_id` after the guild), taken in the award's
transaction.

Collectibles (economy/badges/collectibles.py): an award of a tradeable badge; `user_id` is its
owner; on its first move it is re-keyed "<guild>:<badge>#<serial>" and its place follows. `listing_id` names the
listing that claimed it and `claim_v` counts claims (a claim is guarded by the version read);
`badge_transfers` (migration 0023) holds one document per move, `_id` "<guild>:trade:<trade>".
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from economy.core.errors import AlreadyRecorded
from economy.repos.base import Database, Doc, count, find_docs, find_first
from economy.repos.slot_repo import SlotRepo

EDITION = "badge_edition"


def award_id(guild_id: int, key: str, user_id: int) -> str:
    """The `_id` of `user_id`'s award of badge `key`."""
    return f"{guild_id}:{key}:{user_id}"


def edition_key(guild_id: int, key: str, serial: int) -> str:
    """The `_id` of a collectible that changed hands (and the `award_id` of its moves)."""
    return f"{guild_id}:{key}#{serial}"


def edition_ref(award: str) -> str:
    """The `cap_slots` ref of an award's edition: its `_id` after the guild (it never changes,
    also when a collectible changes hands)."""
    return award.split(":", 1)[1]


class BadgeRepo:
    """Storage of the badges feature."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.defs = db["badge_defs"]
        self.awards = db["badge_awards"]
        self.rules = db["badge_rules"]
        self.showcases = db["badge_showcases"]
        self.log = db["badge_log"]
        self.backfills = db["badge_backfill"]
        self.transfers = db["badge_transfers"]
        self.slots = SlotRepo(db)

    # --- custom designs ----------------------------------------------------------------------
    async def custom(self, guild_id: int) -> list[Doc]:
        """A server's own badges, oldest first."""
        return await find_docs(self.defs, {"guild_id": guild_id}, sort={"no": 1, "_id": 1})

    async def insert_custom(self, doc: Doc) -> bool:
        """Store a new design; False when its number was taken meanwhile."""
        try:
            await self.db.write(lambda: self.defs.insert_one(doc))
        except DuplicateKeyError:
            return False
        return True

    # --- awards ------------------------------------------------------------------------------
    async def held(self, guild_id: int, user_id: int) -> list[Doc]:
        """A member's awards, oldest first."""
        return await find_docs(self.awards, {"guild_id": guild_id, "user_id": user_id},
                               sort={"at_ms": 1, "_id": 1})

    async def award(self, guild_id: int, key: str, user_id: int) -> Doc | None:
        """One award, or None."""
        return await find_first(self.awards, {"_id": award_id(guild_id, key, user_id)})

    async def holders(self, guild_id: int, key: str) -> int:
        """How many members hold badge `key`."""
        return await count(self.awards, {"guild_id": guild_id, "badge": key})

    async def insert_award(self, doc: Doc, *, session: Any) -> None:
        """Record an award inside the caller's transaction; AlreadyRecorded when it exists."""
        try:
            await self.awards.insert_one(doc, session=session)
        except DuplicateKeyError as error:
            raise AlreadyRecorded(str(error)) from error

    async def delete_award(self, guild_id: int, doc: Doc, *, session: Any) -> bool:
        """Remove the award read as `doc` (and its edition place) inside the caller's
        transaction, guarded by its owner and claim version read (False: it changed meanwhile)."""
        result = await self.awards.delete_one(
            {"_id": doc["_id"], "guild_id": guild_id, "user_id": doc["user_id"],
             "claim_v": doc.get("claim_v")}, session=session)
        if result.deleted_count != 1:
            return False
        await self.slots.release(guild_id, EDITION, edition_ref(doc["_id"]), session=session)
        return True

    async def held_of(self, guild_id: int, user_id: int, key: str) -> list[Doc]:
        """The awards of badge `key` a member owns (a collector may own several editions)."""
        return [doc for doc in await self.held(guild_id, user_id) if doc["badge"] == key]

    # --- collectibles ------------------------------------------------------------------------
    async def edition(self, guild_id: int, key: str, serial: int) -> Doc | None:
        """The award that is edition `serial` of badge `key`, or None."""
        return await find_first(self.awards, {"guild_id": guild_id, "badge": key,
                                              "serial": serial})

    async def listing_state(self, guild_id: int, listing_id: int) -> Doc | None:
        """The marketplace listing a collectible names (read only): status and collectible."""
        return await find_first(self.db["listings"], {"guild_id": guild_id,
                                                      "listing_id": listing_id})

    async def claim(self, guild_id: int, seen: Doc, listing_id: int, *, session: Any) -> bool:
        """Point the collectible read as `seen` at `listing_id`, guarded by its owner and the
        claim version read: of two racing claims one writes, the other matches nothing."""
        result = await self.awards.update_one(
            {"_id": seen["_id"], "guild_id": guild_id, "user_id": seen["user_id"],
             "claim_v": seen.get("claim_v")},
            {"$set": {"listing_id": listing_id, "claim_v": int(seen.get("claim_v") or 0) + 1}},
            session=session)
        return result.modified_count == 1

    async def move(self, guild_id: int, seen: Doc, *, seller_id: int, buyer_id: int,
                   listing_id: int, transfer: Doc, session: Any) -> bool:
        """Give the collectible read as `seen` to `buyer_id` and record the move, inside the
        settlement's transaction: guarded by its owner (the seller), the listing that claimed
        it and the claim version read, so a second settlement or a retry matches nothing (the
        transfer's `_id`, the trade, is unique too). On its first move the award is re-keyed
        by its edition ("<guild>:<badge>#<serial>", its place follows with the new owner as
        `holder_id`), so its first owner's id is in it no more (/privacy delete of the first
        owner leaves it alone). False when a guard missed (the caller aborts)."""
        guard = {"_id": seen["_id"], "guild_id": guild_id, "user_id": seller_id,
                 "listing_id": listing_id, "claim_v": seen.get("claim_v")}
        fields = {"user_id": buyer_id, "listing_id": None,
                  "claim_v": int(seen.get("claim_v") or 0) + 1}
        new_id = edition_key(guild_id, seen["badge"], int(seen["serial"]))
        if seen["_id"] == new_id:
            result = await self.awards.update_one(guard, {"$set": fields}, session=session)
            if result.modified_count != 1:
                return False
            await self.slots.rename(guild_id, EDITION, edition_ref(new_id), edition_ref(new_id),
                                    holder_id=buyer_id, session=session)
        else:
            result = await self.awards.delete_one(guard, session=session)
            if result.deleted_count != 1:
                return False
            await self.awards.insert_one({**seen, **fields, "_id": new_id}, session=session)
            if not await self.slots.rename(guild_id, EDITION, edition_ref(seen["_id"]),
                                           edition_ref(new_id), holder_id=buyer_id,
                                           session=session):
                return False
        try:
            await self.transfers.insert_one(transfer, session=session)
        except DuplicateKeyError:
            return False
        return True

    async def history(self, guild_id: int, award: str) -> list[Doc]:
        """A collectible's moves, oldest first."""
        return await find_docs(self.transfers, {"guild_id": guild_id, "award_id": award},
                               sort={"at_ms": 1, "_id": 1})

    async def transfers_of(self, guild_id: int, user_id: int) -> list[Doc]:
        """Moves a member sold or bought (their export)."""
        sold = await find_docs(self.transfers, {"guild_id": guild_id, "from_id": user_id})
        bought = await find_docs(self.transfers, {"guild_id": guild_id, "to_id": user_id})
        return sorted(sold + bought, key=lambda d: (d["at_ms"], d["_id"]))

    async def write_log(self, doc: Doc, *, session: Any) -> None:
        """Record a give or a revoke (inside the caller's transaction)."""
        await self.log.insert_one(doc, session=session)

    async def transaction(self, work) -> Any:
        """Run `work(session)` in one transaction."""
        return await self.db.transaction(work)

    # --- rule choices and showcases ----------------------------------------------------------
    async def rule_states(self, guild_id: int) -> list[Doc]:
        """A server's choices per automatic badge."""
        return await find_docs(self.rules, {"guild_id": guild_id})

    async def set_rule(self, guild_id: int, key: str, *, state: str, reward: int | None,
                       role_id: int | None, by: int, at_ms: int) -> None:
        """Store a server's choice for badge `key` (the whole document: last write wins)."""
        doc = {"_id": f"{guild_id}:{key}", "guild_id": guild_id, "badge": key, "state": state,
               "reward": reward, "role_id": role_id, "by": by, "at_ms": at_ms}
        await self.db.write(lambda: self.rules.replace_one({"_id": doc["_id"]}, doc, upsert=True))

    async def showcase(self, guild_id: int, user_id: int) -> list[str]:
        """The badge keys a member pinned, in order."""
        doc = await find_first(self.showcases, {"_id": f"{guild_id}:{user_id}"})
        return list(doc.get("badges") or []) if doc else []

    async def set_showcase(self, guild_id: int, user_id: int, keys: list[str], at_ms: int) -> None:
        """Replace a member's pinned badges."""
        doc = {"_id": f"{guild_id}:{user_id}", "guild_id": guild_id, "user_id": user_id,
               "badges": keys, "at_ms": at_ms}
        await self.db.write(lambda: self.showcases.replace_one({"_id": doc["_id"]}, doc,
                                                               upsert=True))

    # --- role rewards ------------------------------------------------------------------------
    async def pending_roles(self, guild_id: int, limit: int) -> list[Doc]:
        """Awards whose role the bot has still to give, oldest first."""
        return await find_docs(self.awards, {"guild_id": guild_id, "role_state": "pending"},
                               sort={"at_ms": 1, "_id": 1}, limit=limit)

    async def finish_role(self, award: str, state: str) -> bool:
        """Mark an award's role given or failed, once (guarded by `pending`)."""
        result = await self.db.write(lambda: self.awards.update_one(
            {"_id": award, "role_state": "pending"}, {"$set": {"role_state": state}}))
        return result.modified_count == 1

    # --- backfill ----------------------------------------------------------------------------
    async def backfill(self, guild_id: int) -> Doc | None:
        """A server's backfill cursor (`badge_backfill`, `_id` the guild id), or None."""
        return await find_first(self.backfills, {"_id": guild_id})

    async def start_backfill(self, guild_id: int, seen: Doc | None, *, rules_key: str | None,
                             state: str, at_ms: int) -> bool:
        """(Re)start a server's backfill from the first member (or park it, `state` "off"),
        guarded by the cursor read (`seen`): False when another process moved it meanwhile."""
        doc = {"_id": guild_id, "guild_id": guild_id, "rules_key": rules_key, "after": 0,
               "state": state, "version": int((seen or {}).get("version") or 0) + 1,
               "at_ms": at_ms}
        if seen is None:
            try:
                await self.db.write(lambda: self.backfills.insert_one(doc))
            except DuplicateKeyError:
                return False
            return True
        result = await self.db.write(lambda: self.backfills.replace_one(
            {"_id": guild_id, "version": seen.get("version")}, doc))
        return result.modified_count == 1

    async def advance_backfill(self, guild_id: int, seen: Doc, *, after: int, done: bool,
                               at_ms: int) -> bool:
        """Move the cursor past a page (guarded by the version read); False when moved already."""
        fields = {"after": after, "state": "done" if done else "running", "at_ms": at_ms,
                  "version": int(seen.get("version") or 0) + 1}
        result = await self.db.write(lambda: self.backfills.update_one(
            {"_id": guild_id, "version": seen.get("version")}, {"$set": fields}))
        return result.modified_count == 1

    async def member_page(self, guild_id: int, after: int, limit: int) -> list[int]:
        """Up to `limit` member ids with an account, above `after`, in order (one page)."""
        docs = await find_docs(self.db["accounts"], {"guild_id": guild_id,
                                                     "user_id": {"$gt": after}},
                               sort={"user_id": 1}, limit=limit)
        return [int(doc["user_id"]) for doc in docs]

    # --- facts the rules read (other features' records, read only) ---------------------------
    async def fact(self, guild_id: int, user_id: int, fact: str) -> int:
        """The member's count of `fact` (economy/badges/rules.py FACT_WORDS)."""
        db = self.db
        if fact == "sales":
            return await count(db["trades"], {"guild_id": guild_id, "seller_id": user_id,
                                              "status": "completed"})
        if fact == "trades":
            return (await count(db["trades"], {"guild_id": guild_id, "seller_id": user_id,
                                               "status": "completed"})
                    + await count(db["trades"], {"guild_id": guild_id, "buyer_id": user_id,
                                                 "status": "completed"}))
        if fact in ("daily_streak", "earned"):
            doc = await find_first(db["accounts"], {"guild_id": guild_id, "user_id": user_id})
            field = "daily_streak" if fact == "daily_streak" else "lifetime_earned"
            return int((doc or {}).get(field) or 0)
        if fact == "events_attended":
            return await count(db["event_attendance"], {"guild_id": guild_id, "user_id": user_id})
        if fact == "challenges":
            return await count(db["challenge_completions"], {"guild_id": guild_id,
                                                             "user_id": user_id})
        if fact == "guides":
            return await count(db["guides"], {"guild_id": guild_id, "author_id": user_id,
                                              "status": "published"})
        if fact == "well_rated_trades":
            return await self._well_rated_trades(guild_id, user_id)
        if fact == "event_wins":
            # `$all`/`$elemMatch`, not element equality: the embedded store matches no array
            # element by equality inside a pipeline (notes/store-fidelity.md); both are MongoDB.
            return await count(db["community_events"], {"guild_id": guild_id,
                                                        "status": "completed",
                                                        "winners": {"$all": [user_id]}})
        if fact == "season_podiums":
            return await count(db["season_results"], {
                "guild_id": guild_id, "winners": {"$elemMatch": {"user_id": user_id}}})
        if fact == "mentorships":
            doc = await find_first(db["mentors"], {"guild_id": guild_id, "user_id": user_id})
            return int((doc or {}).get("completed") or 0)
        if fact == "nft_holder":  # proven by the sync's signal only (nothing stored per member)
            return 0
        raise ValueError(f"unknown fact {fact!r}")

    async def _well_rated_trades(self, guild_id: int, user_id: int) -> int:
        """Completed trades (either side) while the stars received average >= 4.5; else 0."""
        cursor = await self.db["trade_ratings"].aggregate([
            {"$match": {"guild_id": guild_id, "ratee_id": user_id}},
            {"$group": {"_id": None, "n": {"$sum": 1}, "stars": {"$sum": "$stars"}}},
        ])
        found = await cursor.to_list()
        n, stars = (int(found[0]["n"]), int(found[0]["stars"])) if found else (0, 0)
        if n == 0 or stars * 2 < 9 * n:  # integer form of stars / n >= 4.5
            return 0
        return await self.fact(guild_id, user_id, "trades")
