"""Applications and proposals: applying (the best mentor proposed at once, or a requested one),
withdrawing, answering a proposal (both accept -> the mentorship starts, within the mentor's
hard capacity), matching rounds (on demand and weekly), and the sweep of timed-out proposals.

Matching itself lives in economy/mentorship/matching.py (pure); this service loads profiles,
applies the rules and stores every transition through guarded writes (mentorship/repo.py).

Proposal life: proposed --both accept--> active --end--> ended
                proposed --decline / timeout--> declined | expired   (next best is proposed)
                proposed --mentor's last slot taken meanwhile--> lapsed (next best is proposed)
A pair that declined, timed out, was reported or worked together before is never re-proposed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import AlreadyRecorded, InvalidInput, NotPermitted
from economy.core.settings import GuildSettings, SettingsService
from economy.core.text import clean_text
from economy.mentorship.matching import (
    MentorProfile,
    PairScore,
    check_zone,
    global_assignment,
    parse_availability,
    parse_languages,
    parse_skill_levels,
    ranked_mentors,
    utc_mask,
)
from economy.mentorship.mentors import MentorService
from economy.mentorship.models import Mentor, Pairing, ResponseResult, SweepReport
from economy.mentorship.pairings import PairingService
from economy.mentorship.repo import MentorshipRepo, SlotTaken, StateChanged
from economy.mentorship.rules import (
    DAY_MS,
    GOALS_MAX,
    MentorshipUnavailable,
    explain_pair,
    mentee_profile,
    skills_of,
)
from economy.repos.base import Doc


class ProposalService:
    """From an application to a started mentorship."""

    def __init__(self, repo: MentorshipRepo, settings: SettingsService, clock: Clock,
                 mentors: MentorService, pairings: PairingService) -> None:
        self._repo = repo
        self._settings = settings
        self._clock = clock
        self._mentors = mentors
        self._pairings = pairings

    async def apply(self, guild_id: int, user_id: int, *, wanted: str, zone: str,
                    availability: str, languages: str, goals: str | None,
                    mentor_id: int | None = None) -> Pairing | None:
        """Apply for a mentor; proposes the best available one at once, or the requested
        `mentor_id` when they fit (None when nobody fits: the application waits for a round).
        Everything is checked before anything is stored.

        Raises: InvalidInput (any field, an open application or a mentor already, or a requested
        mentor who is oneself, not active, full, matched before or does not fit).
        """
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
        mentor can be told).

        Raises: InvalidInput (no open application); MentorshipUnavailable (it changed meanwhile).
        """
        app = await self._repo.mentee(guild_id, user_id)
        if not app or app["status"] != "open":
            raise InvalidInput("You have no open application to withdraw.")
        proposal_id = int(app.get("proposal_id") or 0)
        if not await self._repo.withdraw_application(guild_id, user_id, proposal_id=proposal_id,
                                                     now_ms=to_ms(self._clock.now())):
            raise MentorshipUnavailable("Your application changed meanwhile; try again.")
        return await self._pairings.get(guild_id, proposal_id) if proposal_id else None

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

        Raises: nothing of its own (None when nobody fits).
        """
        app = await self._repo.mentee(guild_id, mentee_id)
        if not app or app["status"] != "open" or app.get("proposal_id"):
            return None
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        mentors, pending = await self._mentor_profiles(guild_id, now)
        excluded = await self._excluded(guild_id, mentee_id)
        mentee = mentee_profile(app, now, await self._mentors.verified(guild_id, mentee_id))
        ranked = ranked_mentors(mentee, mentors, excluded)
        if not ranked:
            return None
        ranked.sort(key=lambda pair: (pair[0].free_slots - pending.get(pair[0].user_id, 0) <= 0,
                                      -pair[1].score, pair[0].user_id))
        mentor, score = ranked[0]
        return await self._create_proposal(guild_id, mentee_id, mentor.user_id, score, settings,
                                           source="on_demand")

    async def round(self, guild_id: int, actor: Actor) -> list[Pairing]:
        """A batch round: the global best assignment of every open application to free slots
        (slots already offered in pending proposals are not counted as free).

        Raises: NotPermitted (not the lead or an admin).
        """
        settings = await self._settings.get(guild_id)
        if not actor.admin_or(guild_id, settings.mentorship_lead_role_id):
            raise NotPermitted("Only the mentorship lead (or an admin) can run a matching round.")
        now = self._clock.now()
        mentors, pending = await self._mentor_profiles(guild_id, now)
        free = [MentorProfile(m.user_id, m.skills, m.mask, m.languages,
                              m.free_slots - pending.get(m.user_id, 0)) for m in mentors]
        apps = [a for a in await self._repo.mentees_in(guild_id, "open") if not a.get("proposal_id")]
        verified = await self._repo.verified_levels(guild_id)
        mentees = [mentee_profile(a, now, verified.get(a["user_id"])) for a in apps]
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
        Monday 00:00 UTC on; two processes cannot both run it (a run-once marker).

        Raises: nothing of its own.
        """
        year, week, _ = self._clock.now().isocalendar()
        made: list[Pairing] = []
        for guild_id in await self._repo.guild_ids():
            settings = await self._settings.get(guild_id)
            if not settings.mentorship_weekly_round:
                continue
            if await self._repo.claim_once(f"{guild_id}:round:{year}-W{week:02d}"):
                made += await self.round(guild_id, Actor.system())
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
        (if the mentor still has a slot); a decline proposes the mentee's next best mentor.

        Raises: NotFound (no such proposal); NotPermitted (the proposal is for others);
        MentorshipUnavailable (expired, already answered, or this side accepted already).
        """
        pairing = await self._pairings.get(guild_id, mentorship_id)
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
            return ResponseResult(await self._pairings.get(guild_id, mentorship_id), next_proposal=nxt,
                                  note="declined")
        if not await self._repo.mark_side(guild_id, mentorship_id, role, now_ms):
            current = await self._pairings.get(guild_id, mentorship_id)
            if current.status == "proposed" and getattr(current, f"{role}_ok"):
                raise MentorshipUnavailable("You already accepted; waiting for the other side.")
            raise MentorshipUnavailable("This proposal is no longer open.")
        current = await self._pairings.get(guild_id, mentorship_id)
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
                return ResponseResult(await self._pairings.get(g, mid), next_proposal=nxt,
                                      note="slot_taken")
            return await self._settled(g, mid)
        except StateChanged:
            return await self._settled(g, mid)
        return ResponseResult(await self._pairings.get(g, mid), started=True, note="started")

    async def _settled(self, guild_id: int, mentorship_id: int) -> ResponseResult:
        """The proposal moved on while this answer was applied: both sides accepting at the same
        moment start it once (the other answer reports it started)."""
        current = await self._pairings.get(guild_id, mentorship_id)
        if current.status == "active":
            return ResponseResult(current, note="already_started")
        raise MentorshipUnavailable("This proposal changed meanwhile; it is no longer open.")

    async def sweep(self) -> SweepReport:
        """Expire proposals past their deadline (then propose the next best) and schedule
        check-in reminders. Idempotent: every step is a guarded transition, so two processes
        sweeping at once act on each proposal once.

        Raises: nothing of its own.
        """
        report = SweepReport()
        now_ms = to_ms(self._clock.now())
        for guild_id in await self._repo.guild_ids():
            for doc in await self._repo.due_pairs(guild_id, "proposed", "expires_ms", now_ms):
                if await self._repo.close_proposal(guild_id, doc["mentorship_id"], doc["mentee_id"],
                                                   to_status="expired",
                                                   fields={"decided_ms": now_ms}):
                    report.expired.append(await self._pairings.get(guild_id, doc["mentorship_id"]))
                    nxt = await self.propose_next(guild_id, doc["mentee_id"])
                    if nxt:
                        report.proposed.append(nxt)
            report.checkins += await self._pairings.due_checkins(guild_id)
        return report
