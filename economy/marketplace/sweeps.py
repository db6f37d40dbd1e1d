"""The marketplace's periodic work: expiry, reminders, alert digests, stale drafts, view counts.

Restart-safe and safe with two bot processes: each step is a guarded update on a due document,
and only the process whose update applied gets the notices. The view flush is per process by
design (each process writes the views it counted).
"""

from __future__ import annotations

from datetime import timedelta

from economy.core.clock import Clock, span_ms
from economy.marketplace.member_repo import MarketMemberRepo
from economy.marketplace.models import DRAFT_TTL_SECONDS, Listing, Notice
from economy.marketplace.repo import ListingRepo, epoch_ms
from economy.marketplace.search import ViewCounter
from economy.marketplace.watch import WatchService


class SweepService:
    """The sweep job and the view-count flush job."""

    def __init__(self, listings: ListingRepo, members: MarketMemberRepo, clock: Clock,
                 watch: WatchService, views: ViewCounter) -> None:
        self._repo = listings
        self._members = members
        self._clock = clock
        self._watch = watch
        self._views = views

    async def sweep(self, *, batch: int = 200) -> list[Notice]:
        """Expire due listings, send 2-day reminders and due alert digests, delete abandoned
        drafts; returns the DMs to send.

        Raises: nothing of its own (a storage failure propagates; the next run picks up what
        this one left, every step being guarded).
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
        notices += await self._watch.due_digests(now_ms, batch=batch)
        stale_ms = now_ms - span_ms(timedelta(seconds=DRAFT_TTL_SECONDS))
        for doc in await self._repo.due("draft", "created_ts", stale_ms, limit=batch):
            await self._repo.delete_draft(doc["guild_id"], doc["listing_id"], None)
        return notices

    async def flush_views(self) -> int:
        """Write the views counted since the last flush; returns how many were written.

        Raises: whatever the store raised; the counts then go back into the counter, so the
        next flush writes them.
        """
        counts = self._views.take()
        if not counts:
            return 0
        try:
            await self._repo.add_views(dict(counts))
        except Exception:
            self._views.put_back(counts)
            raise
        return sum(counts.values())
