"""/mentor (members) and /mentor-admin (lead and reviewers). Thin: parse, call the mentorship service, render."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.feature_cog import FeatureCog, service_checked
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.outlets import outlet_of
from cogs._shared.time_option import member_zone
from cogs.mentorship._groups import mentor, mentor_admin, milestone, skill_choices
from cogs.mentorship._guides import GuideCommands
from cogs.mentorship._render import (
    COLOUR,
    card_embed,
    profile_embed,
    proposal_embed,
    verified_embed,
)
from cogs.mentorship._views import BioModal, approval_view, proposal_view
from economy.core.errors import InvalidInput, NotFound
from economy.core.timeparse import zone_name
from economy.core.wording import plural
from economy.mentorship.models import Pairing, mentor_level
from economy.mentorship.rules import skills_of

Reason = Literal["completed", "no longer needed", "not a good fit", "report"]


class MentorshipCog(GuideCommands, FeatureCog):
    """Mentors, mentees, proposals, milestones, endings and ratings (guides: GuideCommands)."""

    mentor = mentor
    mentor_admin = mentor_admin

    @property
    def rooms(self):
        return outlet_of(self.bot, "mentorship")

    # --- /mentor ------------------------------------------------------------------------------
    @mentor.command(name="register", description="Offer to mentor: skills, hours, languages, capacity")
    @app_commands.describe(
        skills="Skills with your level 1-5, like: cad:4, stone setting:5",
        availability="Free hours each week in your time zone (/profile timezone), like: mon-fri 18-21",
        languages="Languages you mentor in, like: English, French",
        capacity="How many mentees at once (1-10)")
    async def register(self, interaction: discord.Interaction, skills: str,
                       availability: str, languages: str, capacity: int):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        # The zone is asked once, by /profile timezone (else the server's), not per command.
        zone = zone_name(await member_zone(interaction))
        options = {"skills": skills, "zone": zone, "availability": availability,
                   "languages": languages, "capacity": capacity}
        # Everything is checked before the form opens, so a mistake costs no typing.
        await services.mentorship.mentors.validate_mentor(guild_id, interaction.user.id, **options)
        joined_at = getattr(interaction.user, "joined_at", None)
        await interaction.response.send_modal(BioModal(guild_id=guild_id, joined_at=joined_at,
                                                       options=options))

    @mentor.command(name="profile", description="A mentor's profile and reputation")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        target = member or interaction.user
        name = safe_text(target.display_name, limit=64)
        verified = await services.mentorship.mentors.verified(guild_id, target.id)
        try:
            profile = await services.mentorship.mentors.mentor(guild_id, target.id)
        except NotFound:
            if not verified:
                raise
            # Not a mentor, but with verified skills: show those.
            await reply(interaction, embed=verified_embed(name, verified), ephemeral=True)
            return
        summary = await services.mentorship.recognition.summary(guild_id, target.id)
        await reply(interaction, embed=profile_embed(name, profile, summary, verified),
                    ephemeral=True)

    @mentor.command(name="pause", description="Stop getting new mentees for now")
    async def pause(self, interaction: discord.Interaction):
        await self._state(interaction, "pause", "⏸️ Paused: no new proposals until `/mentor resume`.")

    @mentor.command(name="resume", description="Get new mentees again")
    async def resume(self, interaction: discord.Interaction):
        await self._state(interaction, "resume", "▶️ Welcome back: you can be matched again.")

    @mentor.command(name="leave", description="Stop mentoring (current mentorships continue)")
    async def leave(self, interaction: discord.Interaction):
        await self._state(interaction, "leave", "👋 You left mentoring. Current mentorships "
                          "continue until they end. Thank you!")

    async def _state(self, interaction: discord.Interaction, action, text: str) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await services.mentorship.mentors.set_mentor_state(guild_id, interaction.user.id, action)
        await reply(interaction, text, ephemeral=True)

    # --- /mentor milestone -------------------------------------------------------------------------
    @milestone.command(name="add", description="Add a milestone to your mentorship")
    @app_commands.describe(text="The goal, like: model a band ring in CAD",
                           mentorship="Which mentorship (default: this thread or your only one)")
    async def goal_add(self, interaction: discord.Interaction, text: str,
                       mentorship: int | None = None):
        p = await self._pair(interaction, mentorship)
        goal = await services_of(interaction).mentorship.pairings.add_goal(p, interaction.user.id, text)
        await reply(interaction, f"🎯 Goal {goal.goal_no} added to mentorship #{p.mentorship_id}.",
                    ephemeral=True)
        await self.rooms.refresh_card(p.guild_id, p.mentorship_id)
        await self.rooms.post(p, f"🎯 <@{interaction.user.id}> added goal {goal.goal_no}: "
                              f"{safe_text(goal.text)}")

    @milestone.command(name="done", description="Mentee: confirm a milestone reached (your mentor earns GEMS)")
    @app_commands.describe(number="The goal's number (see /mentor milestone list)",
                           mentorship="Which mentorship (default: this thread or your only one)")
    async def goal_done(self, interaction: discord.Interaction, number: int,
                        mentorship: int | None = None):
        services = services_of(interaction)
        p = await self._pair(interaction, mentorship)
        result = await services.mentorship.pairings.confirm_goal(p, interaction.user.id, number)
        settings = await services.settings.get(p.guild_id)
        earned = f" <@{p.mentor_id}> earned {settings.money(result.reward)}." if result.reward else ""
        await reply(interaction, f"✅ Goal {number} confirmed.{earned}", ephemeral=True)
        await self.rooms.refresh_card(p.guild_id, p.mentorship_id)
        await self.rooms.post(p, f"✅ Goal {number} reached: {safe_text(result.goal.text)}.{earned}")

    @milestone.command(name="list", description="The milestones of your mentorship")
    @app_commands.describe(mentorship="Which mentorship (default: this thread or your only one)")
    async def goal_list(self, interaction: discord.Interaction, mentorship: int | None = None):
        services = services_of(interaction)
        p = await self._pair(interaction, mentorship, statuses=("active", "ended"))
        settings = await services.settings.get(p.guild_id)
        goals = await services.mentorship.pairings.goals(p)
        await reply(interaction, embed=card_embed(
            p, goals, settings.money(settings.mentorship_milestone_reward)), ephemeral=True)

    # --- /mentor ------------------------------------------------------------------------------
    @mentor.command(name="find", description="Ask for a mentor: skills, hours, languages, goals")
    @app_commands.describe(
        skills="Skills to learn, most wanted first, with your level 0-5: cad:1, casting",
        availability="Free hours each week in your time zone (/profile timezone), like: mon-fri 18-21",
        languages="Languages you speak, like: English, French",
        goals="What you want to achieve (optional)",
        mentor="A mentor you'd like (optional; otherwise the best match is proposed)")
    async def apply(self, interaction: discord.Interaction, skills: str,
                    availability: str, languages: str, goals: str | None = None,
                    mentor: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        zone = zone_name(await member_zone(interaction))
        proposal = await services.mentorship.proposals.apply(
            guild_id, interaction.user.id, wanted=skills, zone=zone,
            availability=availability, languages=languages, goals=goals,
            mentor_id=mentor.id if mentor else None)
        if proposal is None:
            await reply(interaction, "📝 Your application is in (your hours are read in "
                        f"`{zone}`; change it with `/profile timezone`). No mentor with a free place "
                        "fits it right now; you'll get a DM as soon as one is proposed.",
                        ephemeral=True)
            return
        settings = await services.settings.get(guild_id)
        await reply(interaction, f"🤝 Proposed: <@{proposal.mentor_id}> — "
                    f"{safe_text(proposal.explanation)}. You both got a DM to accept or decline "
                    f"within {settings.mentorship_proposal_hours} h.",
                    embed=proposal_embed(proposal), view=proposal_view(proposal), ephemeral=True)
        await self.rooms.propose(proposal)

    @mentor.command(name="find-cancel", description="Withdraw your open request for a mentor")
    async def withdraw(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        proposal = await services.mentorship.proposals.withdraw(guild_id, interaction.user.id)
        await reply(interaction, "📝 Your application was withdrawn. Apply again any time.",
                    ephemeral=True)
        if proposal is not None:
            await self.rooms.dm(guild_id, proposal.mentor_id, f"Proposal #{proposal.mentorship_id} was "
                                "withdrawn by the mentee.")

    # --- /mentor --------------------------------------------------------------------------
    @mentor.command(name="end", description="End your mentorship, with a reason")
    @app_commands.describe(reason="Why it ends ('report' tells the lead and never pairs you again)",
                           note="A few words (optional)",
                           mentorship="Which mentorship (default: this thread or your only one)")
    async def end(self, interaction: discord.Interaction, reason: Reason,
                  note: str | None = None, mentorship: int | None = None):
        p = await self._pair(interaction, mentorship)
        result = await services_of(interaction).mentorship.pairings.end(p, interaction.user.id, reason,
                                                               note)
        await reply(interaction, f"🏁 Mentorship #{p.mentorship_id} ended ({reason}).",
                    ephemeral=True)
        await self.rooms.ended(result.pairing, interaction.user.id)
        if result.reached_level:
            await self.rooms.level_up(result.pairing, result.reached_level)

    @mentor.command(name="rate", description="Rate the other side of your mentorship (1-5)")
    @app_commands.describe(stars="1 to 5", review="A short review (optional)",
                           mentorship="Which mentorship (default: this thread or your only one)")
    async def rate(self, interaction: discord.Interaction, stars: int, review: str | None = None,
                   mentorship: int | None = None):
        p = await self._pair(interaction, mentorship, statuses=("active", "ended"), any_state=True)
        await services_of(interaction).mentorship.recognition.rate(p, interaction.user.id, stars, review)
        await reply(interaction, f"Thanks! You rated <@{p.other(interaction.user.id)}> "
                    f"{'★' * stars}.", ephemeral=True)

    @mentor.command(name="list", description="Your proposals and mentorships")
    async def list_(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        pairs = await services.mentorship.pairings.history(guild_id, interaction.user.id)
        lines = [f"#{p.mentorship_id} · mentor <@{p.mentor_id}> · mentee <@{p.mentee_id}>"
                 f" · {p.status}" for p in pairs[:20]]
        await reply(interaction, "\n".join(lines) or "You have no mentorships yet.", ephemeral=True)

    @mentor.command(name="leaderboard", description="Mentors with the most completed mentorships")
    async def leaderboard(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        rows = await services.mentorship.recognition.leaderboard(guild_id)
        lines = []
        for rank, (user_id, summary) in enumerate(rows, start=1):
            level = mentor_level(summary.completed)
            badge = f" · {level[1]}" if level else ""
            lines.append(f"**{rank}.** <@{user_id}> — {summary.render()}{badge}")
        embed = discord.Embed(title="🧑‍🏫 Mentor leaderboard", colour=COLOUR,
                              description="\n".join(lines) or "No mentors yet.")
        await reply(interaction, embed=embed)

    # --- /mentor-admin ---------------------------------------------------------------------------------
    @mentor_admin.command(name="verify", description="Mentors/lead: confirm a member's level in a skill")
    @service_checked("moderator")
    @app_commands.describe(member="Whose skill", skill="The skill", level="The level you saw (1-5)")
    async def verify(self, interaction: discord.Interaction, member: discord.Member, skill: str,
                     level: int):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        name = await services.mentorship.mentors.verify_skill(
            guild_id, await actor_of(interaction), member.id, skill, level)
        await reply(interaction, f"✔ Verified: <@{member.id}> — {name} {'★' * level}.",
                    ephemeral=True)
        await self.rooms.dm(guild_id, member.id, f"✔ <@{interaction.user.id}> verified your {name} skill "
                            f"at level {level}.")

    @verify.autocomplete("skill")
    async def _one_skill(self, interaction: discord.Interaction, current: str):
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        return [app_commands.Choice(name=s, value=s) for s in skills_of(settings)
                if current.lower() in s][:25]

    # --- /mentor-admin --------------------------------------------------------------------------
    @mentor_admin.command(name="round", description="Lead: match every waiting mentee with the best free mentors")
    @service_checked("admin")
    async def round(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        made = await services.mentorship.proposals.round(guild_id, await actor_of(interaction))
        for proposal in made:
            await self.rooms.propose(proposal)
        total = sum(p.score for p in made)
        await interaction.followup.send(
            f"🔄 Round done: {len(made)} proposal{'s' if len(made) != 1 else ''} sent "
            f"(total score {total:.2f}).", ephemeral=True)

    @mentor_admin.command(name="applications", description="Lead: mentor applications waiting for approval")
    @service_checked("admin")
    async def queue(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        waiting = await services.mentorship.mentors.pending(guild_id, await actor_of(interaction))
        if not waiting:
            await reply(interaction, "No mentor applications are waiting.", ephemeral=True)
            return
        await reply(interaction, f"{plural(len(waiting), 'mentor application')} waiting; the oldest "
                    f"{min(len(waiting), 5)}:", ephemeral=True)
        for m in waiting[:5]:
            skills = ", ".join(f"{s['skill']} {s['level']}" for s in m.skills)
            await interaction.followup.send(
                f"<@{m.user_id}> · {safe_text(skills, limit=300)} · "
                f"{safe_text(m.bio or '', limit=300)}",
                view=approval_view(guild_id, m.user_id), ephemeral=True,
                allowed_mentions=NO_PINGS)

    # --- shared -------------------------------------------------------------------------------
    async def _pair(self, interaction: discord.Interaction, mentorship: int | None, *,
                    statuses: tuple[str, ...] = ("active",), any_state: bool = False) -> Pairing:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        thread_id = interaction.channel_id if isinstance(interaction.channel, discord.Thread) else None
        if any_state and mentorship is None and thread_id is None:
            # Rating usually happens after the end: default to the latest pair of the member.
            pairs = await services.mentorship.pairings.history(guild_id, interaction.user.id,
                                                               statuses)
            if not pairs:
                raise InvalidInput("You have no mentorship to rate.")
            mentorship = pairs[0].mentorship_id  # newest first
        return await services.mentorship.pairings.resolve(guild_id, interaction.user.id,
                                                          mentorship_id=mentorship,
                                                          thread_id=thread_id, statuses=statuses)

    # --- autocomplete -------------------------------------------------------------------------
    @register.autocomplete("skills")
    @apply.autocomplete("skills")
    async def _skills(self, interaction: discord.Interaction, current: str):
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        return skill_choices(current, skills_of(settings))

    @goal_add.autocomplete("mentorship")
    @goal_done.autocomplete("mentorship")
    @goal_list.autocomplete("mentorship")
    @end.autocomplete("mentorship")
    @rate.autocomplete("mentorship")
    async def _pairs(self, interaction: discord.Interaction, current: str):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        active = await services.mentorship.pairings.active_for(guild_id, interaction.user.id)
        guild = interaction.guild
        choices = []
        for p in active:
            other = guild.get_member(p.other(interaction.user.id)) if guild else None
            name = f"#{p.mentorship_id} with {other.display_name if other else 'member'}"[:100]
            if current in name:
                choices.append(app_commands.Choice(name=name, value=p.mentorship_id))
        return choices[:25]

    # --- activity -----------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A message in a mentorship thread counts as activity (delays the check-in reminder)."""
        if message.author.bot or message.guild is None or not isinstance(message.channel,
                                                                          discord.Thread):
            return
        if await self.rooms.is_room(message.guild.id, message.channel.id):
            await self.bot.services.mentorship.pairings.touch_thread(message.guild.id, message.channel.id)
