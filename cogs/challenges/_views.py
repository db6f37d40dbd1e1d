"""Modals and buttons of /challenge: answers, custom challenges, gallery votes."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from cogs._shared.ui import GatedModal, SafeButton
from economy.challenges.answers import ANSWER_LIMIT


class _SafeModal(GatedModal):
    """A modal whose failures reach the one error handler."""

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where=type(self).__name__)


class AnswerModal(_SafeModal):
    """One text field: the member's answer. The question is the placeholder (and in /today)."""

    answer: discord.ui.TextInput = discord.ui.TextInput(
        label="Your answer", max_length=ANSWER_LIMIT, custom_id="answer")

    def __init__(self, cog: Any, challenge_id: str, title: str, question: str) -> None:
        super().__init__(title=("Answer: " + title)[:45], timeout=900)
        self.cog, self.challenge_id = cog, challenge_id
        self.answer.placeholder = question[:100]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.answer_from_modal(interaction, self.challenge_id, self.answer.value)


class AddChallengeModal(_SafeModal, title="New challenge"):
    """The texts of a custom challenge; its type, difficulty and reward come from the options."""

    challenge_title: discord.ui.TextInput = discord.ui.TextInput(
        label="Title", min_length=3, max_length=80, custom_id="title")
    description: discord.ui.TextInput = discord.ui.TextInput(
        label="Description (the question, for knowledge)", style=discord.TextStyle.paragraph,
        min_length=3, max_length=300, custom_id="description")
    target: discord.ui.TextInput = discord.ui.TextInput(
        label="Target (how many; activity only)", required=False, max_length=6,
        custom_id="target", placeholder="10")
    answers: discord.ui.TextInput = discord.ui.TextInput(
        label="Accepted answers (knowledge; one per line)", style=discord.TextStyle.paragraph,
        required=False, max_length=1000, custom_id="answers")

    def __init__(self, cog: Any, options: dict) -> None:
        super().__init__(timeout=900)
        self.cog, self.options = cog, options

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.add_from_modal(interaction, self)


class VoteButton(SafeButton, template=r"chvote:(?P<sid>[0-9a-f]{12})"):
    """Persistent 👍 Vote button under a gallery entry (any member but its author, once)."""

    def __init__(self, submission_id: str) -> None:
        super().__init__(discord.ui.Button(label="👍 Vote", style=discord.ButtonStyle.primary,
                                           custom_id=f"chvote:{submission_id}"))
        self.submission_id = submission_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> VoteButton:
        return cls(match["sid"])

    async def run(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("ChallengeCog")  # type: ignore[union-attr]
        await cog.vote_clicked(interaction, self.submission_id)


class AcceptButton(SafeButton, template=r"chaccept:(?P<sid>[0-9a-f]{12})"):
    """Persistent ✅ Accept button for moderators."""

    def __init__(self, submission_id: str) -> None:
        super().__init__(discord.ui.Button(label="✅ Accept (moderators)",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"chaccept:{submission_id}"))
        self.submission_id = submission_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> AcceptButton:
        return cls(match["sid"])

    async def run(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("ChallengeCog")  # type: ignore[union-attr]
        await cog.accept_clicked(interaction, self.submission_id)


def gallery_view(submission_id: str) -> discord.ui.View:
    """The buttons under a gallery entry."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(submission_id))
    view.add_item(AcceptButton(submission_id))
    return view
