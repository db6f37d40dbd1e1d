"""Finding listings: browse and search pages, one listing's detail and images, price hints.

Keyword searches walk the word index (`listing_terms`, terms_repo.py); the other searches walk
the `listings` indexes. Boosted listings (a shop consumable, boost.py) come first on every
results page, most recently boosted first, then the usual order without them: the boosts that
run now are one small index range read (`ListingRepo.boosted`), matched against the query here,
and the usual walk leaves them out (`listing_id $nin`, a residual filter on the walked index),
so the paging stays exact and a boost ends when the clock passes it. Detail views are counted
in memory (`ViewCounter`) and written in bulk by the sweeps, so a view never waits for, or
holds up, a money transaction.
"""

from __future__ import annotations

import base64
import hashlib
import re
import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.settings import GuildSettings
from economy.marketplace.member_repo import MarketMemberRepo
from economy.marketplace.models import (
    PRICE_HINT_MIN_SALES,
    SIMILAR_CONDITIONS,
    Listing,
    ListingQuery,
    PriceHint,
    SearchPage,
    clean_line,
    parse_tags,
    parse_usd,
    tokens,
)
from economy.marketplace.repo import ListingRepo
from economy.marketplace.rules import (
    ITEM_CATEGORY,
    check_category,
    check_condition,
    load_listing,
)
from economy.marketplace.terms_repo import words_filter
from economy.repos.base import Doc

PAGE_SIZE = 10
COUNT_CAP = 1000
#: Word counts for that ranking are remembered this long (they only decide how much a search
#: walks, never what it finds, so a stale count costs time, not correctness).
RANK_TTL = timedelta(seconds=60)
RANK_CACHE_MAX = 4096
#: A multi-word search first reads up to this many matches in one walk; fewer means all of them.
SPARSE_READ = 200
INLINE_QUERY_MAX = 60
#: At most this many running boosts are read per search (each took a consumable; more would
#: show in their usual place).
BOOSTED_READ = 500
SORT_KEYS: dict[str, dict[str, int]] = {
    "newest": {"listed_ts": -1, "listing_id": -1},
    "popular": {"popularity": -1, "listing_id": -1},
}


