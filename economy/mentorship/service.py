"""Mentorship: mentor registration and qualification, applications, explainable proposals,
acceptance with a hard capacity limit, goals with GEMS rewards, endings, ratings and check-ins.

Matching itself lives in economy/mentorship/matching.py (pure); this service loads profiles,
applies the rules and stores every transition through guarded writes (repos/mentorship_repo.py).

Proposal life: proposed --both accept--> active --end--> ended
                proposed --decline / timeout--> declined | expired   (next best is proposed)
                proposed --mentor's last slot taken meanwhile--> lapsed (next best is proposed)
A pair that declined, timed out, was reported or worked together before is never re-proposed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import AlreadyRecorded, GemsError, InvalidInput, NotFound, NotPermitted
from economy.core.ledger import LedgerService
from economy.core.models import is_system
from economy.core.modules import require_on
from economy.core.settings import GuildSettings, SettingsService
from economy.core.text import clean_text
from economy.mentorship.matching import (
    DEFAULT_SKILLS,
    MenteeProfile,
    MentorProfile,
    PairScore,
    check_zone,
    global_assignment,
    normalize_skill,
    parse_availability,
    parse_languages,
    parse_skill_levels,
    ranked_mentors,
    score_pair,
    utc_mask,
)
from economy.mentorship.models import (
    MENTOR_LEVELS,
    EndResult,
    Goal,
    GoalResult,
    Mentor,
    MentorSummary,
    Pairing,
    Registration,
    ResponseResult,
    Spotlight,
    SweepReport,
)
from economy.mentorship.repo import MentorshipRepo, SlotTaken, StateChanged
from economy.repos.base import Doc
from economy.trades.repo import TradeRepo

BIO_MAX = 500
GOALS_MAX = 500
GOAL_TEXT_MAX = 200
MAX_GOALS = 20
REVIEW_MAX = 300
DAY_MS = 86_400_000
REREGISTER_STATUSES = ("left", "rejected")  # profiles a member may replace by registering
END_REASONS = ("completed", "no longer needed", "not a good fit", "report")


class MentorshipUnavailable(GemsError):
    """The proposal or mentorship is not in a state that allows this any more."""


def skills_of(settings: GuildSettings) -> tuple[str, ...]:
    """The guild's skill list (the shipped jewellery default when not set)."""
    return tuple(settings.mentorship_skills) or DEFAULT_SKILLS


