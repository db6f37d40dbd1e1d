"""The marketplace service: listing lifecycle, approval, browse/search, wishlists, alerts, sweeps.

Rules live here; the Discord layer only parses input, calls one method and renders the result.
Methods that should DM members return `Notice`s instead of sending anything, so this module never
imports discord and a transition that did not apply (a double click, another bot process) never
produces a message.

Lifecycle: draft -> (pending -> approved) active -> reserved -> sold, plus rejected, withdrawn and
expired. Each change is one guarded update, see `ListingRepo.transition`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import statistics
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from economy.clock import Clock
from economy.errors import Cooldown, InvalidInput, NotFound, NotPermitted
from economy.images import ProcessedImage
from economy.marketplace_models import (
    ALERTS_PER_MEMBER,
    CONDITIONS,
    DRAFT_TTL_SECONDS,
    MAX_IMAGES,
    PRICE_HINT_MIN_SALES,
    REMIND_BEFORE_SECONDS,
    SIMILAR_CONDITIONS,
    Alert,
    Listing,
    ListingQuery,
    Notice,
    PriceHint,
    SearchPage,
    check_description,
    check_price_gems,
    check_title,
    clean_line,
    default_categories,
    listing_keywords,
    parse_specs,
    parse_tags,
    parse_usd,
    tokens,
)
from economy.members import MemberService
from economy.repos.base import Doc
from economy.repos.listing_repo import SLOT_KIND as LISTING_SLOT
from economy.repos.listing_repo import ListingRepo, OverCap, QuotaFull, epoch_ms
from economy.repos.listing_terms import words_filter
from economy.repos.market_member_repo import AlertsFull, MarketMemberRepo
from economy.repos.slot_repo import SlotsBusy, SlotsFull
from economy.settings import GuildSettings, SettingsService
from economy.wording import plural

PAGE_SIZE = 10
COUNT_CAP = 1000
#: Word counts for that ranking are remembered this long (they only decide how much a search
#: walks, never what it finds, so a stale count costs time, not correctness).
RANK_TTL = timedelta(seconds=60)
RANK_CACHE_MAX = 4096
#: A multi-word search first reads up to this many matches in one walk; fewer means all of them.
SPARSE_READ = 200
INLINE_QUERY_MAX = 60
REASON_MIN, REASON_MAX = 3, 300
EDITABLE = ("draft", "pending", "active")
ALERT_KEYWORDS_MAX = 100
EDIT_RETRIES = 5  # re-reads when another write lands between an edit's read and its write
SORT_KEYS: dict[str, dict[str, int]] = {
    "newest": {"listed_ts": -1, "listing_id": -1},
    "popular": {"popularity": -1, "listing_id": -1},
}


@dataclass(frozen=True)
class PublishResult:
    """A listing that went live or into the queue, and who should hear about it."""

    listing: Listing
    needs_approval: bool
    notices: list[Notice] = field(default_factory=list)


class _Lost(Exception):
    """A guarded transition inside a transaction matched nothing (abort and explain)."""


def categories(settings: GuildSettings) -> tuple[str, ...]:
    """The categories members may list in (the guild's own list, else the default set)."""
    return tuple(settings.marketplace_categories) or default_categories()


class MarketplaceService:
    """Listings and everything members do with them."""

    def __init__(self, listings: ListingRepo, members: MarketMemberRepo,
                 settings: SettingsService, clock: Clock,
                 throttles: MemberService | None = None) -> None:
        self._repo = listings
        self._members = members
        self._throttles = throttles
        self._settings = settings
        self._clock = clock
        self._views: Counter[tuple[int, int]] = Counter()
        self._word_counts: dict[tuple[int, str], tuple[int, datetime]] = {}

    # --- creating ------------------------------------------------------------------------------
    async def check_new_listing(
        self, guild_id: int, seller_id: int, *, category: str, condition: str,
        price_gems: object, price_usd: str | None, tags: str | None, image_count: int,
    ) -> GuildSettings:
        """Validate what `/list-item` knows before its modal opens (fail fast, store nothing)."""
        settings = await self._settings.get(guild_id)
        self._check_category(settings, category)
        self._check_condition(condition)
        self._check_prices(settings, price_gems, price_usd)
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
    ) -> Listing:
        """Validate everything and store a draft with its images (only the seller sees it)."""
        settings = await self._settings.get(guild_id)
        category = self._check_category(settings, category)
        condition = self._check_condition(condition)
        gems, cents = self._check_prices(settings, price_gems, price_usd)
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
        }
        try:
            await self._repo.insert_draft(doc, image_docs, cap=settings.max_active_listings)
        except OverCap:
            raise self._over_cap(settings) from None
        return Listing.model_validate(doc)

    async def cancel_draft(self, guild_id: int, seller_id: int, listing_id: int) -> None:
        """Discard a draft and its images."""
        if not await self._repo.delete_draft(guild_id, listing_id, seller_id):
            await self._own(guild_id, seller_id, listing_id)  # explains why (not yours, gone)
            raise InvalidInput("This listing was already published or cancelled.")

    async def publish(self, guild_id: int, seller_id: int, listing_id: int) -> PublishResult:
        """Publish a draft: live at once, or into the moderator queue when approval is on."""
        listing = await self._own(guild_id, seller_id, listing_id)
        if listing.status != "draft":
            raise InvalidInput("This listing was already published or cancelled.")
        return await self._go_live(guild_id, listing, from_status=("draft",))

    async def relist(self, guild_id: int, seller_id: int, listing_id: int) -> PublishResult:
        """Put an expired or withdrawn listing back up (same caps as a new one)."""
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
            set_.update(self._live_fields(now, settings))
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
            raise self._over_cap(settings) from None
        except QuotaFull:
            tomorrow = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                        settings.zone)
            raise Cooldown(f"You can publish {plural(settings.listings_per_day, 'listing')} per day "
                           "and reached that limit.", retry_at=tomorrow) from None
        except _Lost:
            raise InvalidInput("This listing changed meanwhile (already published?).") from None
        notices = [] if approval else await self._alert_notices(after)
        return PublishResult(listing=after, needs_approval=approval, notices=notices)

    # --- moderation ----------------------------------------------------------------------------
    async def approve(self, guild_id: int, moderator_id: int, listing_id: int) -> PublishResult:
        """pending -> active. The caller checked the moderator permission; a moderator may not
        approve their own listing (another moderator has to)."""
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        after = await self._repo.transition(
            guild_id, listing_id, from_status=("pending",), to_status="active", at=now,
            set_={**self._live_fields(now, settings), "moderated_by": moderator_id},
            where={"seller_id": {"$ne": moderator_id}})
        if after is None:
            doc = await self._repo.get(guild_id, listing_id)
            if doc is not None and doc["seller_id"] == moderator_id:
                raise NotPermitted("You can't approve your own listing; another moderator has to.")
            raise InvalidInput(await self._not_pending(guild_id, listing_id))
        listing = Listing.model_validate(after)
        notices = [Notice(user_id=listing.seller_id, kind="approved", listing=listing)]
        notices += await self._alert_notices(listing)
        return PublishResult(listing=listing, needs_approval=False, notices=notices)

    async def reject(self, guild_id: int, moderator_id: int, listing_id: int,
                     reason: str) -> Notice:
        """pending -> rejected with a reason the seller is told."""
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
        notices: list[Notice] = []
        drop = _dropped(listing.price_gems, updated.price_gems) or _dropped(
            listing.price_usd_cents, updated.price_usd_cents)
        if drop and updated.status == "active":
            for user_id in await self._members.wishers_of(guild_id, listing_id):
                # At most one price-drop DM per listing and member per `notice_throttle_hours`:
                # a seller nudging the price down ten times must not DM the wishlist ten times.
                if self._throttles is not None and not await self._throttles.claim_notice(
                        guild_id, user_id, f"price_drop:{listing_id}",
                        hours=settings.notice_throttle_hours):
                    continue
                notices.append(Notice(user_id=user_id, kind="price_drop", listing=updated,
                                      detail=_price_change(listing, updated)))
        return updated, notices

    async def withdraw(self, guild_id: int, seller_id: int, listing_id: int) -> Listing:
        """Take a pending or active listing down."""
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

    async def mine(self, guild_id: int, seller_id: int, *, limit: int = 25) -> list[Listing]:
        """A member's published listings (every status but draft), newest first."""
        docs = await self._repo.by_seller(
            guild_id, seller_id,
            ("pending", "active", "reserved", "sold", "expired", "withdrawn", "rejected"),
            limit=limit)
        return [Listing.model_validate(d) for d in docs]

    async def pending(self, guild_id: int, *, limit: int = 25) -> list[Listing]:
        """Listings waiting for a moderator, oldest first (the caller checked the role)."""
        docs = await self._repo.by_status(guild_id, "pending", limit=500)
        rows = sorted((Listing.model_validate(d) for d in docs), key=lambda r: r.listing_id)
        return rows[:limit]

    async def own_choices(self, guild_id: int, seller_id: int, current: str) -> list[Listing]:
        """A member's listings for autocomplete, filtered by id or title text."""
        docs = await self._repo.by_seller(
            guild_id, seller_id, ("pending", "active", "expired", "withdrawn", "draft"), limit=100)
        needle = current.strip().lower().lstrip("#")
        rows = [Listing.model_validate(d) for d in docs]
        return [r for r in rows if not needle or needle in str(r.listing_id)
                or needle in r.title.lower()][:25]

    # --- reading -------------------------------------------------------------------------------
    async def get(self, guild_id: int, listing_id: int) -> Listing:
        """A listing by id. Raises NotFound."""
        doc = await self._repo.get(guild_id, listing_id)
        if doc is None:
            raise NotFound(f"There is no listing #{listing_id}.")
        return Listing.model_validate(doc)

    async def view(self, guild_id: int, listing_id: int, viewer_id: int, *,
                   moderator: bool = False) -> Listing:
        """A listing as `viewer_id` may see it; counts a view of an active listing by others."""
        listing = await self.get(guild_id, listing_id)
        if not listing.is_open and viewer_id != listing.seller_id and not moderator:
            raise NotFound(f"Listing #{listing_id} is not available.")
        if listing.status == "active" and viewer_id != listing.seller_id:
            # Counted in memory and flushed in bulk (flush_views): a view never waits for,
            # or holds up, a money transaction.
            self._views[(guild_id, listing_id)] += 1
        return listing

    async def flush_views(self) -> int:
        """Write the views counted since the last flush; returns how many were written.

        On a failure the counts go back into the counter, so the next flush writes them.
        """
        counts, self._views = self._views, Counter()
        if not counts:
            return 0
        try:
            await self._repo.add_views(dict(counts))
        except Exception:
            self._views.update(counts)
            raise
        return sum(counts.values())

    async def image(self, guild_id: int, image_id: str, *, thumb: bool = False) -> bytes:
        """Stored JPEG bytes of a listing image."""
        doc = await self._repo.image(guild_id, image_id)
        if doc is None:
            raise NotFound("That image is gone.")
        return bytes(doc["thumb" if thumb else "full"])

    async def search(self, guild_id: int, query: ListingQuery, *, page: int = 1,
                     page_size: int = PAGE_SIZE) -> SearchPage:
        """One page of active listings matching `query` (clamped to the last page)."""
        match, sort = self._plan(guild_id, query)
        if query.seller_id:
            return await self._seller_search(match, sort, page, page_size)
        if "keywords" in match:
            return await self._keyword_search(match, sort, page, page_size)
        total = await self._repo.count_capped(match, COUNT_CAP)
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        docs = await self._repo.search(match, sort, skip=(page - 1) * page_size, limit=page_size)
        return SearchPage(rows=tuple(Listing.model_validate(d) for d in docs), page=page,
                          page_size=page_size, total=total, total_capped=total >= COUNT_CAP,
                          plan="listings index")

    async def _keyword_search(self, match: Doc, sort: dict[str, int], page: int,
                              page_size: int) -> SearchPage:
        """Keyword search through the postings (`listing_terms`).

        The walked word's postings carry the filters, the sort keys and the listing's whole
        keyword set (`w`), so every keyword search is a capped count plus one page of index walk
        over ONE word's postings: with several words, the rarest one's (the other words are the
        equality filters `w.<word>: 1`, evaluated by the store inside that word's index range),
        and when those match fewer than SPARSE_READ listings, a single walk that reads them all.
        The work is bounded by the rarest word's postings, never by the guild's listings, and the
        result equals the `keywords: {$all}` walk over `listings` (the same count, capped at
        COUNT_CAP, and the same rows in the same order).
        """
        guild_id = match["guild_id"]
        words = list(match["keywords"]["$all"])
        filters = {k: v for k, v in match.items()
                   if k not in ("guild_id", "status", "keywords")}
        terms = self._repo.terms
        plan = "one-word postings"
        if len(words) > 1:
            # Which word is rarest only decides how much is walked, never what is found.
            counts = [await self._word_count(guild_id, w) for w in words]
            ranked = [w for _, w in sorted(zip(counts, words, strict=True))]
            words = ranked
            filters.update(words_filter(ranked[1:]))
            plan = (f"postings of rarest word '{ranked[0]}' ({min(counts)}) filtered by "
                    + ", ".join(f"w.{w}" for w in ranked[1:]))
            # Common words with few listings in common are the slow case (the whole walk finds
            # little): read all the matches in that one walk when they are few, instead of
            # walking once to count and again for the page.
            hits = await terms.page(guild_id, words[0], filters, sort, skip=0, limit=SPARSE_READ)
            if len(hits) < SPARSE_READ:
                total = min(len(hits), COUNT_CAP)
                page = _clamp(page, total, page_size)
                return await self._page_of(hits[(page - 1) * page_size: page * page_size], page,
                                           page_size, total, plan=plan + ", one walk")
        total = await terms.count(guild_id, words[0], filters, COUNT_CAP)
        page = _clamp(page, total, page_size)
        postings = await terms.page(guild_id, words[0], filters, sort,
                                    skip=(page - 1) * page_size, limit=page_size)
        return await self._page_of(postings, page, page_size, total, plan=plan)

    async def _word_count(self, guild_id: int, word: str) -> int:
        """How many postings `word` has, remembered for RANK_TTL."""
        now = self._clock.now()
        cached = self._word_counts.get((guild_id, word))
        if cached is not None and cached[1] > now:
            return cached[0]
        n = await self._repo.terms.word_count(guild_id, word)
        if len(self._word_counts) >= RANK_CACHE_MAX:
            self._word_counts.clear()
        self._word_counts[(guild_id, word)] = (n, now + RANK_TTL)
        return n

    async def _page_of(self, postings: list[Doc], page: int, page_size: int,
                       total: int, *, plan: str) -> SearchPage:
        docs = await self._repo.by_postings(postings)
        return SearchPage(rows=tuple(Listing.model_validate(d) for d in docs), page=page,
                          page_size=page_size, total=total, total_capped=total >= COUNT_CAP,
                          plan=plan)

    async def _seller_search(self, match: Doc, sort: dict[str, int], page: int,
                             page_size: int) -> SearchPage:
        # One seller has at most `max_active_listings` (<= 1,000) active listings: read them
        # through the (guild, seller, status, listed_ts) index and order them here. Letting the
        # store combine a seller filter with a price sort walks the price index instead (measured
        # ~0.5 s at 100,000 listings on nx-27017).
        match = dict(match)
        bounds = {f: match.pop(f) for f in ("price_gems", "price_usd_cents") if f in match}
        docs = await self._repo.search(match, SORT_KEYS["newest"], skip=0, limit=COUNT_CAP)
        for f, bound in bounds.items():  # price bounds here, or the planner picks the price index
            docs = [d for d in docs if d.get(f) is not None
                    and bound["$gte"] <= d[f] <= bound.get("$lte", d[f])]
        fields = list(sort)
        docs.sort(key=lambda d: tuple(d.get(f) or 0 for f in fields),
                  reverse=next(iter(sort.values())) < 0)
        pages = max(1, -(-len(docs) // page_size))
        page = min(max(1, page), pages)
        rows = docs[(page - 1) * page_size: page * page_size]
        return SearchPage(rows=tuple(Listing.model_validate(d) for d in rows), page=page,
                          page_size=page_size, total=len(docs),
                          total_capped=len(docs) >= COUNT_CAP, plan="seller's listings")

    def _plan(self, guild_id: int, query: ListingQuery) -> tuple[Doc, dict[str, int]]:
        """The `$match` and index-backed `$sort` of a query (see migrations/0002)."""
        match: Doc = {"guild_id": guild_id, "status": "active"}
        if query.category:
            match["category"] = query.category
        if query.condition:
            match["condition"] = query.condition
        if query.seller_id:
            match["seller_id"] = query.seller_id
        terms = [*query.keywords]
        for tag in query.tags:
            terms += [t for t in tokens(tag) if t not in terms]
        if terms:
            match["keywords"] = {"$all": terms}
        price = "price_usd_cents" if query.currency == "usd" else "price_gems"
        if query.sort in ("price_asc", "price_desc") or query.price_min or query.price_max:
            # "Has a price in this currency" is `>= 1` (nx: `$ne: null` matches missing fields).
            bounds: Doc = {"$gte": max(1, query.price_min or 1)}
            if query.price_max is not None:
                bounds["$lte"] = query.price_max
            match[price] = bounds
        if query.sort == "price_asc":
            sort = {price: 1, "listing_id": 1}
        elif query.sort == "price_desc":
            sort = {price: -1, "listing_id": -1}
        else:
            sort = SORT_KEYS[query.sort]
        return match, sort

    def build_query(
        self, settings: GuildSettings, *, keywords: str | None = None, category: str | None = None,
        condition: str | None = None, currency: str = "gems", min_price: str | None = None,
        max_price: str | None = None, seller_id: int | None = None, tags: str | None = None,
        sort: str = "newest",
    ) -> ListingQuery:
        """Validate search options into a query."""
        if category:
            category = self._check_category(settings, category)
        if condition:
            condition = self._check_condition(condition)
        if currency not in ("gems", "usd"):
            raise InvalidInput("Currency is gems or usd.")
        lo, hi = (_parse_bound(v, currency) for v in (min_price, max_price))
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput("The minimum price is above the maximum price.")
        words = tokens(clean_line(keywords))[:8]
        try:
            return ListingQuery(keywords=tuple(words), category=category or None,
                                condition=condition or None, currency=currency, price_min=lo,
                                price_max=hi, seller_id=seller_id,
                                tags=parse_tags(tags)[:5], sort=sort)
        except ValueError:
            raise InvalidInput("That search has an option I can't use.") from None

    async def query_token(self, guild_id: int, query: ListingQuery) -> str:
        """A short token for a query: inline JSON when it is small, else a saved query id."""
        text = query.compact()
        if len(text) <= INLINE_QUERY_MAX:
            return text
        digest = hashlib.sha1(f"{guild_id}:{text}".encode()).digest()
        query_id = base64.b32encode(digest).decode()[:12].lower()
        await self._members.save_query(guild_id, query_id, text, self._clock.now())
        return "~" + query_id

    async def query_from_token(self, guild_id: int, token: str) -> ListingQuery:
        """Inverse of `query_token`. Raises NotFound for an unknown saved query."""
        text: str | None = token
        if token.startswith("~"):
            text = await self._members.load_query(guild_id, token[1:])
        if not text:
            raise NotFound("That search is no longer available; please search again.")
        try:
            return ListingQuery.from_compact(text)
        except ValueError:
            raise NotFound("That search is no longer available; please search again.") from None

    async def price_hint(self, guild_id: int, category: str, condition: str) -> PriceHint | None:
        """Median and range of comparable sales (same category, similar condition), if >= 5."""
        similar = SIMILAR_CONDITIONS.get(condition, (condition,))
        prices = await self._repo.sold_prices(guild_id, category, similar)
        if len(prices) < PRICE_HINT_MIN_SALES:
            return None
        return PriceHint(sales=len(prices), median=int(statistics.median_low(prices)),
                         low=min(prices), high=max(prices))

    # --- wishlists and alerts ------------------------------------------------------------------
    async def wish(self, guild_id: int, user_id: int, listing_id: int) -> bool:
        """Wishlist a listing; False when it was already there."""
        listing = await self.get(guild_id, listing_id)
        if listing.seller_id == user_id:
            raise InvalidInput("That's your own listing.")
        if listing.status not in ("active", "reserved"):
            raise InvalidInput(f"Listing #{listing_id} is {listing.status}.")
        return await self._members.add_wish(guild_id, user_id, listing_id, self._clock.now())

    async def unwish(self, guild_id: int, user_id: int, listing_id: int) -> None:
        """Remove a listing from a wishlist. Raises NotFound when it was not there."""
        if not await self._members.remove_wish(guild_id, user_id, listing_id):
            raise NotFound(f"Listing #{listing_id} is not on your wishlist.")

    async def wishlist(self, guild_id: int, user_id: int) -> list[Listing]:
        """A member's wishlisted listings, latest first (gone ones skipped)."""
        out = []
        for doc in await self._members.wishes_of(guild_id, user_id):
            listing = await self._repo.get(guild_id, doc["listing_id"])
            if listing is not None:
                out.append(Listing.model_validate(listing))
        return out

    async def add_alert(self, guild_id: int, user_id: int, *, keywords: str | None,
                        category: str | None, max_price_gems: int | None) -> Alert:
        """Save a search that DMs the member when a matching listing goes live."""
        settings = await self._settings.get(guild_id)
        text = clean_line(keywords)
        if len(text) > ALERT_KEYWORDS_MAX:
            raise InvalidInput(f"Alert keywords can be at most {ALERT_KEYWORDS_MAX} characters.")
        if keywords and keywords.strip() and not text:
            raise InvalidInput("Those keywords have no visible characters.")
        words = tuple(tokens(text)[:8])
        if category:
            category = self._check_category(settings, category)
        if max_price_gems is not None:
            check_price_gems(max_price_gems)
        if not words and not category and max_price_gems is None:
            raise InvalidInput("Give at least keywords, a category or a maximum price.")
        existing = await self._members.alerts_of(guild_id, user_id)
        if len(existing) >= ALERTS_PER_MEMBER:
            raise InvalidInput(f"You can keep {ALERTS_PER_MEMBER} alerts; remove one first.")
        next_id = max((int(d["alert_id"]) for d in existing), default=0) + 1
        for alert_id in range(next_id, next_id + 5):  # a concurrent add took the id: next one
            doc = {"guild_id": guild_id, "user_id": user_id, "alert_id": alert_id,
                   "keywords": list(words), "category": category or None,
                   "max_price_gems": max_price_gems, "created_at": self._clock.now()}
            try:
                if await self._members.add_alert(doc, cap=ALERTS_PER_MEMBER):
                    return Alert.model_validate(doc)
            except AlertsFull:
                raise InvalidInput(f"You can keep {ALERTS_PER_MEMBER} alerts; remove one "
                                   "first.") from None
        raise InvalidInput("Please try again.")

    async def alerts(self, guild_id: int, user_id: int) -> list[Alert]:
        """A member's alerts."""
        return [Alert.model_validate(d) for d in await self._members.alerts_of(guild_id, user_id)]

    async def remove_alert(self, guild_id: int, user_id: int, alert_id: int) -> None:
        """Delete one of the member's alerts."""
        if not await self._members.remove_alert(guild_id, user_id, alert_id):
            raise NotFound(f"You have no alert #{alert_id}.")

    async def _alert_notices(self, listing: Listing) -> list[Notice]:
        """Queue a listing that just went live for the members whose alerts match it.

        Nothing is sent now: matches wait `alert_digest_minutes` in the outbox, and the sweep
        sends each member ONE digest of everything that matched meanwhile (no DM spam when a
        seller lists ten rings at once). Returns no notices.
        """
        keywords = set(listing_keywords(listing.title, listing.tags, listing.category,
                                        listing.specs, listing.description))
        settings = await self._settings.get(listing.guild_id)
        due_ms = epoch_ms(self._clock.now()) + settings.alert_digest_minutes * 60_000
        queued: set[int] = set()
        async for doc in self._members.guild_alerts(listing.guild_id):
            alert = Alert.model_validate(doc)
            if alert.user_id == listing.seller_id or alert.user_id in queued:
                continue
            if not set(alert.keywords) <= keywords:
                continue
            if alert.category and alert.category != listing.category:
                continue
            if alert.max_price_gems is not None and (
                    listing.price_gems is None or listing.price_gems > alert.max_price_gems):
                continue
            queued.add(alert.user_id)
            await self._members.queue_alert_match({
                "_id": f"{listing.guild_id}:{alert.user_id}:{listing.listing_id}",
                "guild_id": listing.guild_id, "user_id": alert.user_id,
                "listing_id": listing.listing_id, "alert_id": alert.alert_id, "due_ms": due_ms})
        return []

    async def _alert_digests(self, now_ms: int, batch: int) -> list[Notice]:
        """One DM per member for every queued alert match, once their oldest match is due."""
        notices = []
        for guild_id, user_id in await self._members.due_alert_members(now_ms, limit=batch):
            listings = []
            alert_ids = []
            for match in await self._members.take_alert_matches(guild_id, user_id):
                doc = await self._repo.get(guild_id, match["listing_id"])
                if doc is not None and doc.get("status") == "active":
                    listings.append(Listing.model_validate(doc))
                    alert_ids.append(str(match["alert_id"]))
            if listings:
                notices.append(Notice(user_id=user_id, kind="alert", listing=listings[0],
                                      detail=", #".join(dict.fromkeys(alert_ids)),
                                      more=tuple(listings[1:])))
        return notices

    # --- the sweep job -------------------------------------------------------------------------
    async def sweep(self, *, batch: int = 200) -> list[Notice]:
        """Expire due listings, send 2-day reminders, delete abandoned drafts.

        Restart-safe and safe with two bot processes: each step is a guarded update on a due
        document, and only the process whose update applied gets the notices.
        """
        now = self._clock.now()
        now_ms = epoch_ms(now)
        notices: list[Notice] = []
        for doc in await self._repo.due("active", "expires_ts", now_ms, limit=batch):
            after = await self._repo.transition(
                doc["guild_id"], doc["listing_id"], from_status=("active",), to_status="expired",
                at=now, where={"expires_ts": {"$lte": now_ms}})
            if after is not None:
                listing = Listing.model_validate(after)
                notices.append(Notice(user_id=listing.seller_id, kind="expired", listing=listing))
        for doc in await self._repo.due("active", "remind_ts", now_ms, limit=batch,
                                        extra={"reminded": False}):
            after = await self._repo.update_fields(
                doc["guild_id"], doc["listing_id"],
                where={"status": "active", "reminded": False, "remind_ts": {"$lte": now_ms}},
                set_={"reminded": True})
            if after is None:
                continue
            listing = Listing.model_validate(after)
            notices.append(Notice(user_id=listing.seller_id, kind="expiring", listing=listing))
            for user_id in await self._members.wishers_of(listing.guild_id, listing.listing_id):
                notices.append(Notice(user_id=user_id, kind="wish_expiring", listing=listing))
        notices += await self._alert_digests(now_ms, batch)
        stale_ms = now_ms - DRAFT_TTL_SECONDS * 1000
        for doc in await self._repo.due("draft", "created_ts", stale_ms, limit=batch):
            await self._repo.delete_draft(doc["guild_id"], doc["listing_id"], None)
        return notices

    # --- helpers -------------------------------------------------------------------------------
    async def _own(self, guild_id: int, seller_id: int, listing_id: int) -> Listing:
        listing = await self.get(guild_id, listing_id)
        if listing.seller_id != seller_id:
            raise NotPermitted("That listing belongs to someone else; you can only manage "
                               "your own listings.")
        return listing

    async def _check_open_cap(self, guild_id: int, seller_id: int,
                              settings: GuildSettings) -> None:
        # A friendly early answer; the binding check runs inside the publishing transaction.
        if await self._repo.count_open(guild_id, seller_id) >= settings.max_active_listings:
            raise self._over_cap(settings)

    @staticmethod
    def _over_cap(settings: GuildSettings) -> InvalidInput:
        return InvalidInput(
            f"You already have {settings.max_active_listings} open listings, drafts included "
            "(the limit). Publish or cancel a draft, withdraw a listing or wait for a sale.")

    @staticmethod
    def _check_category(settings: GuildSettings, category: str) -> str:
        name = " ".join((category or "").lower().split())
        allowed = categories(settings)
        if name not in allowed:
            raise InvalidInput(f"Pick a category from the list: {', '.join(allowed)}.")
        return name

    @staticmethod
    def _check_condition(condition: str) -> str:
        if condition not in CONDITIONS:
            raise InvalidInput(f"Condition is one of: {', '.join(CONDITIONS.values())}.")
        return condition

    @staticmethod
    def _check_prices(settings: GuildSettings, price_gems: object,
                      price_usd: str | None) -> tuple[int | None, int | None]:
        gems = check_price_gems(price_gems)
        if price_usd not in (None, "") and not settings.marketplace_usd:
            raise InvalidInput("USD prices are turned off in this server; price it in "
                               f"{settings.currency_name}.")
        cents = parse_usd(price_usd)
        if gems is None and cents is None:
            raise InvalidInput(f"Give a price in {settings.currency_name}"
                               + (" and/or USD." if settings.marketplace_usd else "."))
        return gems, cents

    @staticmethod
    def _live_fields(now: datetime, settings: GuildSettings) -> Doc:
        expires = now + timedelta(days=settings.listing_lifetime_days)
        return {"listed_ts": epoch_ms(now), "expires_ts": epoch_ms(expires),
                "remind_ts": epoch_ms(expires) - REMIND_BEFORE_SECONDS * 1000,
                "reminded": False}


def _clamp(page: int, total: int, page_size: int) -> int:
    return min(max(1, page), max(1, -(-total // page_size)))


def _dropped(old: int | None, new: int | None) -> bool:
    return old is not None and new is not None and new < old


def _price_change(old: Listing, new: Listing) -> str:
    parts = []
    if _dropped(old.price_gems, new.price_gems):
        parts.append(f"gems:{old.price_gems}:{new.price_gems}")
    if _dropped(old.price_usd_cents, new.price_usd_cents):
        parts.append(f"usd:{old.price_usd_cents}:{new.price_usd_cents}")
    return ",".join(parts)


def _parse_bound(text: str | None, currency: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if currency == "usd":
        return parse_usd(text)
    digits = text.replace(",", "").replace("_", "")
    # ASCII digits only: "²".isdigit() is True but int("²") fails.
    if not re.fullmatch(r"[0-9]{1,13}", digits):
        raise InvalidInput("Price bounds are whole numbers, like 500.")
    return int(digits)
