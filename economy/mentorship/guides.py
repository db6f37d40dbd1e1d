"""Guides: members share know-how; mentors or moderators review it; published guides are
searchable by keyword and earn upvotes (once per member, never your own). The author earns
GEMS on approval and at every `guide_vote_milestone` upvotes, each paid in the same transaction
as the transition it rewards, under a key that makes it pay once.
"""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import AlreadyRecorded, Conflict, InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService
from economy.core.models import is_system
from economy.core.modules import require_on
from economy.core.settings import SettingsService
from economy.core.signals import NO_SIGNALS, Signals
from economy.core.text import clean_text
from economy.marketplace.models import tokens
from economy.mentorship.guide_repo import GuideRepo
from economy.mentorship.matching import normalize_skill
from economy.mentorship.repo import MentorshipRepo
from economy.mentorship.rules import skills_of

TITLE_MIN, TITLE_MAX = 3, 100
BODY_MIN, BODY_MAX = 20, 4000
MAX_TAGS = 5
KEYWORDS_MAX = 300
SEARCH_LIMIT = 10
VOTE_ATTEMPTS = 50  # optimistic retries when votes on one guide race (jittered)


class GuideUnavailable(Conflict):
    """The guide is not in a state that allows this (already reviewed, not published)."""


class _VoteRace(Exception):
    """Another vote landed between the read and the guarded write: read again and retry."""


