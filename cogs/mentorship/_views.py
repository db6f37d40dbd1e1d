"""Persistent buttons (proposal answers, the lead's approval queue) and the bio form.

Proposal buttons live in DMs, where interactions carry no guild: the guild travels in the
custom id and the service checks that the clicker is a side of that proposal (forged ids fail).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import NO_PINGS, actor_of, services_of
from cogs._shared.outlets import outlet_of
from cogs._shared.ui import GatedModal, SafeButton
from cogs.mentorship._render import proposal_embed
from economy.mentorship.models import Pairing


def proposal_view(p: Pairing) -> discord.ui.View:
    """Accept / Decline for a proposal."""
    view = discord.ui.View(timeout=None)
    view.add_item(ProposalButton(p.guild_id, p.mentorship_id, "accept"))
    view.add_item(ProposalButton(p.guild_id, p.mentorship_id, "decline"))
    return view


def approval_view(guild_id: int, user_id: int) -> discord.ui.View:
    """Approve / Reject for a mentor waiting in the lead's queue."""
    view = discord.ui.View(timeout=None)
    view.add_item(ApprovalButton(guild_id, user_id, "approve"))
    view.add_item(ApprovalButton(guild_id, user_id, "reject"))
    return view


class ProposalButton(SafeButton, template=rf"mship:p:{num('g')}:{num('id')}:(?P<act>accept|decline)"):
    """A side answers a proposal."""

    def __init__(self, guild_id: int, mentorship_id: int, action: str) -> None:
        label, style = (("Accept", discord.ButtonStyle.success) if action == "accept"
                        else ("Decline", discord.ButtonStyle.secondary))
        super().__init__(discord.ui.Button(
            label=label, style=style, custom_id=f"mship:p:{guild_id}:{mentorship_id}:{action}"))
        self.guild_id, self.mentorship_id, self.action = guild_id, mentorship_id, action

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ProposalButton:
        return cls(parse_id(match["g"]), parse_id(match["id"]), match["act"])

    async def run(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        result = await services.mentorship.proposals.respond(self.guild_id, self.mentorship_id,
                                                   interaction.user.id,
                                                   accept=self.action == "accept")
        rooms = outlet_of(interaction.client, "mentorship")
        await interaction.response.edit_message(embed=proposal_embed(result.pairing), view=None,
                                                allowed_mentions=NO_PINGS)
        await rooms.after_response(interaction.user.id, result)


class ApprovalButton(SafeButton, template=rf"mship:lead:{num('g')}:{num('u')}:(?P<act>approve|reject)"):
    """The mentorship lead decides a mentor application."""

    def __init__(self, guild_id: int, user_id: int, action: str) -> None:
        label, style = (("Approve", discord.ButtonStyle.success) if action == "approve"
                        else ("Reject", discord.ButtonStyle.danger))
        super().__init__(discord.ui.Button(
            label=label, style=style, custom_id=f"mship:lead:{guild_id}:{user_id}:{action}"))
        self.guild_id, self.user_id, self.action = guild_id, user_id, action

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ApprovalButton:
        return cls(parse_id(match["g"]), parse_id(match["u"]), match["act"])

    async def run(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        # The Actor is bound to the interaction's guild: a button from another server decides
        # nothing here.
        mentor = await services.mentorship.mentors.decide_mentor(
            self.guild_id, await actor_of(interaction), self.user_id,
            approve=self.action == "approve")
        verdict = "approved ✅" if mentor.status == "active" else "not approved ✖️"
        await interaction.response.edit_message(
            content=f"<@{self.user_id}>'s mentor application was {verdict} by "
                    f"<@{interaction.user.id}>.", view=None, allowed_mentions=NO_PINGS)
        rooms = outlet_of(interaction.client, "mentorship")
        await rooms.dm(self.guild_id, self.user_id, "🧑‍🏫 Your mentor application was "
                       + ("approved: you can now be matched with mentees."
                          if mentor.status == "active" else "not approved this time."))


class BioModal(GatedModal, title="Your mentor profile"):
    """The short bio, asked after the options were checked."""

    bio = discord.ui.TextInput(label="A short bio for mentees", style=discord.TextStyle.paragraph,
                               max_length=500, required=False,
                               placeholder="What you make, how long, how you like to teach")

    def __init__(self, *, guild_id: int, joined_at: datetime | None, options: dict[str, Any]) -> None:
        super().__init__(timeout=None)
        self.guild_id, self.joined_at, self.options = guild_id, joined_at, options

    async def on_submit(self, interaction: discord.Interaction) -> None:
        rooms = outlet_of(interaction.client, "mentorship")
        await rooms.registered(interaction, self.guild_id, self.joined_at, self.options,
                               self.bio.value or None)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="mentor:bio")
