"""The listing boost: a shop consumable whose effect the marketplace applies.

Registered with the shop's effect seam when the marketplace is built
(economy/marketplace/__init__.py, see economy/shop/effects.py): the shop takes the unit, this
module checks the listing and writes its boost in the shop's transaction. A boosted listing sorts
first in browse and search (economy/marketplace/search.py) until `boosted_until_ms`, compared
with the clock on every read, so no job ends a boost. Using another on a listing that is boosted
already extends it from the current end.
"""

from __future__ import annotations

from datetime import timedelta

from economy.core.clock import Clock, span_ms, to_ms, unix_seconds
from economy.core.errors import InvalidInput, NotFound, NotPermitted
from economy.core.modules import FeatureOff, is_on
from economy.core.settings import GuildSettings
from economy.marketplace.repo import ListingRepo
from economy.shop.effects import EffectPlan, EffectRefused

HOUR_MS = span_ms(timedelta(hours=1))
#: Why a listing in each status cannot be boosted (only an active one can).
NOT_ACTIVE = {
    "draft": "an unpublished draft", "pending": "waiting for moderator approval",
    "reserved": "reserved for a trade in progress", "sold": "sold", "withdrawn": "withdrawn",
    "expired": "expired", "rejected": "rejected",
}


class ListingBoost:
    """The `listing_boost` effect: one of the member's active listings first for a while."""

    target_label = "listing"

    def __init__(self, listings: ListingRepo, clock: Clock) -> None:
        self._repo = listings
        self._clock = clock

    async def choices(self, guild_id: int, user_id: int, current: str) -> list[tuple[str, int]]:
        """The member's active listings matching `current` (id or title words), for
        autocomplete.

        Raises: nothing expected.
        """
        docs = await self._repo.by_seller(guild_id, user_id, ("active",), limit=100)
        needle = (current or "").strip().lower().lstrip("#")
        now_ms = to_ms(self._clock.now())
        found = []
        for doc in docs:
            title = str(doc.get("title") or "")
            if needle and needle not in str(doc["listing_id"]) and needle not in title.lower():
                continue
            boosted = " (boosted)" if (doc.get("boosted_until_ms") or 0) > now_ms else ""
            found.append((f"#{doc['listing_id']} · {title}"[:90] + boosted, doc["listing_id"]))
        return found[:25]

    async def plan(self, guild_id: int, user_id: int, target: int | None,
                   settings: GuildSettings) -> EffectPlan:
        """Check that listing `target` is the member's and active, and plan its boost: from
        now (or from the end of a boost that still runs) for `listing_boost_hours`.

        Raises: FeatureOff (the marketplace is off), InvalidInput (not active, expired, or no
        listing given), NotFound (no such listing), NotPermitted (someone else's).
        """
        if not is_on(settings, "marketplace"):
            raise FeatureOff("marketplace")
        if target is None:
            raise InvalidInput("Pick one of your listings to boost.")
        doc = await self._repo.get(guild_id, target)
        if doc is None:
            raise NotFound(f"There is no listing #{target}.")
        if doc.get("seller_id") != user_id:
            raise NotPermitted(f"Listing #{target} is not yours: you can only boost your own "
                               "listings.")
        status = doc.get("status")
        if status != "active":
            raise InvalidInput(f"Listing #{target} is {NOT_ACTIVE.get(status, status)}: only a "
                               "listing that is for sale can be boosted. Nothing was used.")
        now_ms = to_ms(self._clock.now())
        if (doc.get("expires_ts") or 0) <= now_ms:
            raise InvalidInput(f"Listing #{target} has expired: relist it first. Nothing was "
                               "used.")
        running = doc.get("boosted_until_ms") or 0
        until_ms = max(now_ms, running) + settings.listing_boost_hours * HOUR_MS
        repo = self._repo

        async def write(session: object) -> None:
            if not await repo.boost(doc, until_ms=until_ms, now_ms=now_ms, session=session):
                raise EffectRefused(f"Listing #{target} changed just now (sold, withdrawn, "
                                    "edited or boosted by another use): nothing was used. Look "
                                    "again and retry.")

        verb = "stays boosted" if running > now_ms else "is boosted"
        end = unix_seconds(until_ms)
        return EffectPlan(write=write, said=(
            f"🚀 Listing #{target} {verb} until <t:{end}:f> (<t:{end}:R>): it shows first in "
            "`/market browse` and search results."))