class ViewCounter:
    """Detail views of active listings counted in this process since the last flush."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[int, int]] = Counter()

    def count(self, guild_id: int, listing_id: int) -> None:
        """One more view of a listing. Raises: nothing."""
        self._counts[(guild_id, listing_id)] += 1

    def take(self) -> Counter[tuple[int, int]]:
        """Every count so far, leaving the counter empty. Raises: nothing."""
        counts, self._counts = self._counts, Counter()
        return counts

    def put_back(self, counts: Counter[tuple[int, int]]) -> None:
        """Return counts a failed flush did not write (the next flush writes them).

        Raises: nothing.
        """
        self._counts.update(counts)


class SearchService:
    """Browse, search and view listings; the search options and their shareable tokens."""

    def __init__(self, listings: ListingRepo, members: MarketMemberRepo, clock: Clock,
                 views: ViewCounter) -> None:
        self._repo = listings
        self._members = members
        self._clock = clock
        self._views = views
        self._word_counts: dict[tuple[int, str], tuple[int, datetime]] = {}

    # --- one listing ---------------------------------------------------------------------------
    async def view(self, guild_id: int, listing_id: int, viewer: Actor) -> Listing:
        """A listing as `viewer` may see it (a listing that is not open: its seller and the
        guild's moderators); counts a view of an active listing by others.

        Raises: NotFound (no such listing, or one that is not open and not the viewer's).
        """
        viewer_id = viewer.user_id
        listing = await load_listing(self._repo, guild_id, listing_id)
        if not listing.is_open and viewer_id != listing.seller_id and not viewer.moderator(guild_id):
            raise NotFound(f"Listing #{listing_id} is not available.")
        if listing.status == "active" and viewer_id != listing.seller_id:
            # Counted in memory and flushed in bulk (SweepService.flush_views): a view never
            # waits for, or holds up, a money transaction.
            self._views.count(guild_id, listing_id)
        return listing

    async def image(self, guild_id: int, image_id: str, *, thumb: bool = False) -> bytes:
        """Stored JPEG bytes of a listing image.

        Raises: NotFound (the image is gone).
        """
        doc = await self._repo.image(guild_id, image_id)
        if doc is None:
            raise NotFound("That image is gone.")
        return bytes(doc["thumb" if thumb else "full"])

    async def price_hint(self, guild_id: int, category: str, condition: str) -> PriceHint | None:
        """Median and range of comparable sales (same category, similar condition), if >= 5.

        Raises: nothing of its own.
        """
        similar = SIMILAR_CONDITIONS.get(condition, (condition,))
        prices = await self._repo.sold_prices(guild_id, category, similar)
        if len(prices) < PRICE_HINT_MIN_SALES:
            return None
        return PriceHint(sales=len(prices), median=int(statistics.median_low(prices)),
                         low=min(prices), high=max(prices))

    # --- pages of listings ---------------------------------------------------------------------
    async def search(self, guild_id: int, query: ListingQuery, *, page: int = 1,
                     page_size: int = PAGE_SIZE) -> SearchPage:
        """One page of active listings matching `query` (clamped to the last page).

        Raises: nothing of its own (a query is validated when it is built).
        """
        match, sort = self._plan(guild_id, query)
        boosted = await self._boosted(match)
        if query.seller_id:
            return await self._seller_search(match, sort, page, page_size, boosted)
        if "keywords" in match:
            return await self._keyword_search(match, sort, page, page_size, boosted)
        total = await self._repo.count_capped(match, COUNT_CAP)
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)

        async def walk(skip: int, limit: int, without: Doc) -> list[Doc]:
            return await self._repo.search({**match, **without}, sort, skip=skip, limit=limit)

        docs = await _boosted_first(boosted, page, page_size, walk)
        return SearchPage(rows=tuple(Listing.model_validate(d) for d in docs), page=page,
                          page_size=page_size, total=total, total_capped=total >= COUNT_CAP,
                          plan="listings index" + (", boosted first" if boosted else ""))

    async def _boosted(self, match: Doc) -> list[Doc]:
        """The listings matching `match` whose boost runs now, most recently boosted first."""
        docs = await self._repo.boosted(match["guild_id"], to_ms(self._clock.now()),
                                        limit=BOOSTED_READ)
        found = [d for d in docs if _matches(d, match)]
        found.sort(key=lambda d: (d.get("boosted_at_ms") or 0, d["listing_id"]), reverse=True)
        return found

    async def _keyword_search(self, match: Doc, sort: dict[str, int], page: int,
                              page_size: int, boosted: list[Doc]) -> SearchPage:
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
        plan = "one-word postings" + (", boosted first" if boosted else "")
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
                lids = {d["listing_id"] for d in boosted}
                rest = [h for h in hits if h["listing_id"] not in lids]

                async def sliced(skip: int, limit: int, _: Doc) -> list[Doc]:
                    return await self._repo.by_postings(rest[skip: skip + limit])

                docs = await _boosted_first(boosted, page, page_size, sliced)
                return _page(docs, page, page_size, total, plan=plan + ", one walk")
        total = await terms.count(guild_id, words[0], filters, COUNT_CAP)
        page = _clamp(page, total, page_size)

        async def walk(skip: int, limit: int, without: Doc) -> list[Doc]:
            return await self._repo.by_postings(await terms.page(
                guild_id, words[0], {**filters, **without}, sort, skip=skip, limit=limit))

        return _page(await _boosted_first(boosted, page, page_size, walk), page, page_size,
                     total, plan=plan)

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

    async def _seller_search(self, match: Doc, sort: dict[str, int], page: int,
                             page_size: int, boosted: list[Doc]) -> SearchPage:
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
        lids = {d["listing_id"] for d in boosted}
        docs = boosted + [d for d in docs if d["listing_id"] not in lids]
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

    # --- search options ------------------------------------------------------------------------
    def build_query(
        self, settings: GuildSettings, *, keywords: str | None = None, category: str | None = None,
        condition: str | None = None, currency: str = "gems", min_price: str | None = None,
        max_price: str | None = None, seller_id: int | None = None, tags: str | None = None,
        sort: str = "newest",
    ) -> ListingQuery:
        """Validate search options into a query.

        Raises: InvalidInput (unknown category, condition, currency or sort, bad or crossed
        price bounds, bad tags); InvalidAmount (a bad USD bound).
        """
        if category and " ".join(category.lower().split()) == ITEM_CATEGORY:
            category = ITEM_CATEGORY  # collectibles: not one of the guild's categories
        elif category:
            category = check_category(settings, category)
        if condition:
            condition = check_condition(condition)
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
        """A short token for a query: inline JSON when it is small, else a saved query id.

        Raises: nothing of its own.
        """
        text = query.compact()
        if len(text) <= INLINE_QUERY_MAX:
            return text
        digest = hashlib.sha1(f"{guild_id}:{text}".encode()).digest()
        query_id = base64.b32encode(digest).decode()[:12].lower()
        await self._members.save_query(guild_id, query_id, text, self._clock.now())
        return "~" + query_id

    async def query_from_token(self, guild_id: int, token: str) -> ListingQuery:
        """Inverse of `query_token`.

        Raises: NotFound (an unknown saved query, or a token that is not a query).
        """
        text: str | None = token
        if token.startswith("~"):
            text = await self._members.load_query(guild_id, token[1:])
        if not text:
            raise NotFound("That search is no longer available; please search again.")
        try:
            return ListingQuery.from_compact(text)
        except ValueError:
            raise NotFound("That search is no longer available; please search again.") from None


async def _boosted_first(boosted: list[Doc], page: int, page_size: int, walk: Any) -> list[Doc]:
    """Page `page` of: the `boosted` listings, then the usual order without them.

    `walk(skip, limit, without)` reads the usual order; `without` is the filter that leaves the
    boosted listings out (empty when none runs), so its skips count only the others.
    """
    start = (page - 1) * page_size
    head = boosted[start: start + page_size]
    need = page_size - len(head)
    if need <= 0:
        return head
    return head + await walk(max(0, start - len(boosted)), need, _without(boosted))


def _without(boosted: list[Doc]) -> Doc:
    """The filter that leaves `boosted` out of a walk (a residual filter on the walked index)."""
    return {"listing_id": {"$nin": sorted(d["listing_id"] for d in boosted)}} if boosted else {}


def _matches(doc: Doc, match: Doc) -> bool:
    """Whether a listing matches a search's `$match` (the forms `_plan` builds: equality,
    `$all`, `$gte`/`$lte`), evaluated in Python on the few boosted listings."""
    for field, wanted in match.items():
        have = doc.get(field)
        if not isinstance(wanted, dict):
            if have != wanted:
                return False
            continue
        for op, value in wanted.items():
            if op == "$all":
                ok = isinstance(have, list) and all(v in have for v in value)
            elif op in ("$gte", "$lte"):
                ok = isinstance(have, int) and (have >= value if op == "$gte" else have <= value)
            else:
                raise ValueError(f"no Python form for {op} in a search")
            if not ok:
                return False
    return True


def _page(docs: list[Doc], page: int, page_size: int, total: int, *, plan: str) -> SearchPage:
    return SearchPage(rows=tuple(Listing.model_validate(d) for d in docs), page=page,
                      page_size=page_size, total=total, total_capped=total >= COUNT_CAP, plan=plan)


def _clamp(page: int, total: int, page_size: int) -> int:
    return min(max(1, page), max(1, -(-total // page_size)))


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
