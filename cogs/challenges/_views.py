"""Modals of /challenge: answering a knowledge challenge, adding a custom challenge."""

from __future__ import annotations

from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from economy.challenges.answers import ANSWER_LIMIT


class _SafeModal(discord.ui.Modal):
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
