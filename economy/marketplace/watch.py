"""What members watch: wishlists, saved-search alerts, price-drop notices and alert digests.

Methods that should DM members return `Notice`s instead of sending anything (the cog sends
them), so a change that did not apply never produces a message.
"""

from __future__ import annotations

from datetime import timedelta

from economy.core.clock import Clock, span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.members import MemberService
from economy.core.settings import GuildSettings, SettingsService
from economy.marketplace.member_repo import AlertsFull, MarketMemberRepo
from economy.marketplace.models import (
    ALERTS_PER_MEMBER,
    Alert,
    Listing,
    Notice,
    check_price_gems,
    clean_line,
    listing_keywords,
    tokens,
)
from economy.marketplace.repo import ListingRepo
from economy.marketplace.rules import check_category, load_listing

ALERT_KEYWORDS_MAX = 100


class WatchService:
    """Wishlists and alerts: what members keep an eye on, and the DMs that follow from it."""

    def __init__(self, listings: ListingRepo, members: MarketMemberRepo,
                 settings: SettingsService, clock: Clock,
                 throttles: MemberService | None = None) -> None:
        self._repo = listings
        self._members = members
        self._settings = settings
        self._clock = clock
        self._throttles = throttles

    # --- wishlists -----------------------------------------------------------------------------
    async def wish(self, guild_id: int, user_id: int, listing_id: int) -> bool:
        """Wishlist a listing; False when it was already there.

        Raises: NotFound (no such listing); InvalidInput (your own listing, or one that is not
        active or reserved).
        """
        listing = await load_listing(self._repo, guild_id, listing_id)
        if listing.seller_id == user_id:
            raise InvalidInput("That's your own listing.")
        if listing.status not in ("active", "reserved"):
            raise InvalidInput(f"Listing #{listing_id} is {listing.status}.")
        return await self._members.add_wish(guild_id, user_id, listing_id, self._clock.now())

    async def unwish(self, guild_id: int, user_id: int, listing_id: int) -> None:
        """Remove a listing from a wishlist.

        Raises: NotFound (it was not on the wishlist).
        """
        if not await self._members.remove_wish(guild_id, user_id, listing_id):
            raise NotFound(f"Listing #{listing_id} is not on your wishlist.")

    async def wishlist(self, guild_id: int, user_id: int) -> list[Listing]:
        """A member's wishlisted listings, latest first (gone ones skipped).

        Raises: nothing of its own.
        """
        out = []
        for doc in await self._members.wishes_of(guild_id, user_id):
            listing = await self._repo.get(guild_id, doc["listing_id"])
            if listing is not None:
                out.append(Listing.model_validate(listing))
        return out

    async def price_drop_notices(self, before: Listing, after: Listing,
                                 settings: GuildSettings) -> list[Notice]:
        """DMs for the wishlisters of an active listing whose price went down in an edit.

        Raises: nothing of its own.
        """
        drop = _dropped(before.price_gems, after.price_gems) or _dropped(
            before.price_usd_cents, after.price_usd_cents)
        if not drop or after.status != "active":
            return []
        notices: list[Notice] = []
        for user_id in await self._members.wishers_of(after.guild_id, after.listing_id):
            # At most one price-drop DM per listing and member per `notice_throttle_hours`:
            # a seller nudging the price down ten times must not DM the wishlist ten times.
            if self._throttles is not None and not await self._throttles.claim_notice(
                    after.guild_id, user_id, f"price_drop:{after.listing_id}",
                    hours=settings.notice_throttle_hours):
                continue
            notices.append(Notice(user_id=user_id, kind="price_drop", listing=after,
                                  detail=_price_change(before, after)))
        return notices

    # --- saved-search alerts -------------------------------------------------------------------
    async def add_alert(self, guild_id: int, user_id: int, *, keywords: str | None,
                        category: str | None, max_price_gems: int | None) -> Alert:
        """Save a search that DMs the member when a matching listing goes live.

        Raises: InvalidInput (keywords too long or invisible, unknown category, nothing to
        match on, the member holds ALERTS_PER_MEMBER alerts already); InvalidAmount (a bad
        maximum price).
        """
        settings = await self._settings.get(guild_id)
        text = clean_line(keywords)
        if len(text) > ALERT_KEYWORDS_MAX:
            raise InvalidInput(f"Alert keywords can be at most {ALERT_KEYWORDS_MAX} characters.")
        if keywords and keywords.strip() and not text:
            raise InvalidInput("Those keywords have no visible characters.")
        words = tuple(tokens(text)[:8])
        if category:
            category = check_category(settings, category)
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
        """A member's alerts.

        Raises: nothing of its own.
        """
        return [Alert.model_validate(d) for d in await self._members.alerts_of(guild_id, user_id)]

    async def remove_alert(self, guild_id: int, user_id: int, alert_id: int) -> None:
        """Delete one of the member's alerts.

        Raises: NotFound (the member has no such alert).
        """
        if not await self._members.remove_alert(guild_id, user_id, alert_id):
            raise NotFound(f"You have no alert #{alert_id}.")

    async def queue_matches(self, listing: Listing) -> None:
        """Queue a listing that just went live for the members whose alerts match it.

        Nothing is sent now: matches wait `alert_digest_minutes` in the outbox, and the sweep
        sends each member ONE digest of everything that matched meanwhile (no DM spam when a
        seller lists ten rings at once).

        Raises: nothing of its own.
        """
        keywords = set(listing_keywords(listing.title, listing.tags, listing.category,
                                        listing.specs, listing.description))
        settings = await self._settings.get(listing.guild_id)
        due_ms = to_ms(self._clock.now()) + span_ms(timedelta(minutes=settings.alert_digest_minutes))
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

    async def due_digests(self, now_ms: int, *, batch: int) -> list[Notice]:
        """One DM per member for every queued alert match, once their oldest match is due.

        Each match is claimed (deleted) by this caller, so a digest goes out once even with two
        bot processes sweeping. Raises: nothing of its own.
        """
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


def _dropped(old: int | None, new: int | None) -> bool:
    return old is not None and new is not None and new < old


def _price_change(old: Listing, new: Listing) -> str:
    parts = []
    if _dropped(old.price_gems, new.price_gems):
        parts.append(f"gems:{old.price_gems}:{new.price_gems}")
    if _dropped(old.price_usd_cents, new.price_usd_cents):
        parts.append(f"usd:{old.price_usd_cents}:{new.price_usd_cents}")
    return ",".join(parts)