class Guide(BaseModel):
    """A guide (read model)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    guild_id: int
    guide_id: int
    author_id: int
    title: str
    body: str
    skills: list[str]
    status: str
    votes: int = 0
    has_image: bool = False
    channel_id: int | None = None
    message_id: int | None = None


class GuideService:
    """Submitting, reviewing, searching and upvoting guides."""

    def __init__(self, repo: GuideRepo, mentors: MentorshipRepo, ledger: LedgerService,
                 settings: SettingsService, clock: Clock, signals: Signals = NO_SIGNALS) -> None:
        self._repo = repo
        self._signals = signals
        self._mentors = mentors
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())

    async def check_tags(self, guild_id: int, skills: str) -> list[str]:
        """Parse the skill tags of a guide (1-5 of the guild's skills).

        Raises: InvalidInput (no tag, a tag that is not a skill of the server, more than 5).
        """
        settings = await self._settings.get(guild_id)
        names = [normalize_skill(part, skills_of(settings))
                 for part in re.split(r"[,;]", skills or "") if part.strip()]
        if not names:
            raise InvalidInput("Tag the guide with at least one skill, like `cad, casting`.")
        if len(set(names)) > MAX_TAGS:
            raise InvalidInput(f"Tag a guide with at most {MAX_TAGS} skills.")
        return list(dict.fromkeys(names))

    async def submit(self, guild_id: int, author_id: int, *, title: str, body: str,
                     skills: str, image: bytes | None = None) -> Guide:
        """Store a guide for review (`image`: an already sanitized JPEG, see economy/images).

        Raises: InvalidInput (tags, a title outside 3-100 characters, a text outside 20-4,000).
        """
        tags = await self.check_tags(guild_id, skills)
        title = clean_text(title, TITLE_MAX, "title") or ""
        if len(title) < TITLE_MIN:
            raise InvalidInput(f"The title needs at least {TITLE_MIN} characters.")
        body = (body or "").strip()
        if not BODY_MIN <= len(body) <= BODY_MAX:
            raise InvalidInput(f"The guide text must be {BODY_MIN}-{BODY_MAX:,} characters.")
        guide_id = await self._repo.next_id(guild_id)
        doc = {"guild_id": guild_id, "guide_id": guide_id, "author_id": author_id,
               "title": title, "body": body, "skills": tags, "status": "pending", "votes": 0,
               "keywords": tokens(" ".join([title, " ".join(tags), body]))[:KEYWORDS_MAX],
               "created_ms": self._now_ms(), "version": 0, "has_image": image is not None}
        await self._repo.insert(doc, image)
        return Guide.model_validate(doc)

    async def _check_reviewer(self, guild_id: int, actor: Actor) -> None:
        """Moderators, the mentorship lead (or admins) and mentors review guides."""
        settings = await self._settings.get(guild_id)
        if actor.moderator(guild_id) or actor.admin_or(guild_id, settings.mentorship_lead_role_id):
            return
        mentor = await self._mentors.mentor(guild_id, actor.user_id)
        if not mentor or mentor["status"] not in ("active", "paused"):
            raise NotPermitted("Only mentors and moderators can review guides.")

    async def pending(self, guild_id: int, actor: Actor) -> list[Guide]:
        """Guides waiting for review, oldest first (for mentors and moderators).

        Raises: NotPermitted (neither a mentor nor a moderator).
        """
        await self._check_reviewer(guild_id, actor)
        return [Guide.model_validate(d) for d in await self._repo.pending(guild_id)]

    async def review(self, guild_id: int, actor: Actor, guide_id: int, *,
                     approve: bool) -> tuple[Guide, int]:
        """A mentor or moderator approves (publishes) or rejects a guide; returns the guide and
        the GEMS its author earned. FeatureOff while mentorship is switched off (/settings modules).

        Raises: FeatureOff (mentorship switched off); NotFound (no such guide); NotPermitted (one's
        own guide, or neither a mentor nor a moderator); GuideUnavailable (already reviewed).
        """
        actor_id = actor.user_id
        await require_on(self._settings, guild_id, "mentorship")
        doc = await self._guide(guild_id, guide_id)
        if doc["author_id"] == actor_id:
            raise NotPermitted("You can't review your own guide.")
        await self._check_reviewer(guild_id, actor)
        if doc["status"] != "pending":
            raise GuideUnavailable("That guide was already reviewed.")
        now_ms = self._now_ms()
        if not approve:
            if not await self._repo.reject(guild_id, guide_id, reviewer=actor_id, now_ms=now_ms):
                raise GuideUnavailable("That guide was already reviewed.")
            return Guide.model_validate({**doc, "status": "rejected"}), 0
        taken = GuideUnavailable("That guide was already reviewed.")

        async def publish(session: Any) -> None:
            if not await self._repo.publish(doc, reviewer=actor_id, now_ms=now_ms, session=session):
                raise taken

        reward = (await self._settings.get(guild_id)).guide_approval_reward
        paid = await self._pay(guild_id, doc["author_id"], reward, f"guide-approve:{guide_id}",
                               guide_id, publish, taken)
        await self._signals.send("guide_published", guild_id, doc["author_id"])
        return Guide.model_validate({**doc, "status": "published"}), paid

    async def upvote(self, guild_id: int, guide_id: int, voter_id: int) -> tuple[Guide, int]:
        """Upvote a published guide once (not your own); returns the guide and GEMS its author
        earned if this vote reached a milestone. FeatureOff while mentorship is switched off.

        Raises: FeatureOff (mentorship switched off); NotFound (no such guide); InvalidInput (one's
        own guide, already upvoted); GuideUnavailable (not published, or too many votes at once).
        """
        settings = await require_on(self._settings, guild_id, "mentorship")
        for _ in range(VOTE_ATTEMPTS):
            doc = await self._guide(guild_id, guide_id)
            if doc["author_id"] == voter_id:
                raise InvalidInput("You can't upvote your own guide.")
            if doc["status"] != "published":
                raise GuideUnavailable("Only published guides can be upvoted.")
            if await self._repo.has_vote(guild_id, guide_id, voter_id):
                raise InvalidInput("You already upvoted this guide.")
            before = int(doc.get("votes", 0))
            vote = {"guild_id": guild_id, "guide_id": guide_id, "voter_id": voter_id,
                    "at_ms": self._now_ms()}

            async def count_vote(session: Any, vote=vote, before=before) -> None:
                if not await self._repo.add_vote(vote, votes_before=before, session=session):
                    raise _VoteRace

            milestone = (before + 1) % settings.guide_vote_milestone == 0
            reward = settings.guide_vote_reward if milestone else 0
            try:
                paid = await self._pay(guild_id, doc["author_id"], reward,
                                       f"guide-votes:{guide_id}:{before + 1}", guide_id,
                                       count_vote, _VoteRace())
            except _VoteRace:
                await asyncio.sleep(random.uniform(0, 0.005))
                continue
            except AlreadyRecorded:
                raise InvalidInput("You already upvoted this guide.") from None
            return Guide.model_validate({**doc, "votes": before + 1}), paid
        raise GuideUnavailable("Many members are voting right now; please try again.")

    async def _pay(self, guild_id: int, author_id: int, reward: int, key: str, guide_id: int,
                   also, taken: Exception) -> int:
        """Run `also(session)` in one transaction, with the author's reward when there is one.

        A replayed reward key means another call already made this transition: raise `taken`.
        """
        if reward <= 0 or is_system(author_id):  # a deleted author's guide earns nothing more
            await self._repo.db.transaction(also)
            return 0
        movement = await self._ledger.earn(guild_id, author_id, reward, kind="reward", key=key,
                                           ref=f"guide:{guide_id}", also=also)
        if movement.replayed:
            raise taken
        return sum(e.delta for e in movement.entries)

    async def attach_message(self, guild_id: int, guide_id: int, channel_id: int,
                             message_id: int) -> None:
        """Remember where a published guide was posted.

        Raises: nothing of its own.
        """
        await self._repo.set_message(guild_id, guide_id, channel_id, message_id)

    async def image(self, guild_id: int, guide_id: int) -> bytes | None:
        """A guide's image, if it has one.

        Raises: nothing of its own.
        """
        return await self._repo.image(guild_id, guide_id)

    async def get(self, guild_id: int, guide_id: int) -> Guide:
        """A guide; NotFound when there is none.

        Raises: NotFound (no such guide).
        """
        return Guide.model_validate(await self._guide(guild_id, guide_id))

    async def search(self, guild_id: int, query: str | None, *, skill: str | None = None
                     ) -> list[Guide]:
        """Published guides with every word of `query` (and the skill tag), most upvoted first.

        Raises: nothing of its own.
        """
        words = tokens(" ".join(filter(None, [query, skill])))
        if not words:
            return [Guide.model_validate(d)
                    for d in await self._repo.top(guild_id, limit=SEARCH_LIMIT)]
        candidates = await self._repo.with_term(guild_id, words[0], limit=1000)
        for word in words[1:]:
            if not candidates:
                break
            candidates = sorted(await self._repo.having(guild_id, word, candidates))
        docs = await self._repo.many(guild_id, candidates)
        return [Guide.model_validate(d) for d in docs[:SEARCH_LIMIT]]

    async def _guide(self, guild_id: int, guide_id: int) -> dict:
        doc = await self._repo.get(guild_id, guide_id)
        if not doc:
            raise NotFound(f"There is no guide #{guide_id}.")
        return doc
