"""Mentorship rooms and notices: proposal DMs, private threads with a pinned goals card, the
lead's approval queue, and what the sweep announces. Discord side effects only; the decisions
were made by the mentorship service before these run."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import discord

from cogs._shared.interaction import reply
from cogs._shared.outlets import Outlet
from cogs.mentorship._render import card_embed, proposal_embed, queue_text
from cogs.mentorship._views import approval_view, proposal_view
from economy.core.text import strip_invisible
from economy.mentorship.models import MENTOR_LEVELS, Pairing, ResponseResult, Spotlight

log = logging.getLogger(__name__)


class MentorshipRooms(Outlet):
    """Opens pair threads and posts/DMs what happens in a mentorship."""

    feature = "mentorship"
    sweep_job = "mentorship-sweep"

    def __init__(self, bot: Any) -> None:
        super().__init__(bot)
        self._threads: dict[int, bool] = {}  # thread id -> is a mentorship thread (cache)

    # --- registration -------------------------------------------------------------------------
    async def registered(self, interaction: discord.Interaction, guild_id: int,
                         joined_at: datetime | None, options: dict[str, Any],
                         bio: str | None) -> None:
        """Store a registration (from the bio form) and queue it for the lead if needed."""
        reg = await self.services.mentorship.mentors.register_mentor(
            guild_id, interaction.user.id, joined_at=joined_at, bio=bio, **options)
        zone = (f" Your hours are read in `{options['zone']}` (change it with `/my timezone`)."
                if options.get("zone") else "")
        if not reg.needs_approval:
            await reply(interaction, "🧑‍🏫 You are a mentor now. Mentees who fit your skills, "
                        f"hours and languages will be proposed to you by DM.{zone}",
                        ephemeral=True)
            return
        await reply(interaction, "⏳ Thanks! Your mentor application waits for the mentorship "
                    f"lead's approval ({reg.reason}). You'll get a DM.", ephemeral=True)
        settings = await self.services.settings.get(guild_id)
        channel = await self.channel(settings.mentorship_queue_channel_id)
        if channel is None:
            log.info("no mentorship queue channel in guild %s", guild_id)
            return
        await self.send_to(channel, queue_text(interaction.user.id, reg.reason),
                           view=approval_view(guild_id, interaction.user.id),
                           about=f"the mentor application of {interaction.user.id}")

    # --- proposals ----------------------------------------------------------------------------
    async def propose(self, p: Pairing) -> None:
        """DM both sides a proposal with Accept / Decline."""
        for user_id, role in ((p.mentee_id, "mentor"), (p.mentor_id, "mentee")):
            await self.dm(p.guild_id, user_id, f"🤝 A {role} match was proposed to you. Accept or decline "
                          "below.", embed=proposal_embed(p), view=proposal_view(p))

    async def after_response(self, clicker_id: int, result: ResponseResult) -> None:
        """Announce what an answer did: the other side's turn, a start, a decline, a lost slot."""
        p = result.pairing
        other = p.other(clicker_id)
        if result.note == "waiting":
            await self.dm(p.guild_id, other, f"🤝 <@{clicker_id}> accepted proposal #{p.mentorship_id}; "
                          "it starts when you accept too.")
        elif result.note == "declined":
            await self.dm(p.guild_id, other, f"Proposal #{p.mentorship_id} was declined.")
        elif result.note == "slot_taken":
            await self.dm(p.guild_id, p.mentee_id, f"⌛ Sorry: <@{p.mentor_id}>'s last place was just taken "
                          f"by someone else (proposal #{p.mentorship_id}).")
        elif result.started:
            await self.open(p)
        if result.next_proposal is not None:
            await self.propose(result.next_proposal)

    # --- rooms --------------------------------------------------------------------------------
    async def open(self, p: Pairing) -> discord.Thread | None:
        """Open the private thread for a new mentorship, pin its goals card, tell both sides."""
        guild = self.bot.get_guild(p.guild_id)
        if guild is None:
            log.warning("guild %s is not available for mentorship %s", p.guild_id, p.mentorship_id)
            return None
        settings = await self.services.settings.get(p.guild_id)
        channel = self.room_channel(p.guild_id, settings.mentorship_channel_id)
        mentor, mentee = guild.get_member(p.mentor_id), guild.get_member(p.mentee_id)
        room = await self.open_room(
            channel, name=f"Mentorship #{p.mentorship_id} · {_name(mentor)} & {_name(mentee)}",
            members=(p.mentor_id, p.mentee_id), about=f"mentorship {p.mentorship_id}",
            content=f"Welcome <@{p.mentor_id}> (mentor) and <@{p.mentee_id}> (mentee)! This "
                    "thread is private to you two. Set goals with `/mentor goal add`.",
            embed=card_embed(p, [], settings.money(settings.mentorship_milestone_reward)),
            pin=True)
        await self.services.mentorship.pairings.attach_room(
            p.guild_id, p.mentorship_id, thread_id=room.thread.id if room.thread else None,
            card_message_id=room.card.id if room.card else None)
        if room.thread is not None:
            self._threads[room.thread.id] = True
        where = room.where("the server")
        for user_id in (p.mentor_id, p.mentee_id):
            await self.dm(p.guild_id, user_id, f"🌱 Mentorship #{p.mentorship_id} started! Meet in {where}.")
        return room.thread

    async def refresh_card(self, guild_id: int, mentorship_id: int) -> None:
        """Redraw the pinned goals card."""
        services = self.services
        p = await services.mentorship.pairings.get(guild_id, mentorship_id)
        if p.thread_id is None or p.card_message_id is None:
            return
        settings = await services.settings.get(guild_id)
        goals = await services.mentorship.pairings.goals(p)
        await self.edit_card(p.thread_id, p.card_message_id, about=f"mentorship {mentorship_id}",
                             embed=card_embed(p, goals,
                                              settings.money(settings.mentorship_milestone_reward)))

    async def post(self, p: Pairing, text: str) -> None:
        """A message in the pair's thread."""
        await self.send_to(p.thread_id, text, about=f"mentorship {p.mentorship_id}")

    async def ended(self, p: Pairing, by: int) -> None:
        """Tell the thread and the other side that a mentorship ended; archive the thread."""
        await self.refresh_card(p.guild_id, p.mentorship_id)
        note = (f"🏁 <@{by}> ended this mentorship ({p.end_reason}). Thank you both! You can "
                "rate each other with `/mentorship rate` once the rating window is open.")
        await self.post(p, note)
        await self.dm(p.guild_id, p.other(by), f"Mentorship #{p.mentorship_id}: {note}")
        await self.close_room(p.thread_id, about=f"mentorship {p.mentorship_id}")
        if p.end_reason == "report":
            settings = await self.services.settings.get(p.guild_id)
            await self.send_to(settings.mentorship_queue_channel_id,
                               f"🚩 <@{by}> ended mentorship #{p.mentorship_id} with a report. "
                               "The pair will not be matched again.",
                               about=f"the report on mentorship {p.mentorship_id}")

    async def level_up(self, p: Pairing, level: int) -> None:
        """Congratulate a mentor who reached a level, and grant the level's role if set."""
        settings = await self.services.settings.get(p.guild_id)
        threshold, name = MENTOR_LEVELS[level - 1]
        note = (f"🏅 <@{p.mentor_id}> completed {threshold} mentorship"
                f"{'s' if threshold != 1 else ''} and is now a **{name}**!")
        await self.post(p, note)
        await self.dm(p.guild_id, p.mentor_id, note)
        roles = settings.mentor_level_roles
        guild = self.bot.get_guild(p.guild_id)
        member = guild.get_member(p.mentor_id) if guild else None
        if member is not None and len(roles) >= level:
            await self.set_role(p.guild_id, p.mentor_id, roles[level - 1], add=True,
                                reason=f"Mentor level: {name}")

    async def is_room(self, guild_id: int, thread_id: int) -> bool:
        """Whether a thread is a mentorship room (cached per process)."""
        if thread_id not in self._threads:
            self._threads[thread_id] = await self.services.mentorship.pairings.is_room(
                guild_id, thread_id)
        return self._threads[thread_id]

    # --- the sweep ----------------------------------------------------------------------------
    async def sweep(self) -> int:
        """The scheduled job: expire proposals, propose the next best, remind silent pairs."""
        mentorship = self.services.mentorship
        report = await mentorship.proposals.sweep()
        # Each message goes out from the process that owns the guild's shard.
        count = await self.hand_over("mentorship-expired", report.expired, _guild)
        count += await self.hand_over("mentorship-propose", report.proposed, _guild)
        count += await self.hand_over("mentorship-checkin", report.checkins, _guild)
        count += await self.hand_over("mentorship-propose", await mentorship.proposals.weekly_rounds(), _guild)
        count += await self.hand_over("mentorship-spotlight", await mentorship.recognition.spotlights(), _guild)
        return count

    def register_work(self) -> None:
        """The sweep's messages, as guild work (run by the guild's own process)."""
        self.work("mentorship-expired", self.expired, Pairing)
        self.work("mentorship-propose", self.propose, Pairing)
        self.work("mentorship-checkin", self.checkin, Pairing)
        self.work("mentorship-spotlight", self.spotlight, Spotlight)

    async def expired(self, p: Pairing) -> None:
        """Tell both sides a proposal expired."""
        for user_id in (p.mentee_id, p.mentor_id):
            await self.dm(p.guild_id, user_id, f"⌛ Proposal #{p.mentorship_id} expired without both "
                          "answers.")

    async def checkin(self, p: Pairing) -> None:
        """Nudge a quiet pair in their room."""
        await self.post(p, f"👋 Check-in: it has been quiet here for a while, <@{p.mentor_id}> "
                        f"and <@{p.mentee_id}>. How are your goals going?")

    async def spotlight(self, spot: Spotlight) -> None:
        """Post the month's mentor spotlight."""
        await self.send_to(spot.channel_id,
                           f"🌟 Mentor spotlight for {spot.month}: <@{spot.user_id}>, rated "
                           f"★ {spot.average:.1f} by {spot.ratings} mentee"
                           f"{'s' if spot.ratings != 1 else ''} this month. Thank you!",
                           about=f"the {spot.month} mentor spotlight")


def _guild(notice: Pairing | Spotlight) -> int:
    return notice.guild_id


def _name(member: discord.Member | None) -> str:
    return strip_invisible(member.display_name)[:30] if member else "member"
