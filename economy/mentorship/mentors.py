"""Mentor profiles: registration and its qualification rules, the lead's approval, pause /
resume / leave, and skill verification (verified levels replace declared ones in matching)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import AlreadyRecorded, InvalidInput, NotFound, NotPermitted
from economy.core.settings import GuildSettings, SettingsService
from economy.core.text import clean_text
from economy.mentorship.matching import (
    check_zone,
    normalize_skill,
    parse_availability,
    parse_languages,
    parse_skill_levels,
)
from economy.mentorship.models import Mentor, Registration
from economy.mentorship.repo import MentorshipRepo
from economy.mentorship.rules import (
    BIO_MAX,
    REREGISTER_STATUSES,
    MentorshipUnavailable,
    skills_of,
)
from economy.repos.base import Doc
from economy.trades.repo import TradeRepo


class MentorService:
    """Mentor profiles. Discord-free: the cog passes who clicked and what they may do."""

    def __init__(self, repo: MentorshipRepo, settings: SettingsService, trades: TradeRepo,
                 clock: Clock) -> None:
        self._repo = repo
        self._settings = settings
        self._trades = trades
        self._clock = clock

    async def register_mentor(
        self, guild_id: int, user_id: int, *, joined_at: datetime | None, skills: str, zone: str,
        availability: str, languages: str, capacity: int, bio: str | None,
    ) -> Registration:
        """Register a mentor. Qualified members start active; others wait for the lead's approval
        when a lead role exists, else are refused with the rule they miss.

        Raises: InvalidInput (already registered, capacity, skills, zone, hours, languages, a bio
        over 500 characters); NotPermitted (a rule the member misses and no lead role to approve
        them).
        """
        draft = await self.validate_mentor(guild_id, user_id, skills=skills, zone=zone,
                                           availability=availability, languages=languages,
                                           capacity=capacity)
        settings = await self._settings.get(guild_id)
        bio_text = clean_text(bio, BIO_MAX, "bio") or ""
        missing = await self._qualification_gap(guild_id, user_id, joined_at, settings)
        needs_approval = settings.mentor_approval or bool(missing)
        if missing and settings.mentorship_lead_role_id is None:
            raise NotPermitted(f"You can't mentor yet: {missing}.")
        previous = await self._repo.mentor(guild_id, user_id)
        doc = {**draft, "bio": bio_text, "status": "pending" if needs_approval else "active",
               "load": int((previous or {}).get("load", 0)),
               "completed": int((previous or {}).get("completed", 0)),
               "version": int((previous or {}).get("version", 0)) + 1,
               "created_ms": to_ms(self._clock.now())}
        try:
            if previous and previous["status"] in REREGISTER_STATUSES:
                # A member who left (or was not approved) registers anew; their history stays.
                if not await self._repo.replace_left_mentor(doc, status=previous["status"],
                                                            version=previous.get("version", 0)):
                    raise AlreadyRecorded("registered meanwhile")
            else:
                await self._repo.insert_mentor(doc)
        except AlreadyRecorded:
            raise InvalidInput("You are already registered as a mentor. Use `/mentor profile` "
                               "to see it, or `/mentor leave` first to register anew.") from None
        reason = missing or ("this server asks the mentorship lead to approve every new mentor"
                             if needs_approval else "")
        return Registration(Mentor.model_validate(doc), needs_approval, reason)

    async def validate_mentor(self, guild_id: int, user_id: int, *, skills: str, zone: str,
                              availability: str, languages: str, capacity: int) -> Doc:
        """Check a registration before the bio form opens; returns the profile fields.

        Raises: InvalidInput (already registered, capacity, skills, zone, hours or languages).
        """
        existing = await self._repo.mentor(guild_id, user_id)
        if existing and existing["status"] not in REREGISTER_STATUSES:
            raise InvalidInput("You are already registered as a mentor. Use `/mentor profile` "
                               "to see it.")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 10:
            raise InvalidInput("Capacity is how many mentees you take at once: 1 to 10.")
        settings = await self._settings.get(guild_id)
        levels = parse_skill_levels(skills, skills_of(settings))
        return {
            "guild_id": guild_id, "user_id": user_id,
            "skills": [{"skill": s, "level": lvl} for s, lvl in levels],
            "zone": check_zone(zone), "availability": [list(r) for r in parse_availability(availability)],
            "languages": parse_languages(languages), "capacity": capacity,
        }

    async def _qualification_gap(self, guild_id: int, user_id: int, joined_at: datetime | None,
                                 settings: GuildSettings) -> str:
        """'' when qualified, else which rule the member misses."""
        if settings.mentor_min_days and joined_at is not None:
            days = (self._clock.now() - joined_at).days
            if days < settings.mentor_min_days:
                return (f"mentors need {settings.mentor_min_days} days in the server "
                        f"(you have {max(days, 0)})")
        if settings.mentor_min_trades:
            trades = await self._trades.completed_count(guild_id, user_id)
            if trades < settings.mentor_min_trades:
                # A good trading reputation qualifies too, when the server allows it.
                n, stars = await self._trades.rating_summary(guild_id, user_id)
                if settings.mentor_min_rating and n and stars >= settings.mentor_min_rating * n:
                    return ""
                rating = (f" or a trade rating of {settings.mentor_min_rating}★"
                          if settings.mentor_min_rating else "")
                return (f"mentors need {settings.mentor_min_trades} completed trades{rating} "
                        f"(you have {trades})")
        return ""

    async def is_lead(self, guild_id: int, actor: Actor) -> bool:
        """An admin of the guild or a holder of its `mentorship_lead_role_id`.

        Raises: nothing expected.
        """
        settings = await self._settings.get(guild_id)
        return actor.admin_or(guild_id, settings.mentorship_lead_role_id)

    async def decide_mentor(self, guild_id: int, actor: Actor, user_id: int, *,
                            approve: bool) -> Mentor:
        """The lead approves or rejects a pending mentor.

        Raises: NotPermitted (not the lead, or their own application); MentorshipUnavailable
        (already decided).
        """
        actor_id = actor.user_id
        if not await self.is_lead(guild_id, actor):
            raise NotPermitted("Only the mentorship lead (or an admin) can approve mentors.")
        if actor_id == user_id:
            raise NotPermitted("You can't approve your own mentor application.")
        to_status = "active" if approve else "rejected"
        if not await self._repo.set_mentor_status(guild_id, user_id, from_status=("pending",),
                                                  to_status=to_status,
                                                  extra={"decided_by": actor_id}):
            raise MentorshipUnavailable("That application was already decided.")
        doc = await self._repo.mentor(guild_id, user_id)
        return Mentor.model_validate(doc)

    async def set_mentor_state(self, guild_id: int, user_id: int, action: Literal["pause", "resume", "leave"]) -> Mentor:
        """Pause (no new proposals), resume, or leave (profile closed; active pairs continue).

        Raises: NotFound (never registered); InvalidInput (not possible from the profile's status).
        """
        mentor = await self.mentor(guild_id, user_id)
        allowed = {"pause": (("active",), "paused"), "resume": (("paused",), "active"),
                   "leave": (("active", "paused", "pending"), "left")}
        from_status, to_status = allowed[action]
        if not await self._repo.set_mentor_status(guild_id, user_id, from_status=from_status,
                                                  to_status=to_status):
            raise InvalidInput(f"You can't {action} now: your mentor profile is {mentor.status}.")
        return await self.mentor(guild_id, user_id)

    async def mentor(self, guild_id: int, user_id: int) -> Mentor:
        """A mentor profile; NotFound when the member never registered.

        Raises: NotFound (the member never registered).
        """
        doc = await self._repo.mentor(guild_id, user_id)
        if not doc:
            raise NotFound("That member is not registered as a mentor.")
        return Mentor.model_validate(doc)

    async def pending(self, guild_id: int, actor: Actor) -> list[Mentor]:
        """Mentor applications waiting for the lead's approval, oldest first (the lead only).

        Raises: NotPermitted (not the lead or an admin).
        """
        if not await self.is_lead(guild_id, actor):
            raise NotPermitted("Only the mentorship lead (or an admin) can see the queue.")
        docs = await self._repo.mentors_in(guild_id, "pending")
        return [Mentor.model_validate(d)
                for d in sorted(docs, key=lambda d: d.get("created_ms", 0))]

    async def verify_skill(self, guild_id: int, actor: Actor, user_id: int, skill: str,
                           level: int) -> str:
        """A mentor (up to their own level in that skill) or the lead verifies a member's skill
        level. Verified levels replace self-declared ones in matching and show on profiles.

        Raises: InvalidInput (not a skill of the server, a level outside 1-5, one's own skill);
        NotPermitted (not a mentor of that skill, or above the verifier's own level).
        """
        actor_id = actor.user_id
        settings = await self._settings.get(guild_id)
        is_lead = actor.admin_or(guild_id, settings.mentorship_lead_role_id)
        name = normalize_skill(skill, skills_of(settings))
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            raise InvalidInput("The verified level must be from 1 to 5.")
        if actor_id == user_id:
            raise InvalidInput("You can't verify your own skills; ask a mentor or the lead.")
        if not is_lead:
            doc = await self._repo.mentor(guild_id, actor_id)
            own = next((int(s["level"]) for s in (doc or {}).get("skills", [])
                        if s["skill"] == name), 0)
            if not doc or doc["status"] not in ("active", "paused") or not own:
                raise NotPermitted(f"Only mentors of {name} or the mentorship lead can verify it.")
            if level > own:
                raise NotPermitted(f"You can verify {name} up to your own level ({own}).")
        await self._repo.verify_skill({"guild_id": guild_id, "user_id": user_id, "skill": name,
                                       "level": level, "verified_by": actor_id,
                                       "at_ms": to_ms(self._clock.now())})
        return name

    async def verified(self, guild_id: int, user_id: int) -> dict[str, int]:
        """A member's verified skill levels.

        Raises: nothing of its own.
        """
        return (await self._repo.verified_levels(guild_id, [user_id])).get(user_id, {})
