"""A member's listings through their lifecycle: drafts, publishing, moderation, edits, withdrawal.

Lifecycle: draft -> (pending -> approved) active -> reserved -> sold, plus rejected, withdrawn and
expired. Each change is one guarded update, see `ListingRepo.transition`; reserved and sold are
written by escrow (economy/trades). Methods that should DM members return `Notice`s instead of
sending anything, so a transition that did not apply (a double click, another bot process)
never produces a message.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from economy.core.actor import Actor
from economy.core.clock import Clock
from economy.core.errors import Conflict, Cooldown, InvalidInput, NotPermitted
from economy.core.images import ProcessedImage
from economy.core.settings import GuildSettings, SettingsService
from economy.core.wording import plural
from economy.marketplace.models import (
    MAX_IMAGES,
    Listing,
    Notice,
    PublishResult,
    check_description,
    check_price_gems,
    check_title,
    clean_line,
    listing_keywords,
    parse_specs,
    parse_tags,
    parse_usd,
)
from economy.marketplace.repo import SLOT_KIND as LISTING_SLOT
from economy.marketplace.repo import ItemTaken, ListingRepo, OverCap, QuotaFull, epoch_ms
from economy.marketplace.rules import (
    ITEM_CATEGORY,
    check_category,
    check_condition,
    check_prices,
    live_fields,
    load_listing,
    over_cap,
)
from economy.marketplace.watch import WatchService
from economy.repos.base import Doc
from economy.repos.slot_repo import SlotsBusy, SlotsFull

REASON_MIN, REASON_MAX = 3, 300
EDITABLE = ("draft", "pending", "active")
EDIT_RETRIES = 5  # re-reads when another write lands between an edit's read and its write


class ItemListed(Conflict):
    """The item a listing sells was claimed by another listing (or moved) meanwhile."""


class _Lost(Exception):
    """A guarded transition inside a transaction matched nothing (abort and explain)."""


class ItemGate(Protocol):
    """What the marketplace needs from a feature whose items members sell (the badges'
    collectibles, economy/badges/collectibles.py): a check before the listing's transaction
    and a claim inside it, so one item is on at most one open listing."""

    async def prepare(self, guild_id: int, seller_id: int, item: str,
                      listing_id: int | None = None) -> Any: ...

    async def claim(self, guild_id: int, ticket: Any, listing_id: int, *,
                    session: Any) -> bool: ...


class ListingService:
    """Creating, publishing, moderating and managing listings."""

    def __init__(self, listings: ListingRepo, settings: SettingsService, clock: Clock,
                 watch: WatchService) -> None:
        self._repo = listings
        self._settings = settings
        self._clock = clock
        self._watch = watch
        #: Items members sell (set by economy/badges/__init__.py when badges are built).
        self._items: ItemGate | None = None

    def attach_items(self, gate: ItemGate) -> None:
        """Let listings sell the items `gate` checks and claims (one feature's, e.g. badges)."""
        self._items = gate

    async def _item(self, guild_id: int, seller_id: int, item: str,
                    listing_id: int | None = None) -> Any:
        if self._items is None:
            raise InvalidInput("Collectibles can't be listed on this bot.")
        return await self._items.prepare(guild_id, seller_id, item, listing_id)

    # --- creating ------------------------------------------------------------------------------
    async def check_new_listing(
        self, guild_id: int, seller_id: int, *, category: str, condition: str,
        price_gems: object, price_usd: str | None, tags: str | None, image_count: int,
        collectible: str | None = None,
    ) -> GuildSettings:
        """Validate what `/list-item` knows before its modal opens (fail fast, store nothing).

        Raises: InvalidInput (category, condition, price, tags, too many images, or the seller
        holds as many open listings as allowed); InvalidAmount (a bad GEMS or USD price);
        NotFound, NotPermitted, Conflict (a collectible that does not exist, is not the
        seller's, or is listed already).
        """
        settings = await self._settings.get(guild_id)
        if collectible is not None:
            await self._item(guild_id, seller_id, collectible)
        else:
            check_category(settings, category)
        check_condition(condition)
        check_prices(settings, price_gems, price_usd)
        parse_tags(tags)
        if image_count > MAX_IMAGES:
            raise InvalidInput(f"A listing can have at most {MAX_IMAGES} images.")
        await self._check_open_cap(guild_id, seller_id, settings)
        return settings

    async def create_draft(
        self, guild_id: int, seller_id: int, *, category: str, condition: str, title: str,
        description: str, specs: str | None = None, tags: str | None = None,
        price_gems: object = None, price_usd: str | None = None,
        images: list[ProcessedImage] | tuple[ProcessedImage, ...] = (),
        collectible: str | None = None,
    ) -> Listing:
        """Validate everything and store a draft with its images (only the seller sees it).
        `collectible`: the badge edition it sells ("c3#17"): only its owner lists it, one open
        listing per edition (claimed in the draft's transaction), category "collectibles".

        Raises: InvalidInput (any field, too many images, or the seller holds as many open
        listings as allowed, checked again inside the storing transaction); InvalidAmount (a
        bad GEMS or USD price); NotFound, NotPermitted, Conflict (the collectible does not
        exist, is not the seller's, or is listed already).
        """
        settings = await self._settings.get(guild_id)
        ticket = None
        if collectible is not None:
            ticket = await self._item(guild_id, seller_id, collectible)
            category = ITEM_CATEGORY
        else:
            category = check_category(settings, category)
        condition = check_condition(condition)
        gems, cents = check_prices(settings, price_gems, price_usd)
        title, description = check_title(title), check_description(description)
        spec_pairs, tag_list = parse_specs(specs), parse_tags(tags)
        if len(images) > MAX_IMAGES:
            raise InvalidInput(f"A listing can have at most {MAX_IMAGES} images.")
        await self._check_open_cap(guild_id, seller_id, settings)
        listing_id = await self._repo.next_listing_id(guild_id)
        now = self._clock.now()
        image_docs = [
            {"guild_id": guild_id, "listing_id": listing_id, "image_id": uuid.uuid4().hex,
             "position": i, "full": img.full, "thumb": img.thumb, "width": img.width,
             "height": img.height, "created_at": now}
            for i, img in enumerate(images)
        ]
        doc: Doc = {
            "guild_id": guild_id, "listing_id": listing_id, "seller_id": seller_id,
            "title": title, "description": description, "category": category,
            "condition": condition, "tags": list(tag_list), "specs": [list(p) for p in spec_pairs],
            "price_gems": gems, "price_usd_cents": cents, "status": "draft", "buyer_id": None,
            "trade_id": None,
            "images": [{"image_id": d["image_id"], "width": d["width"], "height": d["height"]}
                       for d in image_docs],
            "keywords": listing_keywords(title, tag_list, category, spec_pairs, description),
            "created_ts": epoch_ms(now), "updated_ts": epoch_ms(now), "version": 0,
            "listed_ts": None, "expires_ts": None,
            "remind_ts": None, "reminded": False, "sold_ts": None,
            "views": 0, "wishlist_count": 0, "popularity": 0,
            "collectible": ticket.item if ticket is not None else None,
        }
        also = None
        if ticket is not None and self._items is not None:
            gate = self._items

            async def also(session: Any) -> bool:
                return await gate.claim(guild_id, ticket, listing_id, session=session)
        try:
            await self._repo.insert_draft(doc, image_docs, cap=settings.max_active_listings,
                                          also=also)
        except OverCap:
            raise over_cap(settings) from None
        except ItemTaken:
            raise ItemListed("This collectible was listed meanwhile (one listing per "
                             "collectible).") from None
        return Listing.model_validate(doc)

    async def cancel_draft(self, guild_id: int, seller_id: int, listing_id: int) -> None:
        """Discard a draft and its images.

        Raises: NotFound (no such listing); NotPermitted (someone else's); InvalidInput (it is
        no longer a draft).
        """
        if not await self._repo.delete_draft(guild_id, listing_id, seller_id):
            await self._own(guild_id, seller_id, listing_id)  # explains why (not yours, gone)
            raise InvalidInput("This listing was already published or cancelled.")

    async def publish(self, guild_id: int, seller_id: int, listing_id: int) -> PublishResult:
        """Publish a draft: live at once, or into the moderator queue when approval is on.

        Raises: NotFound; NotPermitted (someone else's); InvalidInput (not a draft, changed
        meanwhile, or over the open-listing cap); Cooldown (today's publishing quota is used).
        """
        listing = await self._own(guild_id, seller_id, listing_id)
        if listing.status != "draft":
            raise InvalidInput("This listing was already published or cancelled.")
        return await self._go_live(guild_id, listing, from_status=("draft",))

    async def relist(self, guild_id: int, seller_id: int, listing_id: int) -> PublishResult:
        """Put an expired or withdrawn listing back up (same caps as a new one).

        Raises: NotFound; NotPermitted (someone else's); InvalidInput (not expired or
        withdrawn, changed meanwhile, or over the open-listing cap); Cooldown (today's
        publishing quota is used).
        """
        listing = await self._own(guild_id, seller_id, listing_id)
        if listing.status not in ("expired", "withdrawn"):
            raise InvalidInput("Only expired or withdrawn listings can be relisted.")
        return await self._go_live(guild_id, listing, from_status=("expired", "withdrawn"))

    async def _go_live(self, guild_id: int, listing: Listing, *,
                       from_status: tuple[str, ...]) -> PublishResult:
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        local = now.astimezone(settings.zone)
        day = local.date().isoformat()
        approval = settings.marketplace_approval
        target = "pending" if approval else "active"
        set_: Doc = {"submitted_day": day, "rejected_reason": None}
        if not approval:
            set_.update(live_fields(now, settings))
        repo = self._repo
        cap = settings.max_active_listings
        # A draft holds its open-listing place already; an expired or withdrawn listing gave it
        # up and takes one again in the same transaction (repos/slot_repo.py: a unique place
        # document both of two racing relists write, so the cap holds on MongoDB too). A draft
        # whose place is above a cap lowered since moves to a free place within the cap, or
        # stays a draft.
        held = None if "draft" not in from_status else \
            await repo.open_place(guild_id, listing.listing_id)
        place_needed = held is None or held > cap
        # A collectible's listing (re)claims it in the same transaction: still the seller's,
        # and no other open listing took it meanwhile.
        ticket = None if listing.collectible is None else await self._item(
            guild_id, listing.seller_id, listing.collectible, listing.listing_id)
        gate = self._items

        async def work(session: Any, place: int | None) -> Doc:
            await repo.take_daily_slot(guild_id, listing.seller_id, day,
                                       settings.listings_per_day, session=session)
            after = await repo.transition(
                guild_id, listing.listing_id, from_status=from_status, to_status=target, at=now,
                set_=set_, where={"seller_id": listing.seller_id}, session=session)
            if after is None:
                raise _Lost
            if place is not None:  # after the transition: a relist that lost it is _Lost
                await repo.take_open_slot(guild_id, listing.seller_id, listing.listing_id, place,
                                          session=session, moving=held is not None)
            if ticket is not None and gate is not None and not await gate.claim(
                    guild_id, ticket, listing.listing_id, session=session):
                raise ItemTaken
            return after

        async def attempt(place: int | None) -> Doc:
            return await repo.db.transaction(lambda session: work(session, place))

        try:
            if place_needed:
                doc = await repo.slots.retrying(guild_id, LISTING_SLOT, listing.seller_id, cap,
                                                attempt, moving=held)
            else:
                doc = await attempt(None)
            after = Listing.model_validate(doc)
        except (SlotsFull, SlotsBusy):
            raise over_cap(settings) from None
        except QuotaFull:
            tomorrow = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                        settings.zone)
            raise Cooldown(f"You can publish {plural(settings.listings_per_day, 'listing')} per day "
                           "and reached that limit.", retry_at=tomorrow) from None
        except _Lost:
            raise InvalidInput("This listing changed meanwhile (already published?).") from None
        except ItemTaken:
            raise ItemListed("This collectible was listed or moved meanwhile.") from None
        if not approval:
            await self._watch.queue_matches(after)
        return PublishResult(listing=after, needs_approval=approval, notices=[])

    # --- moderation ----------------------------------------------------------------------------
    async def approve(self, guild_id: int, actor: Actor, listing_id: int) -> PublishResult:
        """pending -> active, by a moderator of the guild (checked here, whatever the caller
        checked); a moderator may not approve their own listing (another moderator has to).

        Raises: NotPermitted (not a moderator of the guild, or the moderator's own listing);
        InvalidInput (no such listing, or it is no longer pending).
        """
        actor.require_moderator(guild_id)
        moderator_id = actor.user_id
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        after = await self._repo.transition(
            guild_id, listing_id, from_status=("pending",), to_status="active", at=now,
            set_={**live_fields(now, settings), "moderated_by": moderator_id},
            where={"seller_id": {"$ne": moderator_id}})
        if after is None:
            doc = await self._repo.get(guild_id, listing_id)
            if doc is not None and doc["seller_id"] == moderator_id:
                raise NotPermitted("You can't approve your own listing; another moderator has to.")
            raise InvalidInput(await self._not_pending(guild_id, listing_id))
        listing = Listing.model_validate(after)
        await self._watch.queue_matches(listing)
        notices = [Notice(user_id=listing.seller_id, kind="approved", listing=listing)]
        return PublishResult(listing=listing, needs_approval=False, notices=notices)

    async def reject(self, guild_id: int, actor: Actor, listing_id: int,
                     reason: str) -> Notice:
        """pending -> rejected with a reason the seller is told (moderators of the guild).

        Raises: NotPermitted (not a moderator of the guild); InvalidInput (a reason shorter
        than 3 or longer than 300 characters, no such listing, or it is no longer pending).
        """
        actor.require_moderator(guild_id)
        moderator_id = actor.user_id
        reason = clean_line(reason)
        if not REASON_MIN <= len(reason) <= REASON_MAX:
            raise InvalidInput(f"Please give a reason of {REASON_MIN}-{REASON_MAX} characters.")
        after = await self._repo.transition(
            guild_id, listing_id, from_status=("pending",), to_status="rejected",
            at=self._clock.now(), set_={"rejected_reason": reason, "moderated_by": moderator_id})
        if after is None:
            raise InvalidInput(await self._not_pending(guild_id, listing_id))
        listing = Listing.model_validate(after)
        return Notice(user_id=listing.seller_id, kind="rejected", listing=listing, detail=reason)

    async def _not_pending(self, guild_id: int, listing_id: int) -> str:
        doc = await self._repo.get(guild_id, listing_id)
        if doc is None:
            return f"Listing #{listing_id} does not exist."
        return f"Listing #{listing_id} is no longer waiting for review (it is {doc['status']})."

    async def pending(self, guild_id: int, actor: Actor, *, limit: int = 25) -> list[Listing]:
        """Listings waiting for a moderator, oldest first (moderators of the guild).

        Raises: NotPermitted (not a moderator of the guild).
        """
        actor.require_moderator(guild_id)
        docs = await self._repo.by_status(guild_id, "pending", limit=500)
        rows = sorted((Listing.model_validate(d) for d in docs), key=lambda r: r.listing_id)
        return rows[:limit]

    # --- managing ------------------------------------------------------------------------------
    async def edit(
        self, guild_id: int, seller_id: int, listing_id: int, *, title: str | None = None,
        description: str | None = None, tags: str | None = None, price_gems: object = None,
        price_usd: str | None = None,
    ) -> tuple[Listing, list[Notice]]:
        """Change title/description/tags/prices; a lower price DMs the wishlisters.

        The new search words are computed from the listing as read, so the write is guarded by
        that read's `version`; when another edit (or a purchase) landed in between, the listing
        is read again and the change recomputed (a few times at most).

        Raises: NotFound; NotPermitted (someone else's); InvalidInput (a bad field, nothing to
        change, a status that can't be edited, USD off, or too many concurrent writes);
        InvalidAmount (a bad GEMS or USD price).
        """
        settings = await self._settings.get(guild_id)
        gems = check_price_gems(price_gems) if price_gems is not None else None
        cents = None
        if price_usd is not None:
            if not settings.marketplace_usd:
                raise InvalidInput("USD prices are turned off in this server.")
            cents = parse_usd(price_usd)
        set_: Doc = {}
        if title is not None:
            set_["title"] = check_title(title)
        if description is not None:
            set_["description"] = check_description(description)
        if tags is not None:
            set_["tags"] = list(parse_tags(tags))
        if price_gems is not None:
            set_["price_gems"] = gems
        if price_usd is not None:
            set_["price_usd_cents"] = cents
        if not set_:
            raise InvalidInput("Nothing to change: give at least one new value.")
        for _ in range(EDIT_RETRIES):
            listing = await self._own(guild_id, seller_id, listing_id)
            if listing.status not in EDITABLE:
                raise InvalidInput(f"A {listing.status} listing can't be edited.")
            after = await self._repo.update_fields(
                guild_id, listing_id,
                where={"seller_id": seller_id, "status": {"$in": list(EDITABLE)},
                       "version": listing.version},
                set_={**set_, "updated_ts": epoch_ms(self._clock.now()), "keywords": listing_keywords(
                    set_.get("title", listing.title), tuple(set_.get("tags", listing.tags)),
                    listing.category, listing.specs, set_.get("description", listing.description))})
            if after is not None:
                break
        else:
            raise InvalidInput("This listing is changing quickly right now; please try again.")
        updated = Listing.model_validate(after)
        return updated, await self._watch.price_drop_notices(listing, updated, settings)

    async def withdraw(self, guild_id: int, seller_id: int, listing_id: int) -> Listing:
        """Take a pending or active listing down.

        Raises: NotFound; NotPermitted (someone else's); InvalidInput (reserved for a trade, a
        draft, or not pending or active).
        """
        listing = await self._own(guild_id, seller_id, listing_id)
        if listing.status == "reserved":
            raise InvalidInput("A trade is in progress for this listing; it can't be withdrawn now.")
        if listing.status == "draft":
            raise InvalidInput("That is an unpublished draft; use Cancel on its preview.")
        after = await self._repo.transition(
            guild_id, listing_id, from_status=("pending", "active"), to_status="withdrawn",
            at=self._clock.now(), where={"seller_id": seller_id})
        if after is None:
            raise InvalidInput(f"Listing #{listing_id} is {listing.status}; only pending or "
                               "active listings can be withdrawn.")
        return Listing.model_validate(after)

    # --- reading -------------------------------------------------------------------------------
    async def get(self, guild_id: int, listing_id: int) -> Listing:
        """A listing by id, whatever its status (callers decide who may see it).

        Raises: NotFound.
        """
        return await load_listing(self._repo, guild_id, listing_id)

    async def mine(self, guild_id: int, seller_id: int, *, limit: int = 25) -> list[Listing]:
        """A member's published listings (every status but draft), newest first.

        Raises: nothing of its own.
        """
        docs = await self._repo.by_seller(
            guild_id, seller_id,
            ("pending", "active", "reserved", "sold", "expired", "withdrawn", "rejected"),
            limit=limit)
        return [Listing.model_validate(d) for d in docs]

    async def own_choices(self, guild_id: int, seller_id: int, current: str) -> list[Listing]:
        """A member's listings for autocomplete, filtered by id or title text.

        Raises: nothing of its own.
        """
        docs = await self._repo.by_seller(
            guild_id, seller_id, ("pending", "active", "expired", "withdrawn", "draft"), limit=100)
        needle = current.strip().lower().lstrip("#")
        rows = [Listing.model_validate(d) for d in docs]
        return [r for r in rows if not needle or needle in str(r.listing_id)
                or needle in r.title.lower()][:25]

    # --- helpers -------------------------------------------------------------------------------
    async def _own(self, guild_id: int, seller_id: int, listing_id: int) -> Listing:
        listing = await load_listing(self._repo, guild_id, listing_id)
        if listing.seller_id != seller_id:
            raise NotPermitted("That listing belongs to someone else; you can only manage "
                               "your own listings.")
        return listing

    async def _check_open_cap(self, guild_id: int, seller_id: int,
                              settings: GuildSettings) -> None:
        # A friendly early answer; the binding check runs inside the publishing transaction.
        if await self._repo.count_open(guild_id, seller_id) >= settings.max_active_listings:
            raise over_cap(settings)