class MentorshipService:
    """Every mentorship rule. Discord-free: the cog passes who clicked and what they may do."""

    def __init__(self, repo: MentorshipRepo, ledger: LedgerService, settings: SettingsService,
                 trades: TradeRepo, clock: Clock) -> None:
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._trades = trades
        self._clock = clock

    # --- registration -------------------------------------------------------------------------
    async def register_mentor(
        self, guild_id: int, user_id: int, *, joined_at: datetime | None, skills: str, zone: str,
        availability: str, languages: str, capacity: int, bio: str | None,
    ) -> Registration:
        """Register a mentor. Qualified members start active; others wait for the lead's approval
        when a lead role exists, else are refused with the rule they miss."""
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
        """Check a registration before the bio form opens; returns the profile fields."""
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

    async def decide_mentor(self, guild_id: int, actor_id: int, user_id: int, *, approve: bool,
                            is_lead: bool) -> Mentor:
        """The lead approves or rejects a pending mentor (`is_lead`: the caller holds the role)."""
        if not is_lead:
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
        """Pause (no new proposals), resume, or leave (profile closed; active pairs continue)."""
        mentor = await self.mentor(guild_id, user_id)
        allowed = {"pause": (("active",), "paused"), "resume": (("paused",), "active"),
                   "leave": (("active", "paused", "pending"), "left")}
        from_status, to_status = allowed[action]
        if not await self._repo.set_mentor_status(guild_id, user_id, from_status=from_status,
                                                  to_status=to_status):
            raise InvalidInput(f"You can't {action} now: your mentor profile is {mentor.status}.")
        return await self.mentor(guild_id, user_id)

    async def mentor(self, guild_id: int, user_id: int) -> Mentor:
        """A mentor profile; NotFound when the member never registered."""
        doc = await self._repo.mentor(guild_id, user_id)
        if not doc:
            raise NotFound("That member is not registered as a mentor.")
        return Mentor.model_validate(doc)

    async def summary(self, guild_id: int, user_id: int) -> MentorSummary:
        """A mentor's reputation: ratings by mentees, completed and active mentorships."""
        n, stars = await self._repo.rating_summary(guild_id, user_id, "mentor")
        doc = await self._repo.mentor(guild_id, user_id) or {}
        return MentorSummary(n, stars, int(doc.get("completed", 0)), int(doc.get("load", 0)))

    async def verify_skill(self, guild_id: int, actor_id: int, user_id: int, skill: str,
                           level: int, *, is_lead: bool) -> str:
        """A mentor (up to their own level in that skill) or the lead verifies a member's skill
        level. Verified levels replace self-declared ones in matching and show on profiles."""
        settings = await self._settings.get(guild_id)
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
        """A member's verified skill levels."""
        return (await self._repo.verified_levels(guild_id, [user_id])).get(user_id, {})

    # --- applications and proposals ----------------------------------------------------------
    async def apply(self, guild_id: int, user_id: int, *, wanted: str, zone: str,
                    availability: str, languages: str, goals: str | None,
                    mentor_id: int | None = None) -> Pairing | None:
        """Apply for a mentor; proposes the best available one at once, or the requested
        `mentor_id` when they fit (None when nobody fits: the application waits for a round).
        Everything is checked before anything is stored."""
        settings = await self._settings.get(guild_id)
        levels = parse_skill_levels(wanted, skills_of(settings), mentee=True)
        doc = {
            "guild_id": guild_id, "user_id": user_id,
            "wanted": [{"skill": s, "level": lvl} for s, lvl in levels],
            "zone": check_zone(zone),
            "availability": [list(r) for r in parse_availability(availability)],
            "languages": parse_languages(languages),
            "goals": clean_text(goals, GOALS_MAX, "goals") or "",
            "status": "open", "proposal_id": 0, "mentorship_id": 0,
            "created_ms": to_ms(self._clock.now()),
        }
        existing = await self._repo.mentee(guild_id, user_id)
        if existing and existing["status"] != "closed":
            raise InvalidInput("You already have an open application or a mentor. "
                               "Use `/mentor end` to finish a mentorship first.")
        requested = None
        if mentor_id is not None:
            requested = await self._requested_score(guild_id, doc, mentor_id)
        doc["version"] = (existing or {}).get("version", 0) + 1
        try:
            saved = await self._repo.save_application(
                doc, previous_version=existing.get("version", 0) if existing else None)
        except AlreadyRecorded:
            saved = False
        if not saved:
            raise InvalidInput("You already have an open application.")
        if requested is not None and mentor_id is not None:
            return await self._create_proposal(guild_id, user_id, mentor_id, requested, settings,
                                               source="requested")
        return await self.propose_next(guild_id, user_id)

    async def withdraw(self, guild_id: int, user_id: int) -> Pairing | None:
        """A mentee withdraws an open application (and its pending proposal, returned so the
        mentor can be told)."""
        app = await self._repo.mentee(guild_id, user_id)
        if not app or app["status"] != "open":
            raise InvalidInput("You have no open application to withdraw.")
        proposal_id = int(app.get("proposal_id") or 0)
        if not await self._repo.withdraw_application(guild_id, user_id, proposal_id=proposal_id,
                                                     now_ms=to_ms(self._clock.now())):
            raise MentorshipUnavailable("Your application changed meanwhile; try again.")
        return await self.get(guild_id, proposal_id) if proposal_id else None

    async def _requested_score(self, guild_id: int, app: Doc, mentor_id: int) -> PairScore:
        """Check that a mentor a mentee asked for can take them; returns the pair's score."""
        if mentor_id == app["user_id"]:
            raise InvalidInput("You can't be your own mentor. Leave the mentor option empty "
                               "to be matched with someone else.")
        doc = await self._repo.mentor(guild_id, mentor_id)
        if not doc or doc["status"] != "active":
            raise InvalidInput("That member is not an active mentor.")
        if int(doc["capacity"]) - int(doc.get("load", 0)) <= 0:
            raise InvalidInput("That mentor has no free place right now.")
        if (app["user_id"], mentor_id) in await self._excluded(guild_id, app["user_id"]):
            raise InvalidInput("You were matched with that mentor before; pick someone else.")
        now = self._clock.now()
        score = explain_pair(app, Mentor.model_validate(doc), now)
        if score.score <= 0:
            raise InvalidInput(f"That mentor doesn't fit your application ({score.explain()}).")
        return score

    async def propose_next(self, guild_id: int, mentee_id: int) -> Pairing | None:
        """Propose the best available mentor to an open application (on demand).

        Mentors with an unreserved slot come first; when every fitting mentor's slots are only
        offered to others, the best of them is proposed anyway and the first pair to accept gets
        the slot.
        """
        app = await self._repo.mentee(guild_id, mentee_id)
        if not app or app["status"] != "open" or app.get("proposal_id"):
            return None
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        mentors, pending = await self._mentor_profiles(guild_id, now)
        excluded = await self._excluded(guild_id, mentee_id)
        mentee = _mentee_profile(app, now, await self.verified(guild_id, mentee_id))
        ranked = ranked_mentors(mentee, mentors, excluded)
        if not ranked:
            return None
        ranked.sort(key=lambda pair: (pair[0].free_slots - pending.get(pair[0].user_id, 0) <= 0,
                                      -pair[1].score, pair[0].user_id))
        mentor, score = ranked[0]
        return await self._create_proposal(guild_id, mentee_id, mentor.user_id, score, settings,
                                           source="on_demand")

    async def round(self, guild_id: int, *, is_lead: bool) -> list[Pairing]:
        """A batch round: the global best assignment of every open application to free slots
        (slots already offered in pending proposals are not counted as free)."""
        if not is_lead:
            raise NotPermitted("Only the mentorship lead (or an admin) can run a matching round.")
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        mentors, pending = await self._mentor_profiles(guild_id, now)
        free = [MentorProfile(m.user_id, m.skills, m.mask, m.languages,
                              m.free_slots - pending.get(m.user_id, 0)) for m in mentors]
        apps = [a for a in await self._repo.mentees_in(guild_id, "open") if not a.get("proposal_id")]
        verified = await self._repo.verified_levels(guild_id)
        mentees = [_mentee_profile(a, now, verified.get(a["user_id"])) for a in apps]
        excluded: set[tuple[int, int]] = set()
        for doc in await self._all_pairs(guild_id):
            if doc["status"] != "lapsed":
                excluded.add((doc["mentee_id"], doc["mentor_id"]))
        result = global_assignment(mentees, free, excluded)
        made = []
        for mentee_id, mentor_id in result.pairs.items():
            proposal = await self._create_proposal(guild_id, mentee_id, mentor_id,
                                                   result.scores[mentee_id], settings,
                                                   source="round")
            if proposal:
                made.append(proposal)
        return made

    async def weekly_rounds(self) -> list[Pairing]:
        """Run the weekly round (`mentorship_weekly_round`) once per guild and ISO week, from
        Monday 00:00 UTC on; two processes cannot both run it (a run-once marker)."""
        year, week, _ = self._clock.now().isocalendar()
        made: list[Pairing] = []
        for guild_id in await self._repo.guild_ids():
            settings = await self._settings.get(guild_id)
            if not settings.mentorship_weekly_round:
                continue
            if await self._repo.claim_once(f"{guild_id}:round:{year}-W{week:02d}"):
                made += await self.round(guild_id, is_lead=True)
        return made

    async def _all_pairs(self, guild_id: int) -> list[Doc]:
        found = []
        for status in ("proposed", "active", "declined", "expired", "lapsed", "ended",
                       "withdrawn"):
            found += await self._repo.pairs_in(guild_id, status)
        return found

    async def _mentor_profiles(self, guild_id: int, now: datetime
                               ) -> tuple[list[MentorProfile], dict[int, int]]:
        docs = await self._repo.mentors_in(guild_id, "active")
        verified = await self._repo.verified_levels(guild_id)
        mentors = [MentorProfile(
            d["user_id"], {**{s["skill"]: int(s["level"]) for s in d["skills"]},
                           **{k: v for k, v in verified.get(d["user_id"], {}).items()
                              if any(s["skill"] == k for s in d["skills"])}},
            utc_mask(d["availability"], d["zone"], now), tuple(d["languages"]),
            int(d["capacity"]) - int(d.get("load", 0))) for d in docs]
        pending: dict[int, int] = {}
        for doc in await self._repo.pairs_in(guild_id, "proposed"):
            pending[doc["mentor_id"]] = pending.get(doc["mentor_id"], 0) + 1
        return mentors, pending

    async def _excluded(self, guild_id: int, mentee_id: int) -> set[tuple[int, int]]:
        """Pairs never to propose again for this mentee (every earlier pair except lapsed)."""
        return {(mentee_id, d["mentor_id"])
                for d in await self._repo.pairs_of(guild_id, mentee_id, role="mentee")
                if d["status"] != "lapsed"}

    async def _create_proposal(self, guild_id: int, mentee_id: int, mentor_id: int,
                               score: PairScore, settings: GuildSettings, *, source: str
                               ) -> Pairing | None:
        now = self._clock.now()
        mid = await self._repo.next_id(f"{guild_id}:mentorships")
        doc = {
            "guild_id": guild_id, "mentorship_id": mid, "mentee_id": mentee_id,
            "mentor_id": mentor_id, "score": score.score, "explanation": score.explain(),
            "status": "proposed", "mentee_ok": False, "mentor_ok": False, "source": source,
            "proposed_ms": to_ms(now),
            "expires_ms": to_ms(now + timedelta(hours=settings.mentorship_proposal_hours)),
            "started_ms": None, "ended_ms": None, "thread_id": None, "card_message_id": None,
            "version": 0,
        }
        if not await self._repo.insert_proposal(doc):
            return None  # someone else proposed meanwhile
        return Pairing.model_validate(doc)

    async def respond(self, guild_id: int, mentorship_id: int, user_id: int, *, accept: bool
                      ) -> ResponseResult:
        """A side accepts or declines a proposal. Both accepted -> the mentorship starts
        (if the mentor still has a slot); a decline proposes the mentee's next best mentor."""
        pairing = await self.get(guild_id, mentorship_id)
        role = pairing.role_of(user_id)
        if role is None:
            raise NotPermitted("This proposal is for someone else.")
        now_ms = to_ms(self._clock.now())
        if pairing.status != "proposed" or pairing.expires_ms <= now_ms:
            raise MentorshipUnavailable("This proposal is no longer open (it expired or was "
                                        "already answered).")
        if not accept:
            closed = await self._repo.close_proposal(
                guild_id, mentorship_id, pairing.mentee_id, to_status="declined",
                fields={"declined_by": user_id, "decided_ms": now_ms})
            if not closed:
                raise MentorshipUnavailable("This proposal was already answered.")
            nxt = await self.propose_next(guild_id, pairing.mentee_id)
            return ResponseResult(await self.get(guild_id, mentorship_id), next_proposal=nxt,
                                  note="declined")
        if not await self._repo.mark_side(guild_id, mentorship_id, role, now_ms):
            current = await self.get(guild_id, mentorship_id)
            if current.status == "proposed" and getattr(current, f"{role}_ok"):
                raise MentorshipUnavailable("You already accepted; waiting for the other side.")
            raise MentorshipUnavailable("This proposal is no longer open.")
        current = await self.get(guild_id, mentorship_id)
        if not (current.mentee_ok and current.mentor_ok):
            return ResponseResult(current, note="waiting")
        return await self._start(current)

    async def _start(self, pairing: Pairing) -> ResponseResult:
        g, mid = pairing.guild_id, pairing.mentorship_id
        settings = await self._settings.get(g)
        mentor_doc = await self._repo.mentor(g, pairing.mentor_id)
        now = self._clock.now()
        try:
            if not mentor_doc:
                raise SlotTaken
            await self._repo.activate(
                await self._repo.pair(g, mid), capacity=int(mentor_doc["capacity"]),
                now_ms=to_ms(now), checkin_ms=to_ms(now) + settings.mentorship_checkin_days * DAY_MS)
        except SlotTaken:
            if await self._repo.close_proposal(g, mid, pairing.mentee_id, to_status="lapsed",
                                               fields={"decided_ms": to_ms(now)}):
                nxt = await self.propose_next(g, pairing.mentee_id)
                return ResponseResult(await self.get(g, mid), next_proposal=nxt,
                                      note="slot_taken")
            return await self._settled(g, mid)
        except StateChanged:
            return await self._settled(g, mid)
        return ResponseResult(await self.get(g, mid), started=True, note="started")

    async def _settled(self, guild_id: int, mentorship_id: int) -> ResponseResult:
        """The proposal moved on while this answer was applied: both sides accepting at the same
        moment start it once (the other answer reports it started)."""
        current = await self.get(guild_id, mentorship_id)
        if current.status == "active":
            return ResponseResult(current, note="already_started")
        raise MentorshipUnavailable("This proposal changed meanwhile; it is no longer open.")

    async def get(self, guild_id: int, mentorship_id: int) -> Pairing:
        """A proposal or mentorship; NotFound when there is none with that number."""
        doc = await self._repo.pair(guild_id, mentorship_id)
        if not doc:
            raise NotFound(f"There is no mentorship #{mentorship_id}.")
        return Pairing.model_validate(doc)

    async def attach_room(self, guild_id: int, mentorship_id: int, *, thread_id: int | None,
                          card_message_id: int | None) -> None:
        """Remember the private thread and the pinned goals card of a mentorship."""
        await self._repo.set_pair_fields(guild_id, mentorship_id, guard={"status": "active"},
                                         fields={"thread_id": thread_id,
                                                 "card_message_id": card_message_id})

    async def active_for(self, guild_id: int, user_id: int) -> list[Pairing]:
        """A member's active mentorships (as mentee or mentor)."""
        found = []
        for role in ("mentee", "mentor"):
            found += [Pairing.model_validate(d)
                      for d in await self._repo.pairs_of(guild_id, user_id, role=role)
                      if d["status"] == "active"]
        return sorted(found, key=lambda p: p.mentorship_id)

    async def resolve(self, guild_id: int, user_id: int, *, mentorship_id: int | None,
                      thread_id: int | None, statuses: tuple[str, ...] = ("active",)) -> Pairing:
        """Which mentorship a command means: the given number, the thread it runs in, or the
        member's only active one. Only the two members of a pair may act on it."""
        if mentorship_id is None and thread_id is not None:
            doc = await self._repo.pair_by_thread(guild_id, thread_id)
            mentorship_id = doc["mentorship_id"] if doc else None
        if mentorship_id is None:
            active = await self.active_for(guild_id, user_id)
            if not active:
                raise NotFound("You have no active mentorship.")
            if len(active) > 1:
                raise InvalidInput("You have several mentorships: pick one in the `mentorship` "
                                   "option (or run the command in its thread).")
            mentorship_id = active[0].mentorship_id
        pairing = await self.get(guild_id, mentorship_id)
        if pairing.role_of(user_id) is None:
            raise NotPermitted("Only the mentor and the mentee of that mentorship can do this.")
        if pairing.status not in statuses:
            raise MentorshipUnavailable(f"Mentorship #{mentorship_id} is {pairing.status}, "
                                        "not active.")
        return pairing

    # --- the pair at work ---------------------------------------------------------------------
    async def add_goal(self, pairing: Pairing, user_id: int, text: str) -> Goal:
        """Add a goal (milestone) to an active mentorship; either side may."""
        text = clean_text(text, GOAL_TEXT_MAX, "goal") or ""
        if len(text) < 3:
            raise InvalidInput("Describe the goal in at least 3 characters.")
        doc = {"guild_id": pairing.guild_id, "mentorship_id": pairing.mentorship_id,
               "text": text, "status": "open", "added_by": user_id,
               "added_ms": to_ms(self._clock.now())}
        no = await self._repo.add_goal(doc, cap=MAX_GOALS)
        if no is None:
            raise InvalidInput(f"A mentorship can have at most {MAX_GOALS} goals.")
        await self.touch(pairing)
        return Goal.model_validate({**doc, "goal_no": no})

    async def goals(self, pairing: Pairing) -> list[Goal]:
        """The goals of a mentorship, in order."""
        return [Goal.model_validate(d)
                for d in await self._repo.goals_of(pairing.guild_id, pairing.mentorship_id)]

    async def confirm_goal(self, pairing: Pairing, user_id: int, goal_no: int) -> GoalResult:
        """The mentee confirms a milestone; the mentor earns the reward once per milestone.

        Paying and marking the goal done are one transaction keyed by the milestone. Refused
        (FeatureOff) while mentorship is switched off (/modules).
        """
        await require_on(self._settings, pairing.guild_id, "mentorship")
        if pairing.role_of(user_id) != "mentee":
            raise NotPermitted("Only the mentee confirms a milestone: a mentor can't confirm "
                               "their own.")
        doc = await self._repo.goal(pairing.guild_id, pairing.mentorship_id, goal_no)
        if not doc:
            raise NotFound(f"There is no goal {goal_no} in this mentorship.")
        if doc["status"] != "open":
            raise MentorshipUnavailable(f"Goal {goal_no} is already confirmed.")
        settings = await self._settings.get(pairing.guild_id)
        reward = settings.mentorship_milestone_reward
        now_ms = to_ms(self._clock.now())
        taken = MentorshipUnavailable(f"Goal {goal_no} is already confirmed.")

        async def mark_done(session: Any) -> None:
            if not await self._repo.complete_goal(pairing.guild_id, pairing.mentorship_id,
                                                  goal_no, by=user_id, now_ms=now_ms,
                                                  session=session):
                raise taken

        paid = 0
        if reward > 0 and not is_system(pairing.mentor_id):  # never a deleted mentor's account
            # The reward and the guarded open -> done transition commit together, under a key
            # per milestone: a double click or two processes pay once.
            movement = await self._ledger.earn(
                pairing.guild_id, pairing.mentor_id, reward, kind="reward",
                key=f"mentor-goal:{pairing.mentorship_id}:{goal_no}",
                ref=f"mentorship:{pairing.mentorship_id}", also=mark_done)
            if movement.replayed:
                raise taken
            paid = sum(e.delta for e in movement.entries)
        elif not await self._repo.complete_goal(pairing.guild_id, pairing.mentorship_id, goal_no,
                                                by=user_id, now_ms=now_ms):
            raise taken
        await self.touch(pairing)
        return GoalResult(Goal.model_validate({**doc, "status": "done"}), paid)

    async def end(self, pairing: Pairing, user_id: int, reason: str, note: str | None
                  ) -> EndResult:
        """Either side ends an active mentorship with a reason (`report` bars the pair for good
        and tells the lead). A `completed` ending counts for the mentor's level."""
        if reason not in END_REASONS:
            raise InvalidInput(f"Pick a reason: {', '.join(END_REASONS)}.")
        note = clean_text(note, REVIEW_MAX, "note")
        fields = {"ended_ms": to_ms(self._clock.now()), "ended_by": user_id, "end_reason": reason,
                  "end_note": note, "reported": reason == "report"}
        completed = await self._repo.end(
            await self._repo.pair(pairing.guild_id, pairing.mentorship_id), fields=fields,
            completed=reason == "completed")
        if completed is None:
            raise MentorshipUnavailable("This mentorship has already ended.")
        reached = None
        if reason == "completed":
            reached = next((i + 1 for i, (n, _) in enumerate(MENTOR_LEVELS) if n == completed),
                           None)
        return EndResult(await self.get(pairing.guild_id, pairing.mentorship_id), reached)

    async def leaderboard(self, guild_id: int, *, limit: int = 10
                          ) -> list[tuple[int, MentorSummary]]:
        """Mentors with the most completed mentorships (then the best rated), with reputations."""
        rows = []
        for doc in await self._repo.top_mentors(guild_id, limit=limit * 3):
            rows.append((doc["user_id"], await self.summary(guild_id, doc["user_id"])))
        rows.sort(key=lambda r: (-r[1].completed, -(r[1].stars / r[1].ratings if r[1].ratings
                                                      else 0), r[0]))
        return rows[:limit]

    async def spotlights(self) -> list[Spotlight]:
        """The monthly mentor spotlight: once per guild and month (for the month before now),
        the top-rated mentor of that month (ratings by mentees; at least one)."""
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

    async def rate(self, pairing: Pairing, user_id: int, stars: int, review: str | None) -> None:
        """Rate the other side once, from `mentorship_rating_weeks` after the start."""
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

    async def touch(self, pairing: Pairing) -> None:
        """Note activity in a mentorship (pushes the next check-in reminder back)."""
        settings = await self._settings.get(pairing.guild_id)
        now_ms = to_ms(self._clock.now())
        await self._repo.set_pair_fields(
            pairing.guild_id, pairing.mentorship_id,
            guard={"status": "active", "last_activity_ms": {"$lt": now_ms - 3_600_000}},
            fields={"last_activity_ms": now_ms,
                    "checkin_ms": now_ms + settings.mentorship_checkin_days * DAY_MS})

    async def touch_thread(self, guild_id: int, thread_id: int) -> None:
        """A message in a mentorship thread counts as activity."""
        doc = await self._repo.pair_by_thread(guild_id, thread_id)
        if doc and doc["status"] == "active":
            await self.touch(Pairing.model_validate(doc))

    # --- timers -------------------------------------------------------------------------------
    async def sweep(self) -> SweepReport:
        """Expire proposals past their deadline (then propose the next best) and schedule
        check-in reminders. Idempotent: every step is a guarded transition, so two processes
        sweeping at once act on each proposal once."""
        report = SweepReport()
        now_ms = to_ms(self._clock.now())
        for guild_id in await self._repo.guild_ids():
            settings = await self._settings.get(guild_id)
            for doc in await self._repo.due_pairs(guild_id, "proposed", "expires_ms", now_ms):
                if await self._repo.close_proposal(guild_id, doc["mentorship_id"], doc["mentee_id"],
                                                   to_status="expired",
                                                   fields={"decided_ms": now_ms}):
                    report.expired.append(await self.get(guild_id, doc["mentorship_id"]))
                    nxt = await self.propose_next(guild_id, doc["mentee_id"])
                    if nxt:
                        report.proposed.append(nxt)
            for doc in await self._repo.due_pairs(guild_id, "active", "checkin_ms", now_ms):
                if await self._repo.set_pair_fields(
                        guild_id, doc["mentorship_id"],
                        guard={"status": "active", "checkin_ms": doc["checkin_ms"]},
                        fields={"checkin_ms": now_ms + settings.mentorship_checkin_days * DAY_MS}):
                    report.checkins.append(Pairing.model_validate(doc))
        return report


def _mentee_profile(doc: Doc, now: datetime, verified: dict[str, int] | None = None
                    ) -> MenteeProfile:
    """Matching's view of an application; a verified level replaces the declared one."""
    verified = verified or {}
    return MenteeProfile(doc["user_id"], tuple((w["skill"], verified.get(w["skill"], int(w["level"])))
                                               for w in doc["wanted"]),
                         utc_mask(doc["availability"], doc["zone"], now), tuple(doc["languages"]))


def explain_pair(mentee_doc: Doc, mentor: Mentor, now: datetime) -> PairScore:
    """Score a stored application against a mentor (for profile views)."""
    return score_pair(_mentee_profile(mentee_doc, now), MentorProfile(
        mentor.user_id, mentor.skill_levels, utc_mask(mentor.availability, mentor.zone, now),
        tuple(mentor.languages), mentor.capacity - mentor.load))
