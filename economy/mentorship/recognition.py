"""Recognition: ratings between the two sides, mentor reputations, the leaderboard and the
monthly mentor spotlight (mentor levels themselves are reached by an ending: pairings.end)."""

from __future__ import annotations

from datetime import timedelta

from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import AlreadyRecorded, InvalidInput, NotPermitted
from economy.core.settings import SettingsService
from economy.core.text import clean_text
from economy.mentorship.models import MentorSummary, Pairing, Spotlight
from economy.mentorship.repo import MentorshipRepo
from economy.mentorship.rules import DAY_MS, REVIEW_MAX


class RecognitionService:
    """Ratings, reputations, the leaderboard and the spotlight."""

    def __init__(self, repo: MentorshipRepo, settings: SettingsService, clock: Clock) -> None:
        self._repo = repo
        self._settings = settings
        self._clock = clock

    async def rate(self, pairing: Pairing, user_id: int, stars: int, review: str | None) -> None:
        """Rate the other side once, from `mentorship_rating_weeks` after the start.

        Raises: InvalidInput (stars outside 1-5, the rating window not open yet, a review over 300
        characters, already rated); NotPermitted (not one of the pair).
        """
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise InvalidInput("Stars go from 1 to 5.")
        role = pairing.role_of(user_id)
        if role is None:
            raise NotPermitted("Only the mentor and the mentee can rate this mentorship.")
        settings = await self._settings.get(pairing.guild_id)
        opens_ms = (pairing.started_ms or 0) + settings.mentorship_rating_weeks * 7 * DAY_MS
        if pairing.started_ms is None or to_ms(self._clock.now()) < opens_ms:
            opens = from_ms(opens_ms)
            raise InvalidInput("Ratings open "
                               f"{settings.mentorship_rating_weeks} weeks into a mentorship, "
                               f"on {opens:%d %b %Y}.")
        review = clean_text(review, REVIEW_MAX, "review")
        try:
            await self._repo.add_rating({
                "guild_id": pairing.guild_id, "mentorship_id": pairing.mentorship_id,
                "rater_id": user_id, "ratee_id": pairing.other(user_id),
                "ratee_role": "mentor" if role == "mentee" else "mentee", "stars": stars,
                "review": review, "at": self._clock.now(), "at_ms": to_ms(self._clock.now())})
        except AlreadyRecorded:
            raise InvalidInput("You already rated this mentorship.") from None

    async def summary(self, guild_id: int, user_id: int) -> MentorSummary:
        """A mentor's reputation: ratings by mentees, completed and active mentorships.

        Raises: nothing of its own.
        """
        n, stars = await self._repo.rating_summary(guild_id, user_id, "mentor")
        doc = await self._repo.mentor(guild_id, user_id) or {}
        return MentorSummary(n, stars, int(doc.get("completed", 0)), int(doc.get("load", 0)))

    async def leaderboard(self, guild_id: int, *, limit: int = 10
                          ) -> list[tuple[int, MentorSummary]]:
        """Mentors with the most completed mentorships (then the best rated), with reputations.

        Raises: nothing of its own.
        """
        rows = []
        for doc in await self._repo.top_mentors(guild_id, limit=limit * 3):
            rows.append((doc["user_id"], await self.summary(guild_id, doc["user_id"])))
        rows.sort(key=lambda r: (-r[1].completed, -(r[1].stars / r[1].ratings if r[1].ratings
                                                      else 0), r[0]))
        return rows[:limit]

    async def spotlights(self) -> list[Spotlight]:
        """The monthly mentor spotlight: once per guild and month (for the month before now),
        the top-rated mentor of that month (ratings by mentees; at least one).

        Raises: nothing of its own.
        """
        now = self._clock.now()
        first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        previous = (first - timedelta(days=1)).replace(day=1)
        month = f"{previous:%Y-%m}"
        found = []
        for guild_id in await self._repo.guild_ids():
            settings = await self._settings.get(guild_id)
            if settings.mentorship_spotlight_channel_id is None:
                continue
            ratings = await self._repo.ratings_between(guild_id, "mentor", to_ms(previous), to_ms(first))
            per: dict[int, list[int]] = {}
            for r in ratings:
                per.setdefault(r["ratee_id"], []).append(int(r["stars"]))
            if not await self._repo.claim_once(f"{guild_id}:spotlight:{month}"):
                continue
            if per:
                best = min(per.items(), key=lambda kv: (-sum(kv[1]) / len(kv[1]), -len(kv[1]),
                                                        kv[0]))
                found.append(Spotlight(guild_id, month, best[0], sum(best[1]) / len(best[1]),
                                       len(best[1]), settings.mentorship_spotlight_channel_id))
        return found
